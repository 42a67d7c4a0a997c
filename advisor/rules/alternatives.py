"""What would fit when the asked configuration does not, and vLLM on a reference server (pure).

``find_alternatives`` tries, fewest changes first, a smaller quantization, more GPUs (vLLM tensor
parallelism), a bigger GPU of the same vendor and a smaller model of the same family, each
configuration estimated once. ``reference_server`` sizes vLLM on the reference Linux GPU for the
warning to Mac and CPU-only teams with many users.
"""

from __future__ import annotations

from typing import Any

from advisor.capacity import catalog
from advisor.errors import AdvisorError
from advisor.rules.answers import Answers
from advisor.rules.sizing import fits, run_estimate
from advisor.rules.thresholds import REFERENCE_GPU

# Quantizations tried, smallest last, when the model does not fit vLLM / Ollama as asked.
VLLM_SMALLER_FORMATS = ("fp8", "awq-int4")
OLLAMA_SMALLER_FORMATS = ("Q4_K_M", "Q4_0")
TP_SIZES = (2, 4, 8)  # vLLM tensor-parallel sizes on one node


Tried = dict[tuple[Any, Any, int, str], dict[str, Any] | None]  # configuration -> its estimate


def _try(
    answers: Answers, model: Any, gpu: Any, count: int, quant: str, server: str, tried: Tried
) -> dict[str, Any] | None:
    """The estimate at one user if the configuration fits ``server``, else None. ``tried`` holds
    the estimates already made in this search: vLLM and Ollama try the same bigger GPUs and
    smaller models, so each configuration is estimated once (405B on one H100: facts_build runs
    the capacity model 24 times instead of 30)."""
    key = (model, gpu, count, quant)
    if key not in tried:
        try:
            tried[key] = run_estimate(answers, model, gpu, count, quant, (1,))
        except AdvisorError:
            tried[key] = None
    est = tried[key]
    return est if est is not None and fits(est, server) else None


def find_alternatives(
    answers: Answers, model: Any, gpu: Any, count: int, est: dict[str, Any]
) -> list[dict[str, Any]]:
    """Configurations that fit when the asked one does not, one per kind and server."""
    out: list[dict[str, Any]] = []
    tried: Tried = {}
    if gpu is None:
        return _smaller_models(answers, model, None, 0, "ollama", out, tried)
    servers = ["ollama"] if gpu.unified_memory else ["vllm", "ollama"]
    for server in servers:
        if fits(est, server):
            continue
        for n, quant in _configs(answers, server, count, gpu):
            if _try(answers, model, gpu, n, quant, server, tried):
                out.append(_config_alternative(server, gpu, n, quant, count))
                break
        bigger = _bigger_gpu(answers, model, gpu, server, tried)
        if bigger:
            out.append(bigger)
        _smaller_models(answers, model, gpu, count, server, out, tried)
    return out


def _configs(answers: Answers, server: str, count: int, gpu: Any) -> list[tuple[int, str]]:
    """(gpu_count, quantization) to try, fewest changes first: a smaller format on these GPUs,
    then more GPUs (vLLM tensor parallelism), then both."""
    smaller = VLLM_SMALLER_FORMATS if server == "vllm" else OLLAMA_SMALLER_FORMATS
    formats = tuple(q for q in smaller if q != answers.quantization)
    more = [n for n in TP_SIZES if n > count] if server == "vllm" and not gpu.unified_memory else []
    tries = [(count, q) for q in formats] + [(n, answers.quantization) for n in more]
    return tries + [(n, q) for n in more for q in formats]


def _config_alternative(server: str, gpu: Any, n: int, quant: str, count: int) -> dict[str, Any]:
    where = f"{n}x {gpu.name}" if n > 1 else f"one {gpu.name}"
    weights = "" if quant == "auto" else f" with {quant} weights"
    parallel = " and tensor parallelism" if server == "vllm" and n > 1 else ""
    kind = "quantization" if n == count else "gpus" if quant == "auto" else "gpus_and_quantization"
    return {
        "server": server,
        "kind": kind,
        "quantization": quant,
        "gpu_count": n,
        "description": f"{_label(server)}{weights} on {where}{parallel}",
    }


def _label(server: str) -> str:
    return "vLLM" if server == "vllm" else "Ollama"


def _bigger_gpu(
    answers: Answers, model: Any, gpu: Any, server: str, tried: Tried
) -> dict[str, Any] | None:
    """The smallest catalog GPU of the same vendor with more memory that fits on its own."""
    candidates = sorted(
        (
            g
            for g in catalog.list_gpus()
            if g.vendor == gpu.vendor and g.memory_bytes > gpu.memory_bytes
        ),
        key=lambda g: (g.memory_bytes, g.id),
    )
    for candidate in candidates:
        if _try(answers, model, candidate, 1, answers.quantization, server, tried):
            return {
                "server": server,
                "kind": "gpu",
                "gpu": candidate.id,
                "gpu_count": 1,
                "description": f"{_label(server)} on one {candidate.name}",
            }
    return None


def _smaller_models(
    answers: Answers,
    model: Any,
    gpu: Any,
    count: int,
    server: str,
    out: list[dict[str, Any]],
    tried: Tried,
) -> list[dict[str, Any]]:
    """The largest model of the same family that fits as asked."""
    family = getattr(model, "family", None)
    smaller = sorted(
        (
            m
            for m in catalog.list_models()
            if family and m.family == family and m.params_total < model.params_total
        ),
        # Largest first; among equals the asked model's own line (llama-3.1-8b before a distill).
        key=lambda m: (-m.params_total, not m.id.startswith(model.id.split("-")[0]), m.id),
    )
    for candidate in smaller:
        if gpu is None:
            out.append(
                {
                    "server": "ollama",
                    "kind": "model",
                    "model": candidate.id,
                    "description": f"a smaller model: {candidate.name}",
                }
            )
            return out
        if _try(answers, candidate, gpu, count, answers.quantization, server, tried):
            out.append(
                {
                    "server": server,
                    "kind": "model",
                    "model": candidate.id,
                    "description": f"{_label(server)} with a smaller model: {candidate.name}",
                }
            )
            return out
    return out


def reference_server(
    answers: Answers, model: Any, levels: tuple[int, ...], quantization: str = "auto"
) -> dict[str, Any] | None:
    """vLLM on the reference Linux GPU (1, 2, 4 or 8 of them, the fewest that fit), with each
    server's usual weights unless ``quantization`` says otherwise."""
    try:
        gpu = catalog.resolve_gpu(REFERENCE_GPU)
        for n in (1, *TP_SIZES):
            est = run_estimate(answers, model, gpu, n, quantization, levels)
            if fits(est, "vllm"):
                name = gpu.name if n == 1 else f"{n}x {gpu.name}"
                return {"gpu_name": name, "gpu_count": n, **est}
    except AdvisorError:
        return None
    return None
