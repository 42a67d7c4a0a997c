"""Weights and KV-cache sizes: the arithmetic both servers share.

Sources: vLLM ``vllm/v1/kv_cache_interface.py`` (``AttentionSpec.page_size_bytes`` =
block_size x num_kv_heads x head_size x 2 (K and V) x dtype bytes; ``MLAAttentionSpec`` stores one
latent of kv_lora_rank + qk_rope_head_dim per token, no factor 2) and
``vllm/model_executor/models/*`` (KV heads per tensor-parallel rank = max(1, kv_heads // tp): heads
are split when there are at least as many as ranks, else replicated).
"""

from __future__ import annotations

import math

from advisor.capacity.specs import ModelSpec, Quantization

# vLLM's default --block-size on CUDA/ROCm (CacheConfig.block_size; vllm/config/cache.py).
BLOCK_SIZE = 16


def weights_bytes(model: ModelSpec, quantization: Quantization) -> int:
    """Bytes of weights for the whole model in ``quantization``.

    A checkpoint that mixes formats (gpt-oss MXFP4 experts + BF16 attention, DeepSeek FP8 blocks) is
    sized by its files on disk when asked for its native format; everything else is
    parameters x bits per weight / 8.
    """
    if model.native_weights_bytes and quantization.id.lower() == model.native_quantization.lower():
        return int(model.native_weights_bytes)
    return int(math.ceil(model.params_total * quantization.bits_per_weight / 8))


# Weight formats whose checkpoints keep the token embedding and the output layer (lm_head) in
# 16-bit: vLLM's FP8 / INT8 / AWQ / GPTQ linear methods quantize linear layers only, and
# VocabParallelEmbedding / ParallelLMHead stay in the model dtype (llm-compressor and AutoAWQ
# skip lm_head by default).
_LINEAR_ONLY_FORMATS = {"fp8", "int8", "awq-int4", "gptq-int4"}
_EMBEDDING_BYTES = 2


def vllm_weights_bytes(model: ModelSpec, quantization: Quantization) -> int:
    """Weights as vLLM loads them ("Model loading took N GiB"), whole model.

    The native checkpoint: what vLLM logged loading it when the catalog has that (MXFP4 experts
    are repacked on GPUs without FP4 units and load larger than their files), else its files.
    A linear-only format (FP8, INT8, AWQ, GPTQ): embedding and lm_head (one matrix when tied) in
    bf16, the rest at the format's bits per weight. Anything else: ``weights_bytes``.
    """
    native = quantization.id.lower() == model.native_quantization.lower()
    if native and model.vllm_loaded_weights_bytes:
        return int(model.vllm_loaded_weights_bytes)
    if native and model.native_weights_bytes:
        return int(model.native_weights_bytes)
    if quantization.id.lower() in _LINEAR_ONLY_FORMATS:
        matrices = 1 if model.tie_word_embeddings else 2
        embedding_params = matrices * model.vocab_size * model.hidden_size
        rest = max(0.0, model.params_total - embedding_params)
        return int(
            math.ceil(embedding_params * _EMBEDDING_BYTES + rest * quantization.bits_per_weight / 8)
        )
    return weights_bytes(model, quantization)


def weights_bytes_per_gpu(total_weights_bytes: int, tensor_parallel_size: int) -> int:
    """Tensor parallelism shards every linear layer and the (vocab-parallel) embedding by ``tp``."""
    return int(math.ceil(total_weights_bytes / max(1, tensor_parallel_size)))


def expert_parallel_weights_per_gpu(
    model: ModelSpec, quantization: Quantization, total_weights_bytes: int, gpus: int
) -> int:
    """Weights one GPU holds under data-parallel attention with expert parallelism over ``gpus``
    (vLLM ``--data-parallel-size N --enable-expert-parallel``): the routed experts are spread over
    the GPUs (``FusedMoE`` keeps ``num_experts / ep_size`` of them, ``determine_expert_map`` in
    ``model_executor/layers/fused_moe/layer.py``), everything else (attention, the bf16 embedding
    and lm_head, shared experts) is whole on each of them. The expert parameters follow from the
    active count as in ``performance.weights_read_per_step`` and are sized at the format's bits:
    they are linear layers, so a linear-only format quantizes them, while the embedding stays in
    16-bit and is part of the replicated rest."""
    if not model.is_moe or gpus <= 1:
        return int(total_weights_bytes)
    experts, active = model.expert_counts
    expert_params = (model.params_total - model.params_active) * experts / (experts - active)
    expert_bytes = min(
        float(total_weights_bytes),
        min(expert_params, model.params_total) * quantization.bits_per_weight / 8,
    )
    return int(math.ceil(total_weights_bytes - expert_bytes + expert_bytes / gpus))


def kv_heads_per_rank(model: ModelSpec, tensor_parallel_size: int) -> int:
    """KV heads one rank stores: split across ranks, replicated once there are more ranks than heads."""
    return max(1, model.num_kv_heads // max(1, tensor_parallel_size))


def kv_bytes_per_token_per_layer(
    model: ModelSpec, kv_dtype_bytes: float, tensor_parallel_size: int = 1
) -> float:
    """KV bytes one token costs in one attention layer on one rank."""
    if model.uses_mla:
        # MLA caches the compressed latent (kv_lora_rank) + the decoupled RoPE key, shared by all
        # heads, so every TP rank holds the full latent (vllm MLAAttentionSpec).
        return sum(model.mla_dims) * kv_dtype_bytes
    heads = kv_heads_per_rank(model, tensor_parallel_size)
    return 2 * heads * model.head_dim * kv_dtype_bytes


def kv_bytes_per_token(model: ModelSpec, kv_dtype_bytes: float) -> int:
    """KV bytes per token of context over every layer of the whole model (no TP split).

    This is the cost of a token inside the sliding window; past the window only the
    ``num_full_layers`` keep paying (see ``kv_bytes_for_context``).
    Llama-3.1-8B in BF16: 2 x 8 heads x 128 x 2 bytes x 32 layers = 131,072 bytes (128 KiB).
    """
    per_layer = kv_bytes_per_token_per_layer(model, kv_dtype_bytes, 1)
    return int(math.ceil(per_layer * model.num_layers))


def kv_bytes_for_context(model: ModelSpec, kv_dtype_bytes: float, tokens: int) -> int:
    """KV bytes one sequence of ``tokens`` holds (whole model), keeping only the window on
    sliding-window layers."""
    per_layer = kv_bytes_per_token_per_layer(model, kv_dtype_bytes, 1)
    window_tokens = min(tokens, model.sliding_window or tokens)
    return int(
        math.ceil(
            per_layer * (model.num_full_layers * tokens + model.num_sliding_layers * window_tokens)
        )
    )


def page_size_bytes(model: ModelSpec, kv_dtype_bytes: float, tensor_parallel_size: int) -> int:
    """One 16-token block of one layer on one rank (vLLM ``page_size_bytes``)."""
    return int(
        math.ceil(
            BLOCK_SIZE * kv_bytes_per_token_per_layer(model, kv_dtype_bytes, tensor_parallel_size)
        )
    )


def valid_tensor_parallel_sizes(model: ModelSpec, max_size: int) -> list[int]:
    """TP sizes up to ``max_size`` vLLM accepts for ``model``.

    vLLM requires the attention heads to divide evenly (``ModelConfig.verify_with_parallel_config``;
    vllm issues 2652, 11797) and the KV heads to either divide by TP or, when TP is larger, TP to be
    a multiple of them so each KV head is replicated evenly (``QKVParallelLinear``).
    """
    sizes = []
    for size in range(1, max(1, max_size) + 1):
        if model.num_attention_heads % size:
            continue
        kv = model.num_kv_heads
        if (kv >= size and kv % size) or (kv < size and size % kv):
            continue
        sizes.append(size)
    return sizes
