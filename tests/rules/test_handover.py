"""What the team takes away: migration steps only for a server that can run here, and the
comparison's vLLM concurrency from the estimate's requests held at the workload's size."""

from __future__ import annotations

import pytest

from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.recommend import recommend
from probes.kinds import Backend

MAC = {"gpu": "apple-m3-max", "platform": "macos", "model": "llama-3.1-8b"}
CPU_ONLY = {"gpu_count": 0, "model": "llama-3.1-8b"}


def _advice(**answers):
    facts = facts_build(Answers.parse(answers))
    return facts, recommend(facts)


@pytest.mark.parametrize(("answers", "reason"), [(MAC, "not available on macOS"),
                                                 (CPU_ONLY, "not available without a GPU")])  # fmt: skip
def test_it_moves_to_vllm_only_as_a_conditional_future_where_vllm_cannot_run(answers, reason):
    _, rec = _advice(**answers, peak_concurrent_users=3)
    migration = rec.migration
    assert rec.backend is Backend.OLLAMA
    assert reason in migration["path"] and migration["vllm"]["unavailable"] == reason
    assert migration["steps"][0].startswith("Here: ollama pull llama3.1:8b")
    assert not any(step.startswith("Start vLLM") for step in migration["steps"])
    vllm_steps = [step for step in migration["steps"] if "vllm serve" in step]
    assert vllm_steps and all(
        step.startswith("If you move to a Linux server with an NVIDIA or AMD GPU")
        for step in vllm_steps
    )
    assert "localhost:8000" not in migration["code_change"]["after"]  # vLLM runs elsewhere
    assert rec.fit["vllm_unavailable"] == reason


def test_it_keeps_start_vllm_next_to_ollama_where_vllm_runs():
    _, rec = _advice(model="llama-3.1-8b", gpu="h100-sxm-80gb", peak_concurrent_users=3)
    assert rec.migration["steps"][0].startswith("Start vLLM next to Ollama: vllm serve")
    assert rec.migration["vllm"]["unavailable"] is None and rec.fit["vllm_unavailable"] is None


def test_it_states_vllm_concurrency_as_the_requests_held_at_the_workloads_size():
    """The comparison says what the warning and the capacity box say: some 590 requests of 768
    tokens on one H100, not 55.5 of the 8192-token max_model_len."""
    facts, rec = _advice(model="llama-3.1-8b", gpu="h100-sxm-80gb", peak_concurrent_users=200,
                         avg_prompt_tokens=512, avg_output_tokens=256, context_length=8192)  # fmt: skip
    held = facts.plan["vllm"]["requests_held"]
    row = next(r for r in rec.comparison if r["aspect"] == "Concurrency")
    assert 500 <= held["held"] <= 700
    assert row["vllm"].startswith(
        f"Continuous batching: {held['held']} requests of 768 tokens (your prompt + output) at once"
    )
    assert "8192" not in row["vllm"]
