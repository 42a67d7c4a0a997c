"""The serving plan: one sizing per server, and every statement reads it (no second sizing)."""

from __future__ import annotations

import pytest
import yaml

from advisor.bundles import build_bundle
from advisor.capacity.estimate import EstimateRequest, estimate
from advisor.capacity.report import estimate_text
from advisor.errors import AdvisorValidationError
from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.recommend import recommend
from probes.kinds import Backend
from tests.rules.factories import H100_REPORT, answers


def _concurrency_row(advice) -> dict:
    return next(row for row in advice.comparison if row["aspect"] == "Concurrency")


def _bundle(advice, facts):
    ans = facts.answers.as_dict()
    ans.update(gpu=(facts.gpu or {}).get("id"), gpu_count=facts.gpu_count)
    return build_bundle(advice.as_dict(), facts.estimate, ans)


def test_it_states_ollama_as_installed_and_as_we_set_it_for_200_users_on_an_h100():
    facts = facts_build(
        answers(model="llama-3.1-8b", peak_concurrent_users=200, use_case="production")
    )
    advice = recommend(facts)
    installed, tuned = facts.plan["ollama_installed"], facts.plan["ollama"]
    assert installed["num_parallel"] == 1 and tuned["num_parallel"] == 4
    row = _concurrency_row(advice)["ollama"]
    assert "As installed: one request at a time" in row
    assert f"as we set it: {tuned['num_parallel']} fixed slots" in row
    reasons = [*advice.decisive, *advice.supporting]
    handful = next(r for r in reasons if r.rule_id == "workload.users_above_handful")
    assert "Ollama as installed serves one request at a time" in handful.message
    assert f"as we would set it ({tuned['num_parallel']} parallel slots)" in handful.message
    # The predicted Ollama levels are Ollama as we set it: 4 running, the rest queued.
    level = facts.predicted(Backend.OLLAMA).at(200)
    assert level["running"] == tuned["num_parallel"]


def test_the_estimate_cli_sets_the_plans_slots_not_one_per_user():
    result = estimate(
        EstimateRequest(model="llama-3.1-8b", gpu="h100", concurrency=(1, 200), peak_users=200)
    ).as_dict()
    text = estimate_text(result)
    assert f"OLLAMA_NUM_PARALLEL={result['plan']['ollama']['num_parallel']}" in text
    assert "OLLAMA_NUM_PARALLEL=200" not in text


def test_a_solo_mac_page_and_bundle_show_the_same_slots_and_memory():
    facts = facts_build(
        answers(
            model="llama-3.1-8b",
            gpu="apple-m3-max",
            platform="macos",
            peak_concurrent_users=1,
            deployment_target="laptop",
        )
    )
    advice = recommend(facts)
    tuned = facts.plan["ollama"]
    assert advice.backend is Backend.OLLAMA
    assert advice.serving["num_parallel"] == tuned["num_parallel"] == 1
    bundle = _bundle(advice, facts)
    setenv = bundle.file("ollama/macos/setenv.sh").content
    assert f"launchctl setenv OLLAMA_NUM_PARALLEL {tuned['num_parallel']}" in setenv
    assert f"{tuned['memory_bytes'] / 1024**3:.1f} GiB" in bundle.file("README.md").content


def test_it_uses_every_gpu_with_data_parallel_replicas():
    """Llama 3.3 70B on 4x A100 80GB for 50 users: two replicas of TP 2, not TP 2 and two idle."""
    facts = facts_build(
        answers(
            model="llama-3.3-70b",
            gpu="a100-sxm-80gb",
            gpu_count=4,
            peak_concurrent_users=50,
            use_case="production",
        )
    )
    advice = recommend(facts)
    plan = facts.plan["vllm"]
    assert advice.backend is Backend.VLLM
    assert (plan["tensor_parallel_size"], plan["data_parallel_size"], plan["gpus_used"]) == (
        2,
        2,
        4,
    )
    assert advice.serving["data_parallel_size"] == 2
    assert "--data-parallel-size 2" in advice.serving["command"]
    bundle = _bundle(advice, facts)
    compose = yaml.safe_load(bundle.file("vllm/compose.nvidia.yaml").content)["services"]["vllm"]
    assert compose["deploy"]["resources"]["reservations"]["devices"][0]["count"] == 4
    command = compose["command"]
    assert command[command.index("--data-parallel-size") + 1] == "2"
    assert not any("add GPUs" in w["message"] for w in advice.warnings)


def test_the_tensor_parallel_size_answered_is_the_plans_and_the_bundles():
    """The same 70B on 4x A100 with --tensor-parallel-size 4: one replica over all four."""
    facts = facts_build(
        answers(
            model="llama-3.3-70b",
            gpu="a100-sxm-80gb",
            gpu_count=4,
            peak_concurrent_users=50,
            use_case="production",
            tensor_parallel_size=4,
            max_num_seqs=128,
        )
    )
    advice = recommend(facts)
    plan = facts.plan["vllm"]
    assert (plan["tensor_parallel_size"], plan["data_parallel_size"]) == (4, 1)
    assert plan["max_num_seqs"] == 128
    assert "--tensor-parallel-size 4" in advice.serving["command"]
    assert "--data-parallel-size" not in advice.serving["command"]
    command = yaml.safe_load(_bundle(advice, facts).file("vllm/compose.nvidia.yaml").content)[
        "services"
    ]["vllm"]["command"]
    assert command[command.index("--tensor-parallel-size") + 1] == "4"
    assert command[command.index("--max-num-seqs") + 1] == "128"


def test_a_pasted_vllm_log_replaces_the_modelled_kv_budget_and_keeps_the_models_error():
    log = "INFO [gpu_worker.py:298] Available KV cache memory: 30.00 GiB\n"
    modelled = facts_build(answers(model="llama-3.1-8b")).plan["vllm"]
    facts = facts_build(answers(model="llama-3.1-8b", vllm_log=log))
    plan = facts.plan["vllm"]
    assert modelled["kv_source"] == "model" and modelled["kv_budget_error_pct"] is None
    assert plan["kv_source"] == "measured" and plan["kv_budget_bytes"] == 30 * 1024**3
    assert plan["modelled_kv_budget_bytes"] == modelled["kv_budget_bytes"]
    expected = (modelled["kv_budget_bytes"] - 30 * 1024**3) / (30 * 1024**3) * 100
    assert plan["kv_budget_error_pct"] == round(expected, 1)
    assert plan["kv_cache_tokens"] < modelled["kv_cache_tokens"]  # sized from the measurement


def test_pasted_ollama_ps_replaces_the_modelled_memory_with_the_error_beside_it():
    table = (
        "NAME           ID              SIZE      PROCESSOR    CONTEXT    UNTIL\n"
        "llama3.1:8b    46e0c10c039e    6.9 GB    100% GPU     8192       4 minutes from now\n"
    )
    facts = facts_build(answers(model="llama-3.1-8b", ollama_ps=table))
    tuned = facts.plan["ollama"]
    assert tuned["memory_source"] == "measured" and tuned["memory_bytes"] == 6_900_000_000
    error = (tuned["modelled_memory_bytes"] - 6.9e9) / 6.9e9 * 100
    assert tuned["memory_error_pct"] == round(error, 1)


def test_a_hardware_report_with_fewer_gpus_than_the_tensor_parallel_size_names_the_answer():
    """The report's four H100s cannot hold --tensor-parallel-size 8: the answer is wrong."""
    parsed = Answers.parse({"tensor_parallel_size": 8}, hardware_report_attached=True)
    with pytest.raises(AdvisorValidationError) as error:
        facts_build(parsed, hardware_report=H100_REPORT)
    assert list(error.value.errors) == ["tensor_parallel_size"]
    assert "exceeds the 4 GPUs" in error.value.message


def test_what_would_fit_chooses_its_own_parallelism_and_ignores_the_readings():
    """Alternatives are other setups: the user's TP and their server's budget do not apply."""
    log = "INFO [gpu_worker.py:298] Available KV cache memory: 1.00 GiB\n"
    facts = facts_build(
        answers(model="llama-3.3-70b", gpu="h100-sxm-80gb", gpu_count=1, vllm_log=log)
    )
    assert facts.plan["vllm"]["kv_source"] == "measured"
    assert any(alt["server"] == "vllm" for alt in facts.alternatives)
