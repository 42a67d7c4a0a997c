"""The ``vllm serve`` argument list, tuned from the estimate; shared by every vLLM target.

Each flag comes with a one-line reason that the README quotes. The API key is never a flag: vLLM
reads ``VLLM_API_KEY`` from its environment when ``--api-key`` is not given
(vllm/entrypoints/serve/middleware/register.py in 0.33.0), so it stays out of ``ps`` and logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.bundles.inputs import VLLM_PORT, BundleInput
from advisor.bundles.upstream import check_vllm_args

API_KEY_ENV = "VLLM_API_KEY"


@dataclass(frozen=True)
class Flag:
    flag: str
    value: str | None
    why: str


def vllm_flags(inp: BundleInput) -> list[Flag]:
    """The tuned flags, in a stable order; checked against the pinned upstream table."""
    v = inp.vllm
    kv = f"{v.kv_cache_tokens:,} KV tokens" if v.kv_cache_tokens else "the KV budget"
    flags = [
        Flag("--host", "0.0.0.0", "listen on every interface inside the container/host"),
        Flag("--port", str(VLLM_PORT), "vLLM's default port, kept so clients need no change"),
        Flag(
            "--tensor-parallel-size",
            str(v.tensor_parallel_size),
            f"the smallest GPU count that holds the weights and divides the heads "
            f"({v.tensor_parallel_size} x {inp.gpu_name or 'GPU'})",
        ),
    ]
    if v.data_parallel_size > 1:
        flags.append(
            Flag(
                "--data-parallel-size",
                str(v.data_parallel_size),
                f"{v.data_parallel_size} replicas of {v.tensor_parallel_size} GPU(s) each, so "
                f"all {v.gpus} GPUs serve",
            )
        )
    flags += [
        Flag(
            "--gpu-memory-utilization",
            f"{v.gpu_memory_utilization:g}",
            "share of each GPU vLLM may take for weights + activations + KV cache",
        ),
        Flag(
            "--max-model-len",
            str(v.max_model_len),
            f"the longest prompt + answer you asked for ({inp.context_length:,} tokens); "
            "a shorter limit leaves more KV blocks for concurrent requests",
        ),
        Flag(
            "--max-num-seqs",
            str(v.max_num_seqs),
            f"requests batched at once; sized to your {inp.peak_concurrent_users} peak users and {kv}",
        ),
    ]
    if v.max_num_batched_tokens:
        flags.append(
            Flag(
                "--max-num-batched-tokens",
                str(v.max_num_batched_tokens),
                "tokens per scheduler step; the capacity model sized the KV budget with it",
            )
        )
    if v.quantization:
        flags.append(
            Flag("--quantization", v.quantization, "weight format chosen in the questionnaire")
        )
    flags.append(
        Flag(
            "--kv-cache-dtype",
            v.kv_cache_dtype,
            "KV cache element type ('auto' = the model's dtype; fp8 halves KV memory)",
        )
    )
    if v.enable_prefix_caching:
        flags.append(
            Flag(
                "--enable-prefix-caching",
                None,
                "reuse KV blocks of shared prefixes (system prompts, chat history)",
            )
        )
    if v.enable_lora:
        flags += [
            Flag("--enable-lora", None, "serve LoRA adapters on the shared base model"),
            Flag("--max-loras", str(v.max_loras), "adapters resident on the GPU at once"),
            Flag("--max-lora-rank", str(v.max_lora_rank), "largest adapter rank accepted"),
        ]
    check_vllm_args(flag_words(flags))
    return flags


def flag_words(flags: list[Flag]) -> list[str]:
    words: list[str] = []
    for item in flags:
        words.append(item.flag)
        if item.value is not None:
            words.append(item.value)
    return words


def serve_args(inp: BundleInput) -> list[str]:
    """``[model, --flag, value, ...]``: what follows ``vllm serve``."""
    words = [inp.hf_repo, *flag_words(vllm_flags(inp))]
    check_vllm_args(words)
    return words
