"""vLLM's start-up arithmetic reproduced against numbers vLLM itself logged."""

import math
from dataclasses import replace

import pytest

from advisor.capacity import kv
from advisor.capacity.catalog import resolve_gpu, resolve_model, resolve_quantization
from advisor.capacity.specs import GIB
from advisor.capacity.vllm import (
    HeldLimit,
    blocks_per_request,
    default_max_num_seqs,
    kv_groups,
    vllm_capacity,
)


def _llama_8b(gpu="h100", **kwargs):
    model = resolve_model("llama-3.1-8b")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    return vllm_capacity(
        model,
        resolve_gpu(gpu),
        tensor_parallel_size=1,
        weights_bytes=weights,
        kv_dtype_bytes=2,
        **kwargs,
    )


def test_it_reproduces_vllm_issue_10517():
    """Llama-3.1-8B BF16 with a 3.81 GiB KV budget: 2 MiB blocks -> 1950 blocks, 1.56x at 20,000
    tokens per request (vllm-project/vllm issue 10517)."""
    capacity = _llama_8b(max_model_len=20000, kv_cache_budget_bytes=int(3.81 * GIB))
    assert capacity.num_gpu_blocks == 1950
    assert capacity.blocks_per_request == math.ceil(20000 / 16)
    assert round(capacity.max_concurrency, 2) == 1.56
    assert capacity.kv_cache_tokens == 1950 * 16
    assert capacity.fits


def test_it_reproduces_a_logged_24gb_start_up():
    """vLLM log, Llama-3.1-8B on a 24 GB GPU: "reserved for KV Cache is 4.60GiB", "# CUDA blocks:
    2356", "Maximum concurrency for 131072 tokens per request: 0.29x", "maximum number of tokens
    that can be stored in KV cache (37696)" -- and the model's full context does not fit. That
    wording is the V0 engine's (before 0.8), which had no null block to hold back."""
    capacity = _llama_8b(gpu="l4", kv_cache_budget_bytes=int(4.60 * GIB), vllm_version="0.6.4")
    assert abs(capacity.num_gpu_blocks - 2356) <= 1  # 4.60 is the log's rounding
    assert round(capacity.max_concurrency, 2) == 0.29
    assert abs(capacity.kv_cache_tokens - 37696) <= 16
    assert not capacity.fits
    assert capacity.max_model_len_that_fits == capacity.num_gpu_blocks * 16
    assert "needs 8,192 blocks" in capacity.notes[0]


def test_it_models_the_memory_terms_vllm_profiles():
    """vLLM 0.6-0.8 log on an 80 GB GPU (no sampler in the profile run yet): total 79.14 GiB x
    0.90 = 71.22 GiB; weights 14.99, non-torch 0.12, activation peak 1.19 -> 54.93 GiB for the KV
    cache."""
    gpu = replace(resolve_gpu("h100"), cuda_total_bytes=int(79.14 * GIB))
    model = resolve_model("llama-3.1-8b")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    capacity = vllm_capacity(
        model,
        gpu,
        tensor_parallel_size=1,
        weights_bytes=weights,
        kv_dtype_bytes=2,
        gpu_memory_utilization=0.9,
        vllm_version="0.8.0",
    )
    assert capacity.requested_memory_bytes / GIB == pytest.approx(71.22, abs=0.01)
    assert capacity.activation_peak_bytes / GIB == pytest.approx(1.19, abs=0.1)
    assert capacity.sampler_peak_bytes == 0 and capacity.cuda_graph_bytes == 0
    assert capacity.kv_cache_bytes / GIB == pytest.approx(54.93, rel=0.02)


def test_it_counts_the_sampler_and_cuda_graphs_in_the_pinned_release():
    """vLLM 0.33.0: 0.92 of the CUDA total; the dummy sampler run over 1024 x 128,256 logits
    (Triton top-k/top-p: 14 B a logit) and the CUDA graph estimate come off the KV budget. 0.9.2
    sorted the logits (37 B a logit) at 0.9, so its budget is GiBs smaller; 0.8.0 profiled no
    sampler at all."""
    model = resolve_model("llama-3.1-8b")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    gpu = resolve_gpu("h100")
    new = vllm_capacity(model, gpu, tensor_parallel_size=1, weights_bytes=weights, kv_dtype_bytes=2)
    old = vllm_capacity(
        model,
        gpu,
        tensor_parallel_size=1,
        weights_bytes=weights,
        kv_dtype_bytes=2,
        vllm_version="0.8.0",
    )
    sorted_ = vllm_capacity(
        model,
        gpu,
        tensor_parallel_size=1,
        weights_bytes=weights,
        kv_dtype_bytes=2,
        vllm_version="0.9.2",
    )
    assert new.vllm_version == "0.33.0" and new.gpu_memory_utilization == 0.92
    assert new.sampler_peak_bytes == 1024 * 128256 * 14
    assert sorted_.sampler_peak_bytes == 1024 * 128256 * 39
    assert new.cuda_graph_bytes > 0
    assert old.gpu_memory_utilization == 0.9 and old.sampler_peak_bytes == 0
    assert sorted_.available_kv_cache_bytes < new.available_kv_cache_bytes
    assert new.available_kv_cache_bytes - sorted_.available_kv_cache_bytes > 3 * GIB


def test_it_groups_hybrid_layers_like_vllm():
    """kv_cache_utils._get_kv_cache_groups_uniform_page_size: Gemma 3 (5:1) -> groups of the global
    layer count; gpt-oss (12:12) and Gemma 2 (21:21) -> one group of each type."""
    groups = kv_groups(resolve_model("gemma-3-270m"))
    assert (groups.layers_per_group, groups.full_groups, groups.sliding_groups) == (3, 1, 5)
    gemma_1b = kv_groups(
        resolve_model("gemma-3-1b")
    )  # 4 global, 22 local -> 6 local groups (padded)
    assert (gemma_1b.layers_per_group, gemma_1b.full_groups, gemma_1b.sliding_groups) == (4, 1, 6)
    oss = kv_groups(resolve_model("gpt-oss-20b"))
    assert (oss.layers_per_group, oss.full_groups, oss.sliding_groups) == (12, 1, 1)
    dense = kv_groups(resolve_model("llama-3.1-8b"))
    assert (dense.layers_per_group, dense.num_groups) == (32, 1)


def test_it_counts_sliding_window_blocks_per_request():
    """SlidingWindowSpec.max_memory_usage_bytes: ceil(min(window - 1 + batched, len) / 16) + 1.
    Gemma 3 270M at 32,768 tokens, 2,048 batched: 2048 full + 5 x (ceil(2559 / 16) + 1) = 2853."""
    model = resolve_model("gemma-3-270m")
    assert blocks_per_request(model, kv_groups(model), 32768, 2048) == 2048 + 5 * 161


def test_it_reports_tokens_per_group_for_hybrid_models():
    """ "GPU KV cache size" = num_blocks // num_groups x 16."""
    model = resolve_model("gemma-3-270m")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    capacity = vllm_capacity(
        model,
        resolve_gpu("l4"),
        tensor_parallel_size=1,
        weights_bytes=weights,
        kv_dtype_bytes=2,
        kv_cache_budget_bytes=GIB,
    )
    page = 16 * 2 * 1 * 256 * 2
    assert capacity.num_gpu_blocks == GIB // page // 3
    assert capacity.kv_cache_tokens == capacity.num_gpu_blocks // 6 * 16


@pytest.mark.parametrize(
    ("gpu", "expected"),
    [("h100", 1024), ("mi300x", 1024), ("a100-sxm-80gb", 256), ("l4", 256), ("rtx-4090", 256)],
)
def test_it_picks_vllms_default_max_num_seqs(gpu, expected):
    """EngineArgs.get_batch_defaults: >= 70 GiB and not an A100 -> 1024, else 256."""
    assert default_max_num_seqs(resolve_gpu(gpu)) == expected


def test_it_says_why_weights_do_not_fit():
    model = resolve_model("llama-3.1-70b")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    capacity = vllm_capacity(
        model,
        resolve_gpu("rtx-4090"),
        tensor_parallel_size=1,
        weights_bytes=weights,
        kv_dtype_bytes=2,
    )
    assert not capacity.fits
    assert capacity.num_gpu_blocks == 0
    assert "exceed" in capacity.notes[0]


def test_it_refuses_vllm_on_apple_gpus():
    model = resolve_model("llama-3.2-1b")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    capacity = vllm_capacity(
        model,
        resolve_gpu("Apple M3 Max"),
        tensor_parallel_size=1,
        weights_bytes=weights,
        kv_dtype_bytes=2,
    )
    assert not capacity.fits
    assert any("Metal" in note for note in capacity.notes)


def test_it_models_the_release_the_product_pins():
    """advisor/releases.py names the vLLM release; the accounting has an entry for exactly it."""
    from advisor.capacity.vllm_memory import RELEASES, release
    from advisor.releases import VLLM_RELEASE

    assert release().version == VLLM_RELEASE
    assert VLLM_RELEASE in {item.version for item in RELEASES}


def test_it_counts_non_torch_memory_where_each_release_takes_its_snapshot():
    """Up to 0.6.4 the CUDA context is counted; 0.6.5-0.10 count NCCL buffers under TP (their
    snapshot precedes the distributed set-up); from 0.11 the snapshot follows it."""
    model = resolve_model("llama-3.1-8b")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    gpu = resolve_gpu("h100")

    def non_torch(version: str, tp: int) -> int:
        capacity = vllm_capacity(
            model,
            gpu,
            tensor_parallel_size=tp,
            weights_bytes=weights,
            kv_dtype_bytes=2,
            vllm_version=version,
        )
        return capacity.non_torch_bytes

    assert non_torch("0.6.4", 1) > non_torch("0.7.3", 1)
    assert non_torch("0.10.1", 2) - non_torch("0.10.1", 1) == int(0.22 * GIB)
    assert non_torch("0.11.0", 2) == non_torch("0.11.0", 1) == non_torch("0.33.0", 2)


def test_it_holds_requests_of_the_workloads_size_not_of_max_model_len():
    """vLLM pages its KV cache: 1950 blocks hold 1.56 requests of 20,000 tokens but 40 of
    768 tokens (512 prompt + 256 output = 48 blocks), and two data-parallel replicas twice that."""
    capacity = _llama_8b(max_model_len=20000, kv_cache_budget_bytes=int(3.81 * GIB))
    held = capacity.requests_held(resolve_model("llama-3.1-8b"), 768, replicas=2)
    assert (held.per_replica, held.slots_per_replica) == (1950 / 48, 40)
    assert (held.held, held.limit) == (80, HeldLimit.KV_CACHE)
    assert held.kv_cache_tokens == 2 * 1950 * 16
    assert held.kv_tokens_needed(200) == 200 * 768


def test_it_rounds_a_request_up_to_whole_blocks():
    capacity = _llama_8b(max_model_len=20000, kv_cache_budget_bytes=int(3.81 * GIB))
    held = capacity.requests_held(resolve_model("llama-3.1-8b"), 770)
    assert held.kv_tokens_per_request == 784  # 49 blocks of 16
    assert held.slots_per_replica == 1950 // 49


def test_it_caps_the_requests_held_at_max_num_seqs():
    capacity = _llama_8b(max_model_len=2048, max_num_seqs=64)
    held = capacity.requests_held(resolve_model("llama-3.1-8b"), 128)
    assert held.per_replica > 64
    assert (held.held, held.limit) == (64, HeldLimit.MAX_NUM_SEQS)


def test_it_names_max_model_len_when_it_is_the_limit():
    """A request longer than --max-model-len is refused; a --max-model-len whose one request does
    not fit the cache stops vLLM from starting, though shorter requests would fit."""
    model = resolve_model("llama-3.1-8b")
    short = _llama_8b(max_model_len=4096)
    refused = short.requests_held(model, 5000)
    assert (refused.held, refused.limit) == (0, HeldLimit.MAX_MODEL_LEN)
    too_long = _llama_8b(max_model_len=131072, kv_cache_budget_bytes=int(3.81 * GIB))
    assert not too_long.fits
    held = too_long.requests_held(model, 768)
    assert (held.held, held.limit) == (0, HeldLimit.MAX_MODEL_LEN)
    assert held.slots_per_replica == 1950 // 48  # what a shorter --max-model-len would hold


def test_it_holds_nothing_when_vllm_does_not_start():
    capacity = _llama_8b(kv_cache_budget_bytes=0)
    held = capacity.requests_held(resolve_model("llama-3.1-8b"), 768)
    assert (held.held, held.limit) == (0, HeldLimit.DOES_NOT_START)
