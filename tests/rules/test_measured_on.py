"""Measurements count only on the hardware they ran on: same GPU model, count, model, quantization."""

from __future__ import annotations

import pytest

from advisor.errors import AdvisorError
from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, same_setup, setup_of
from advisor.rules.recommend import recommend
from tests.rules.factories import load_test, measured_on, setup

H100_8B = {"gpu": "h100", "gpu_count": 1, "model": "llama-3.1-8b", "peak_concurrent_users": 4}
# What the 2-core CPU host's own probe found: no GPU. The servers there ran the same model.
CPU_PROBED = setup_of(gpu=None, gpu_count=0, model="llama3.1:8b")
# Single-stream TPOT p50 15 ms (the factory's levels): about 67 tokens/s, a CPU's, not an H100's.
SWEEPS = [
    load_test("ollama", {1: 2_000, 2: 4_100, 4: 26_000}),
    load_test("vllm", {1: 2_000, 4: 2_500}),
]


def verdict_for(load_tests=()):
    facts = facts_build(Answers.parse(H100_8B), load_tests=load_tests)
    return facts, recommend(facts)


def test_it_leaves_the_h100_predictions_alone_when_the_load_tests_ran_on_a_cpu_host():
    """A CPU host's measurements attached to an H100 questionnaire move nothing, and a warning
    names them."""
    plain_facts, plain = verdict_for()
    facts, rec = verdict_for(measured_on(SWEEPS, CPU_PROBED, source="probe"))
    assert facts.estimate == plain_facts.estimate  # no recalibration: same predicted speeds
    assert not facts.estimate["calibration"]
    assert facts.load_tests == () and len(facts.other_hardware) == 2
    assert rec.backend == plain.backend
    assert [r.rule_id for r in rec.decisive] == [r.rule_id for r in plain.decisive]
    cited = {r.rule_id for r in rec.decisive + rec.supporting + rec.opposing + rec.notes}
    assert not any(rule.startswith("measured.") for rule in cited)
    warning = next(w for w in rec.warnings if w["id"] == "measured_on_other_hardware")
    assert "CPU only" in warning["message"] and "1x NVIDIA H100" in warning["message"]
    assert warning["message"].count("measured on other hardware") == 2
    rows = rec.as_dict()["measurements"]
    assert [row["same_hardware"] for row in rows] == [False, False]
    assert rows[0]["label"].startswith("measured on other hardware (CPU only")


def test_it_calibrates_with_a_load_test_measured_on_the_same_hardware():
    """The same sweep measured on one H100 with the same model recalibrates the prediction."""
    plain_facts, _ = verdict_for()
    here = setup_of(gpu="NVIDIA H100 80GB HBM3", gpu_count=1, model="llama3.1:8b")
    facts, rec = verdict_for(measured_on(SWEEPS, here, source="probe"))
    assert facts.estimate["calibration"] and facts.estimate != plain_facts.estimate
    assert len(facts.load_tests) == 2 and facts.other_hardware == ()
    assert not any(w["id"] == "measured_on_other_hardware" for w in rec.warnings)
    assert all(row["same_hardware"] for row in rec.as_dict()["measurements"])


def test_it_treats_a_result_without_a_record_as_unknown_hardware():
    """Results stored before tests recorded their hardware never calibrate, and say why."""
    plain_facts, _ = verdict_for()
    facts, rec = verdict_for(SWEEPS[:1])
    assert facts.estimate == plain_facts.estimate
    warning = next(w for w in rec.warnings if w["id"] == "measured_on_other_hardware")
    assert "unknown" in warning["message"]
    # A verdict short of "high" confidence says its latencies are unmeasured on this hardware.
    answers = Answers.parse({**H100_8B, "use_case": "internal"})
    unsure = recommend(facts_build(answers, load_tests=SWEEPS[:1]))
    assert unsure.confidence_label != "high"
    unmeasured = next(w for w in unsure.warnings if w["id"] == "unmeasured")
    assert "No load test of this hardware" in unmeasured["message"]


@pytest.mark.parametrize(
    "changed",
    [
        {"gpu": "a100-sxm-80gb"},
        {"gpu_count": 2},
        {"model": "llama-3.1-70b"},
        {"quantization": "fp8"},
        {"gpu": None, "gpu_count": 0},
    ],
)
def test_it_matches_only_the_same_gpu_count_model_and_quantization(changed):
    target = setup(Answers.parse(H100_8B))
    names = {"gpu": "h100", "gpu_count": 1, "model": "llama3.1:8b", "quantization": "auto"}
    same = MeasuredOn(setup_of(**names), MeasuredOnSource.STATED)
    assert same_setup(same, target)  # names as servers and drivers spell them resolve alike
    other = MeasuredOn(setup_of(**{**names, **changed}), MeasuredOnSource.PROBE)
    assert not same_setup(other, target)
    assert not same_setup(None, target)


def test_it_round_trips_the_record_and_refuses_a_malformed_one():
    record = MeasuredOn(setup_of(gpu="h100", gpu_count=2, model="x/y"), MeasuredOnSource.PROBE)
    assert MeasuredOn.from_dict(record.as_dict()) == record
    assert (
        record.as_dict()["label"]
        == "2x NVIDIA H100 SXM 80GB, x/y, auto quantization; from the probe of its host"
    )
    with pytest.raises(AdvisorError) as info:
        MeasuredOn.from_dict({"gpu": "h100"})
    assert info.value.field == "measured_on"
    with pytest.raises(AdvisorError) as info:
        setup_of(gpu="h999", gpu_count=1, model="llama3.1:8b")
    assert info.value.field == "measured_on.gpu"
