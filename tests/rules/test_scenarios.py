"""Scenarios from the decision guidance, through the real capacity model: backend and cited rules.

Each row: answers (plus a hardware report or load tests where the scenario has them), the backend
the guidance gives, the rules that must be decisive, and rules that must be cited anywhere.
"""

from __future__ import annotations

from unittest import mock

import pytest

from advisor.capacity import estimate as capacity
from advisor.rules import verdict, what_ifs
from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.recommend import recommend
from tests.rules.factories import load_test, measured_on, setup

TEAM = {"use_case": "internal", "team_skills": ["python", "docker"]}
COLLAPSE = load_test("ollama", {1: 2_000, 2: 4_100, 4: 26_000})
HOLDS = load_test("ollama", {1: 2_000, 2: 2_300, 4: 2_900, 8: 5_800})
# The real-engines demo's shape on a CPU: llama.cpp queues (p95 grows with users), vLLM batches.
LLAMACPP_QUEUES = load_test("llamacpp", {1: 2_000, 4: 8_000, 8: 16_000})
VLLM_CPU_BATCHES = load_test("vllm", {1: 2_100, 4: 2_600, 8: 3_000})
CPU_HOST = {"gpu_count": 0, "model": "gemma3:270m", "peak_concurrent_users": 8, **TEAM}

SCENARIOS = [
    # id, answers, load tests, backend, decisive, also cited
    ("solo developer on a Mac", {"gpu": "apple-m3-max", "deployment_target": "laptop"}, (),
     "ollama", {"constraint.macos"}, {"workload.single_user", "operations.laptop"}),
    ("200 users on one H100 with an 8B model",
     {"gpu": "h100", "model": "llama3.1:8b", "peak_concurrent_users": 200, "use_case": "production"}, (),
     "vllm", {"workload.users_above_handful"},
     {"workload.users_many", "workload.users_beyond_ollama", "hardware.server_gpu", "cost.vllm_cheaper"}),
    ("70B on 4x A100", {"model": "llama-3.1-70b", "gpu": "a100-sxm-80gb", "gpu_count": 4, **TEAM}, (),
     "vllm", {"constraint.tensor_parallel"}, {"hardware.server_gpu"}),
    ("CPU-only laptop", {"gpu_count": 0, "model": "qwen2.5:3b", "deployment_target": "laptop"}, (),
     "ollama", {"constraint.cpu_only"}, {"operations.laptop", "operations.no_python_docker"}),
    ("10 LoRA adapters for three users",
     {"gpu": "l40s", "lora_adapters": 10, "peak_concurrent_users": 3, **TEAM}, (),
     "vllm", {"features.multi_lora"}, {"workload.few_users"}),
    ("measured latency collapse at four users",
     {"gpu": "rtx-4090", "peak_concurrent_users": 4, **TEAM}, (COLLAPSE,),
     "vllm", {"measured.collapse"}, {"measured.degraded", "workload.few_users"}),
    ("measured: Ollama holds four users",
     {"gpu": "rtx-4090", "peak_concurrent_users": 4, **TEAM}, (HOLDS,),
     "ollama", {"measured.ollama_holds"}, {"workload.few_users"}),
    ("close call: a handful of users (4)", {"gpu": "rtx-4090", "peak_concurrent_users": 4, **TEAM}, (),
     "ollama", {"workload.few_users"}, {"hardware.consumer_gpu"}),
    ("close call: just above a handful (5)", {"gpu": "rtx-4090", "peak_concurrent_users": 5, **TEAM}, (),
     "vllm", {"workload.users_above_handful"}, {"hardware.consumer_gpu"}),
    ("a Mac asked to serve 30 users", {"gpu": "apple-m3-max", "peak_concurrent_users": 30, **TEAM}, (),
     "ollama", {"constraint.macos"}, {"workload.users_above_handful"}),
    ("prototype on a Windows gaming PC",
     {"gpu": "rtx-4090", "platform": "windows", "use_case": "prototype"}, (),
     "ollama", {"workload.single_user"}, {"operations.windows", "workload.prototype"}),
    ("three users who need metrics on Kubernetes",
     {"gpu": "l40s", "peak_concurrent_users": 3, "features": ["metrics", "kubernetes"],
      "deployment_target": "kubernetes", **TEAM}, (),
     "vllm", {"features.metrics", "features.kubernetes"}, {"workload.few_users"}),
    ("production chat with latency targets on an A100",
     {"gpu": "a100-sxm-80gb", "peak_concurrent_users": 40, "use_case": "production",
      "slo_ttft_ms": 1_000, "slo_e2e_p95_ms": 15_000, "team_skills": ["python", "docker"]}, (),
     "vllm", {"workload.users_above_handful"}, {"workload.production_slos", "workload.predicted_slo_miss"}),
    ("CPU only, eight users, only llama.cpp measured", CPU_HOST, (LLAMACPP_QUEUES,),
     "ollama", {"constraint.cpu_only"}, {"workload.users_above_handful", "measured.degraded"}),
    ("CPU only, eight users, vLLM measured serving here", CPU_HOST, (LLAMACPP_QUEUES, VLLM_CPU_BATCHES),
     "vllm", {"workload.users_above_handful"}, {"measured.degraded"}),
    ("405B on a single H100", {"gpu": "h100", "model": "llama-3.1-405b", "peak_concurrent_users": 50}, (),
     "vllm", {"workload.users_above_handful"}, set()),
]  # fmt: skip


def run(answers: dict, load_tests=()):
    """The verdict, with the load tests measured on the answers' own hardware."""
    parsed = Answers.parse(answers)
    facts = facts_build(parsed, load_tests=measured_on(load_tests, setup(parsed)))
    return facts, recommend(facts)


@pytest.mark.parametrize(
    ("answers", "load_tests", "backend", "decisive", "cited"),
    [pytest.param(*row[1:], id=row[0]) for row in SCENARIOS],
)
def test_it_decides_each_scenario_from_the_guidance(answers, load_tests, backend, decisive, cited):
    _, rec = run(answers, load_tests)
    assert rec.backend.value == backend
    decisive_ids = {r.rule_id for r in rec.decisive}
    assert decisive <= decisive_ids, decisive_ids
    everything = {r.rule_id for r in rec.decisive + rec.supporting + rec.opposing + rec.notes}
    assert cited <= everything, everything
    assert all(r.evidence for r in rec.decisive)


def test_it_lets_a_measured_vllm_run_on_this_cpu_lift_the_cpu_only_constraint():
    """A vLLM CPU run that served requests here disproves "vLLM needs a GPU"; one that failed does not."""
    _, measured = run(CPU_HOST, (LLAMACPP_QUEUES, VLLM_CPU_BATCHES))
    assert "constraint.cpu_only" not in {r["rule_id"] for r in measured.as_dict()["decisive"]}
    all_failed = load_test("vllm", {1: 2_100}, failed={1: 20})
    _, failed_run = run(CPU_HOST, (LLAMACPP_QUEUES, all_failed))
    assert failed_run.backend == "ollama"
    assert "constraint.cpu_only" in {r["rule_id"] for r in failed_run.as_dict()["decisive"]}


def test_it_warns_a_mac_with_many_users_with_both_numbers():
    _, rec = run({"gpu": "apple-m3-max", "peak_concurrent_users": 30, **TEAM})
    warning = next(w for w in rec.warnings if w["id"] == "sole_option_many_users")
    assert "Ollama is the only option" in warning["message"]
    assert "predicted p95" in warning["message"]
    assert (
        "a Linux server with NVIDIA H100 SXM 80GB and vLLM would give about" in warning["message"]
    )


def test_it_says_what_would_fit_when_nothing_does():
    facts, rec = run({"gpu": "h100", "model": "llama-3.1-405b", "peak_concurrent_users": 50})
    assert rec.fit["fits_at_all"] is False
    kinds = {(a["server"], a["kind"]) for a in facts.alternatives}
    assert ("vllm", "gpus_and_quantization") in kinds or ("vllm", "gpus") in kinds
    assert any(kind == "model" for _, kind in kinds)
    warning = next(w for w in rec.warnings if w["id"] == "does_not_fit")
    assert "What would:" in warning["message"] and "Llama 3.1 70B" in warning["message"]
    assert all(alt["message"] for alt in rec.fit["alternatives"])


def test_it_sizes_a_mac_from_the_memory_its_report_measured():
    report = {"host": {"os": "Darwin"}, "memory": {"total_bytes": 16 * 1024**3},
              "gpus": [{"vendor": "apple", "name": "Apple M3 Max", "catalog_id": "apple-m3-max",
                        "memory_total_bytes": 16 * 1024**3, "unified_memory": True}]}  # fmt: skip
    answers = Answers.parse({"model": "llama-3.1-70b"}, hardware_report_attached=True)
    facts = facts_build(answers, hardware_report=report)
    assert facts.platform.value == "macos"
    assert facts.gpu["memory_bytes"] == 16 * 1024**3
    rec = recommend(facts)
    assert rec.backend.value == "ollama"
    assert rec.fit["fits"] is False  # 70B does not fit 16 GB: say so
    assert any(w["id"] in {"does_not_fit", "chosen_does_not_fit"} for w in rec.warnings)


def test_it_calibrates_the_prediction_with_measured_single_stream_speed():
    answers = Answers.parse({"gpu": "rtx-4090", "peak_concurrent_users": 2})
    plain = facts_build(answers)
    sweep = measured_on([load_test("ollama", {1: 2_000, 2: 4_000})], setup(answers))
    measured = facts_build(answers, load_tests=sweep)
    assert measured.estimate["calibration"] and not plain.estimate["calibration"]


def test_it_advises_on_a_custom_model_sized_from_its_config():
    from tests.rules.test_answers import LLAMA_8B_CONFIG

    answers = Answers.parse({"gpu": "h100", "model": "acme/chat-8b", "custom_model": LLAMA_8B_CONFIG,
                             "peak_concurrent_users": 100})  # fmt: skip
    facts, rec = run_facts(answers)
    assert facts.model["id"] == "custom:acme/chat-8b"
    assert 14 < facts.estimate["weights_bytes"] / 1024**3 < 16  # ~8B parameters in bf16
    assert rec.backend.value == "vllm"
    assert rec.migration["vllm"]["model"] == "acme/chat-8b"


def run_facts(answers: Answers):
    facts = facts_build(answers)
    return facts, recommend(facts)


def test_it_lets_a_pc_gpu_in_the_answers_override_a_mac_report():
    report = {"host": {"os": "Darwin"}, "memory": {"total_bytes": 16 * 1024**3}, "gpus": []}
    facts = facts_build(Answers.parse({"gpu": "l40s"}), hardware_report=report)
    assert facts.platform.value == "linux" and facts.gpu["id"] == "l40s"


# Work bounds (a guard against repeated work creeping back, not a timing test). Measured on these
# scenarios: 1-8 capacity-model runs, 28 for 405B on one H100 at 50 users (the user's load, 3
# smaller Ollama sizings, and the "what would fit" search, which under vLLM 0.33's accounting tries
# one configuration more than under the old one); 2-33 re-decisions (what-ifs) and 0-5 capacity-model
# runs (the switch triggers' hardware what-ifs) per verdict.
MAX_ESTIMATES = 8  # the user's load, 3 smaller Ollama sizings, a reference server (1, 2, 4, 8 GPUs)
MAX_ESTIMATES_WHAT_WOULD_FIT = 28  # plus the "what would fit" search, each configuration once
# Users flip point (gallop + bisect, ~5-17), up to 16 one-answer what-ifs, each probed again when
# users alone never flip it (with up to 2 of their flip points searched), 1-3 measured.
MAX_WHAT_IF_DECISIONS = 60
# vLLM: a Mac what-if (a bisection over Mac memory sizes), "fits one GPU" candidates and the
# facts_build of the one chosen (its load and 3 smaller Ollama sizings, nothing to search: it fits).
# Ollama: the reference server when facts_build made none.
# And the users searches: each count probed is built again as a re-run would build it (the load
# and up to 3 smaller Ollama sizings, nothing else): the main flip point (gallop + bisect) and,
# when users alone never flip it, up to 2 combined ones; 50 at most in these scenarios.
USERS_SEARCH_ESTIMATES = 64
MAX_TRIGGER_ESTIMATES = (
    max(
        what_ifs.MAX_MAC_ESTIMATES + what_ifs.MAX_ONE_GPU_CANDIDATES + 4,
        what_ifs.MAX_GPU_SERVER_ESTIMATES,
    )
    + USERS_SEARCH_ESTIMATES
)


@pytest.mark.parametrize(
    ("answers", "load_tests"), [pytest.param(*row[1:3], id=row[0]) for row in SCENARIOS]
)
def test_it_bounds_the_work_behind_each_verdict(answers, load_tests):
    with mock.patch.object(capacity, "estimate", wraps=capacity.estimate) as estimates:
        parsed = Answers.parse(answers)
        facts = facts_build(parsed, load_tests=measured_on(load_tests, setup(parsed)))
    bound = MAX_ESTIMATES if not facts.alternatives else MAX_ESTIMATES_WHAT_WOULD_FIT
    assert estimates.call_count <= bound
    with (
        mock.patch.object(verdict, "evaluate", wraps=verdict.evaluate) as decisions,
        mock.patch.object(capacity, "estimate", wraps=capacity.estimate) as trigger_estimates,
    ):
        recommend(facts)
    assert decisions.call_count <= 1 + MAX_WHAT_IF_DECISIONS  # the verdict, then the what-ifs
    assert trigger_estimates.call_count <= MAX_TRIGGER_ESTIMATES
