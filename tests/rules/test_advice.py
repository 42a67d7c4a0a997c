"""Warnings about vLLM's concurrency, through the real capacity model: sized at the workload's
own requests (prompt + output), since vLLM pages its KV cache."""

from __future__ import annotations

from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.recommend import recommend
from probes.kinds import Backend
from tests.rules.factories import load_test, measured_on, setup

PRODUCTION = {"use_case": "production", "team_skills": ["python", "docker"]}
VLLM_WARNINGS = {"vllm_kv_capacity", "vllm_max_num_seqs", "vllm_max_model_len"}


def _advice(**answers):
    facts = facts_build(Answers.parse({**PRODUCTION, **answers}))
    return facts, recommend(facts)


def _warning(rec, wid):
    found = [w for w in rec.warnings if w["id"] == wid]
    return found[0]["message"] if found else None


def test_it_does_not_warn_when_the_workloads_requests_fit_the_kv_cache():
    """200 users of 512 + 256 tokens on one H100 with an 8B model need 153,600 of its ~454k KV
    tokens: paged, they all run at once, though 200 requests of the full 8192 tokens would not."""
    facts, rec = _advice(model="llama-3.1-8b", gpu="h100-sxm-80gb", gpu_count=1,
                         peak_concurrent_users=200, avg_prompt_tokens=512, avg_output_tokens=256,
                         context_length=8192)  # fmt: skip
    vllm = facts.vllm_estimate()
    assert rec.backend is Backend.VLLM
    assert vllm["max_concurrency"] < 200 <= facts.plan["vllm"]["requests_held"]["held"]
    assert not VLLM_WARNINGS & {w["id"] for w in rec.warnings}


def test_it_warns_with_the_workloads_numbers_when_the_kv_cache_really_runs_out():
    """Llama 3.3 70B on 2x A100 (one TP-2 engine): about 40k KV tokens hold some 15 requests of
    2000 + 500 tokens (157 blocks each); 200 users need 502,400."""
    facts, rec = _advice(model="llama-3.3-70b", gpu="a100-sxm-80gb", gpu_count=2,
                         peak_concurrent_users=200, avg_prompt_tokens=2000, avg_output_tokens=500,
                         context_length=8192)  # fmt: skip
    held = facts.plan["vllm"]["requests_held"]
    message = _warning(rec, "vllm_kv_capacity")
    n = held["held"]
    assert rec.backend is Backend.VLLM and 10 <= n <= 20
    assert f"holds {n} requests of 2,500 tokens (2,000 prompt + 500 output)" in message
    assert f"need about 502,400 KV tokens, it has {held['kv_cache_tokens']:,}" in message
    assert f"The other {200 - n} ({(200 - n) / 200:.0%}) wait" in message
    assert "--kv-cache-dtype fp8" in message and "GPUs in all" in message
    assert "--max-model-len" not in message  # not the limit here


def test_it_says_when_max_num_seqs_is_the_limit():
    """A 1B model on an H200: the KV cache has room for tens of thousands of 128-token requests,
    vLLM's default max_num_seqs (1024) runs the first 1024 of 3000."""
    _, rec = _advice(model="llama-3.2-1b", gpu="h200-141gb", gpu_count=1,
                     peak_concurrent_users=3000, avg_prompt_tokens=64, avg_output_tokens=64,
                     context_length=2048)  # fmt: skip
    message = _warning(rec, "vllm_max_num_seqs")
    assert "at most 1,024 requests at once per replica" in message
    assert "raise --max-num-seqs to 3,000" in message
    assert _warning(rec, "vllm_kv_capacity") is None


def test_it_says_when_max_model_len_is_the_limit():
    """An 8B model on one 24 GB GPU with --max-model-len 131072: vLLM refuses to start (one such
    request does not fit its ~46k KV tokens), while the 768-token requests would fit by dozens."""
    facts, rec = _advice(model="llama-3.1-8b", gpu="rtx-4090", gpu_count=1,
                         peak_concurrent_users=50, context_length=131072,
                         features=["multi_lora"])  # fmt: skip
    longest = facts.vllm_estimate()["max_model_len_that_fits"]
    message = _warning(rec, "vllm_max_model_len")
    assert rec.backend is Backend.VLLM
    assert "refuses to start with 131072" in message
    assert f"at most {longest:,} tokens" in message
    assert f"with --max-model-len {longest // 1024 * 1024} it starts and holds about " in message


def test_it_asks_for_more_kv_space_not_gpus_on_vllms_cpu_build():
    """CPU only, with vLLM measured serving there: its KV cache is VLLM_CPU_KVCACHE_SPACE (4 GiB,
    32,768 tokens = 42 requests of 768 tokens), so 100 users need RAM for it, not GPUs."""
    vllm_cpu = load_test("vllm", {1: 2_100, 4: 2_600, 8: 3_000})
    llamacpp = load_test("llamacpp", {1: 2_000, 4: 8_000, 8: 16_000})
    answers = Answers.parse({**PRODUCTION, "model": "llama-3.1-8b", "gpu_count": 0,
                             "peak_concurrent_users": 100})  # fmt: skip
    tests = measured_on([vllm_cpu, llamacpp], setup(answers))
    rec = recommend(facts_build(answers, load_tests=tests))
    message = _warning(rec, "vllm_kv_capacity")
    assert rec.backend is Backend.VLLM
    assert "holds 42 requests of 768 tokens" in message
    assert "set VLLM_CPU_KVCACHE_SPACE to about 10 (GiB of RAM; 4 here)" in message
    assert "GPU" not in message.replace("GiB", "")
