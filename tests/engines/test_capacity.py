"""The capacity model sizes the real vLLM's KV cache as vLLM itself did at start-up.

`make engines` starts vLLM with VLLM_CPU_KVCACHE_SPACE=2 (GiB) and --max-model-len 2048; vLLM
logs "CPU KV cache size: N tokens" and "Maximum concurrency for 2,048 tokens per request: X".
The capacity model, given the same 2 GiB budget, should land within 10% of both.

The model sizes the KV cache in the model's 16-bit type (vLLM's `--kv-cache-dtype auto` on a GPU
or an AVX-512 CPU). On the AVX2 code path `make engines` runs vLLM in float32 (docs/engines.md),
and vLLM's cache then holds each value in 4 bytes: half the tokens in the same budget.
"""

from __future__ import annotations

import re

import pytest

from advisor.capacity.estimate import estimate
from advisor.capacity.request import EstimateRequest
from tests.engines.conftest import CACHE

pytestmark = pytest.mark.engines

KV_BUDGET_GIB = 2  # engines/common.sh VLLM_KVCACHE_GIB
MAX_MODEL_LEN = 2048  # engines/common.sh VLLM_MAX_MODEL_LEN
# vllm/v1/core/kv_cache_utils.py logs these (GPU or CPU as the device).
KV_TOKENS = re.compile(r"KV cache size: ([\d,]+) tokens")
CONCURRENCY = re.compile(r"Maximum concurrency for [\d,]+ tokens per request: ([\d.]+)x")
# vllm/v1/engine/core.py logs the engine's config at start: "... dtype=torch.bfloat16, ..."
DTYPE = re.compile(r"\bdtype=torch\.(\w+)")
BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


def last(pattern: re.Pattern, text: str) -> float:
    found = pattern.findall(text)
    if not found:
        pytest.fail(f"vLLM's log has no line matching {pattern.pattern!r}")
    return float(found[-1].replace(",", ""))


def test_it_predicts_the_kv_cache_vllm_allocated(engines):
    log = (CACHE / "logs" / "vllm.log").read_text(errors="replace")
    vllm_tokens, vllm_concurrency = last(KV_TOKENS, log), last(CONCURRENCY, log)
    dtypes = DTYPE.findall(log)
    assert dtypes, "vLLM's log names no dtype"
    # Tokens the same budget holds in 16 bits: what the capacity model predicts.
    scale = BYTES[dtypes[-1]] / 2
    vllm_tokens, vllm_concurrency = vllm_tokens * scale, vllm_concurrency * scale
    predicted = estimate(
        EstimateRequest(
            model="gemma-3-270m",
            gpu=None,
            gpu_count=0,
            max_model_len=MAX_MODEL_LEN,
            kv_cache_budget_gib=KV_BUDGET_GIB,
            concurrency=(1, 8),
            avg_prompt_tokens=64,
            avg_output_tokens=32,
        )
    ).as_dict()["vllm"]
    print(
        f"KV tokens in 16 bits (vLLM ran {dtypes[-1]}): vLLM {vllm_tokens:.0f}, "
        f"model {predicted['kv_cache_tokens']}; "
        f"max concurrency: vLLM {vllm_concurrency}, model {predicted['max_concurrency']}"
    )
    assert predicted["kv_cache_tokens"] == pytest.approx(vllm_tokens, rel=0.1)
    assert predicted["max_concurrency"] == pytest.approx(vllm_concurrency, rel=0.1)
