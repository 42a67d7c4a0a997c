"""Weights and KV sizes against hand-worked numbers (sources in each test's docstring)."""

import pytest

from advisor.capacity import kv
from advisor.capacity.catalog import resolve_model, resolve_quantization
from advisor.capacity.specs import GB, GIB


def test_it_sizes_llama_3_1_8b_kv_at_128_kib_per_token():
    """2 (K,V) x 8 KV heads x 128 dims x 2 bytes x 32 layers = 131,072 B (vllm issue 10517)."""
    model = resolve_model("llama-3.1-8b")
    assert kv.kv_bytes_per_token(model, 2) == 128 * 1024
    # One 16-token block over all 32 layers is 2 MiB.
    assert kv.page_size_bytes(model, 2, 1) * model.num_layers == 2 * 1024 * 1024


def test_it_halves_kv_with_fp8():
    model = resolve_model("llama-3.1-8b")
    assert kv.kv_bytes_per_token(model, 1) == 64 * 1024


def test_it_sizes_mla_as_one_latent_per_layer():
    """DeepSeek-V3: (kv_lora_rank 512 + qk_rope_head_dim 64) x 2 bytes x 61 layers, not split by TP."""
    model = resolve_model("deepseek-v3")
    assert kv.kv_bytes_per_token(model, 2) == (512 + 64) * 2 * 61
    assert kv.kv_bytes_per_token_per_layer(model, 2, 8) == (512 + 64) * 2


def test_it_keeps_only_the_window_on_sliding_layers():
    """Gemma 3 270M: 1 KV head x 256 dims x 2 x 2 B = 1 KiB per layer-token; 3 global + 15 local
    layers with a 512-token window, so 4,096 tokens cost 3 x 4096 + 15 x 512 KiB."""
    model = resolve_model("gemma-3-270m")
    assert (model.num_full_layers, model.num_sliding_layers) == (3, 15)
    assert kv.kv_bytes_for_context(model, 2, 4096) == (3 * 4096 + 15 * 512) * 1024
    # Inside the window every layer pays.
    assert kv.kv_bytes_for_context(model, 2, 100) == 18 * 100 * 1024


def test_it_splits_kv_heads_over_tp_and_replicates_past_their_count():
    model = resolve_model("llama-3.1-8b")  # 8 KV heads
    assert kv.kv_heads_per_rank(model, 2) == 4
    assert kv.kv_heads_per_rank(model, 16) == 1


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("llama-3.1-8b", [1, 2, 4, 8]),  # 32 heads, 8 KV heads
        ("qwen2.5-7b", [1, 2, 4]),  # 28 heads, 4 KV heads: 7 divides 28 but not the 4 KV heads
        ("phi-4", [1, 2, 5]),  # 40 heads, 10 KV heads
    ],
)
def test_it_lists_only_tp_sizes_that_divide_the_heads(model_id, expected):
    assert kv.valid_tensor_parallel_sizes(resolve_model(model_id), 8) == expected


def test_it_sizes_weights_from_parameters_and_bits():
    """Llama-3.1-8B: 8.03e9 x 2 B = 16.06 GB (vLLM logs "model weights take 14.99GiB")."""
    model = resolve_model("llama-3.1-8b")
    weights = kv.weights_bytes(model, resolve_quantization("bf16"))
    assert weights == 16_060_000_000
    assert abs(weights / GIB - 14.99) < 0.05
    q4 = kv.weights_bytes(model, resolve_quantization("Q4_K_M"))
    assert q4 == pytest.approx(8.03e9 * 4.85 / 8, rel=1e-6)
    assert kv.weights_bytes_per_gpu(weights, 4) == weights // 4


def test_it_uses_the_checkpoint_size_for_mixed_native_formats():
    """gpt-oss-20b ships MXFP4 experts + BF16 attention: 13.76 GB on disk."""
    model = resolve_model("gpt-oss-20b")
    assert kv.weights_bytes(model, resolve_quantization("mxfp4")) == 13_761_300_984
    assert kv.weights_bytes(model, resolve_quantization("bf16")) == pytest.approx(
        41.8 * GB, rel=1e-3
    )


def test_it_keeps_the_bf16_embedding_whole_on_every_expert_parallel_gpu():
    """Qwen3-Coder-480B FP8 over 8 GPUs: 1/8 of the FP8 experts plus the whole attention and the
    16-bit embedding and lm_head (3.5 GiB) on each, about 67 GiB; splitting the bytes by the
    parameter share would give 65.6 GiB and call vLLM's refused 0.95 start-up a fit."""
    model = resolve_model("qwen3-coder-480b-a35b")
    fp8 = resolve_quantization("fp8")
    total = kv.vllm_weights_bytes(model, fp8)
    per_gpu = kv.expert_parallel_weights_per_gpu(model, fp8, total, 8)
    experts, active = model.expert_counts
    expert_bytes = (model.params_total - model.params_active) * experts / (experts - active)
    assert per_gpu == pytest.approx(total - expert_bytes * 7 / 8, rel=1e-9)
    assert 66.5 * GIB < per_gpu < 67.5 * GIB
    assert kv.expert_parallel_weights_per_gpu(model, fp8, total, 1) == total
