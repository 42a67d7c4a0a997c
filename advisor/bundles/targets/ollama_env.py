"""The environment the Ollama server should run with, each value with its reason; shared by targets."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.bundles.inputs import OLLAMA_PORT, BundleInput
from advisor.bundles.upstream import check_ollama_env

CONTAINER_HOST = (
    f"0.0.0.0:{OLLAMA_PORT}"  # inside a container the port must listen on all interfaces
)


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str
    why: str


def ollama_env(inp: BundleInput, *, host: str | None = None) -> list[EnvVar]:
    """The OLLAMA_* settings in a stable order; checked against the pinned envconfig table."""
    o = inp.ollama
    slots = f"{o.num_parallel} x {o.num_ctx:,} tokens of KV cache"
    items = [
        EnvVar(
            "OLLAMA_HOST",
            host or o.host,
            "loopback only on a personal machine; all interfaces on a shared server",
        ),
        EnvVar("OLLAMA_CONTEXT_LENGTH", str(o.num_ctx), _context_why(inp)),
        EnvVar(
            "OLLAMA_NUM_PARALLEL",
            str(o.num_parallel),
            f"requests decoded together; each slot reserves a full context ({slots})",
        ),
        EnvVar(
            "OLLAMA_MAX_LOADED_MODELS",
            str(o.max_loaded_models),
            "one model per server, so a second model never evicts it",
        ),
        EnvVar(
            "OLLAMA_KEEP_ALIVE",
            o.keep_alive,
            "keep the model in memory ('-1' = forever) so requests never wait for a reload",
        ),
        EnvVar(
            "OLLAMA_FLASH_ATTENTION",
            "1" if o.flash_attention else "0",
            "faster attention on GPUs, and required for a quantized KV cache",
        ),
        EnvVar(
            "OLLAMA_KV_CACHE_TYPE",
            o.kv_cache_type,
            "KV cache precision: f16 is exact, q8_0 halves the KV memory",
        ),
        EnvVar(
            "OLLAMA_MAX_QUEUE",
            str(o.max_queue),
            f"requests waiting beyond this get HTTP 503; sized for {inp.peak_concurrent_users} "
            "peak users",
        ),
    ]
    check_ollama_env({item.name: item.value for item in items})
    return items


def _context_why(inp: BundleInput) -> str:
    num_ctx, asked = inp.ollama.num_ctx, inp.context_length
    if num_ctx >= asked:
        return (
            f"holds the context you asked for ({asked:,} tokens); Ollama's default depends on "
            "VRAM and silently truncates longer prompts"
        )
    return (
        f"sized by the capacity model so {inp.ollama.num_parallel} slots fit in memory; you asked "
        f"for up to {asked:,} tokens, so longer prompts are truncated: lower "
        "OLLAMA_NUM_PARALLEL to raise it"
    )


def env_dict(inp: BundleInput, *, host: str | None = None) -> dict[str, str]:
    return {item.name: item.value for item in ollama_env(inp, host=host)}
