"""The hardware a verdict is sized for: answers win over an attached report, and say so."""

from __future__ import annotations

from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.hardware import answers_override_report
from advisor.rules.recommend import recommend
from tests.rules.factories import answers

VM_WITHOUT_GPU = {"host": {"hostname": "vm", "os": "linux"}, "gpus": []}
ONE_H100 = {
    "host": {"hostname": "gpu-box", "os": "linux"},
    "gpus": [{"name": "NVIDIA H100 80GB HBM3", "memory_total_bytes": 85520809984}],
}


def test_it_warns_when_typed_gpus_override_a_report_that_found_none():
    message = answers_override_report(answers(gpu="h100-sxm-80gb", gpu_count=1), VM_WITHOUT_GPU)
    assert message is not None
    assert "1x NVIDIA H100" in message and "(vm) found no usable GPU" in message
    assert "The answers were used" in message and "detach the report" in message


def test_it_says_nothing_when_the_answers_and_the_report_agree_or_nothing_is_attached():
    assert answers_override_report(answers(gpu="h100-sxm-80gb", gpu_count=1), ONE_H100) is None
    assert answers_override_report(answers(gpu="h100-sxm-80gb", gpu_count=1), None) is None
    # No GPU answer: the report fills it in, nothing is overridden.
    from_report = Answers.parse({}, hardware_report_attached=True)
    assert answers_override_report(from_report, VM_WITHOUT_GPU) is None


def test_it_warns_when_cpu_only_is_answered_beside_a_report_with_a_gpu():
    message = answers_override_report(answers(gpu=None, gpu_count=0), ONE_H100)
    assert message is not None and "no GPU (CPU only)" in message and "1x NVIDIA H100" in message


def test_the_warning_reaches_the_recommendation():
    facts = facts_build(answers(gpu="h100-sxm-80gb", gpu_count=1), hardware_report=VM_WITHOUT_GPU)
    advice = recommend(facts)
    assert any(w["id"] == "answers_override_report" for w in advice.warnings)
