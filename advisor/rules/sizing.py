"""The capacity model's request for a team's answers, and what fits: shared by the facts and the
"what would fit" search (pure, no Django)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from advisor.capacity import estimate as capacity
from advisor.capacity.request import EstimateRequest
from advisor.capacity.server_logs import measured_fields
from advisor.rules.answers import Answers
from advisor.rules.thresholds import PREDICTION_LEVELS

GIB = 1024**3
MAX_PREDICTED_CONCURRENCY = 4096  # advisor.capacity.request.MAX_CONCURRENCY


def prediction_levels(users: int) -> tuple[int, ...]:
    """The standard levels up to the user's peak, plus the peak itself and the next level above."""
    below = [c for c in PREDICTION_LEVELS if c < users]
    above = [c for c in PREDICTION_LEVELS if c > users][:1]
    return tuple(sorted({1, *below, users, *above}))


def estimate_request(
    answers: Answers,
    model: Any,
    gpu: Any,
    gpu_count: int,
    quantization: str,
    levels: Iterable[int],
    *,
    ram_bytes: int | None = None,
    measured_tps: dict[str, float] | None = None,
    platform: str | None = None,
    vllm_measured_on_cpu: bool = False,
    own_setup: bool = False,
) -> Any:
    """The capacity model's ``EstimateRequest`` for one configuration.

    ``ram_bytes`` sizes a CPU-only host from its report; ``measured_tps`` (single-stream decode
    tokens/s per server, from load tests) calibrates the prediction; ``platform`` and
    ``vllm_measured_on_cpu`` decide whether the plan's vLLM can run at all. vLLM's flags the
    answers give (max_num_seqs, max_num_batched_tokens, gpu_memory_utilization, kv_cache_dtype,
    the release) apply to every configuration; ``own_setup`` (the configuration answered, not an
    alternative) adds the parallel sizes and the figures read from the pasted server output,
    which replace the modelled ones. Raises AdvisorError naming the answer at fault.
    """
    setup: dict[str, Any] = {}
    if own_setup:
        setup = {
            "tensor_parallel_size": answers.tensor_parallel_size,
            "data_parallel_size": answers.data_parallel_size,
            **measured_fields(**answers.readings),
        }
    # The flag answered wins over the one /metrics reports.
    utilization = answers.gpu_memory_utilization or setup.pop("gpu_memory_utilization", None)
    return EstimateRequest(
        model=model,
        gpu=gpu,
        gpu_count=gpu_count,
        quantization=quantization,
        max_model_len=answers.context_length,
        concurrency=tuple(sorted({min(c, MAX_PREDICTED_CONCURRENCY) for c in levels})),
        avg_prompt_tokens=answers.avg_prompt_tokens,
        avg_output_tokens=answers.avg_output_tokens,
        gpu_hourly_cost_usd=answers.gpu_hourly_cost_usd,
        # Ollama as we tell the team to run it: their context (Ollama truncates longer prompts),
        # the plan's slots for their peak.
        num_ctx=answers.context_length,
        peak_users=min(answers.peak_concurrent_users, MAX_PREDICTED_CONCURRENCY),
        platform=platform,
        vllm_measured_on_cpu=vllm_measured_on_cpu,
        cpu_memory_gib=ram_bytes / GIB if ram_bytes and gpu_count == 0 else None,
        measured_decode_tps=measured_tps or None,
        max_num_seqs=answers.max_num_seqs,
        max_num_batched_tokens=answers.max_num_batched_tokens,
        gpu_memory_utilization=utilization,
        kv_cache_dtype=answers.kv_cache_dtype.value,
        vllm_version=answers.vllm_version,
        **setup,
    )


def run_estimate(
    answers: Answers,
    model: Any,
    gpu: Any,
    gpu_count: int,
    quantization: str,
    levels: Iterable[int],
) -> dict[str, Any]:
    """The capacity model's ``Estimate.as_dict()`` for one configuration (``estimate_request``)."""
    request = estimate_request(answers, model, gpu, gpu_count, quantization, levels)
    return capacity.estimate(request).as_dict()


def fits(est: dict[str, Any], server: str) -> bool:
    if server == "vllm":
        return bool((est.get("vllm") or {}).get("fits"))
    return bool((est.get("ollama") or {}).get("fits_in_vram"))
