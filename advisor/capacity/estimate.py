"""One estimate: will it fit, how many users each server holds, how fast, at what cost.

``estimate(EstimateRequest) -> Estimate``; ``Estimate.as_dict()`` is the JSON shape documented in
docs/capacity.md (``weights_bytes``, ``kv_bytes_per_token``, ``vllm``, ``ollama``, ``performance``,
``cost``, ``calibration``). Pure: no Django, no I/O beyond the catalog files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from advisor.capacity import kv, ollama, performance, plan, vllm
from advisor.capacity.calibration import calibrate
from advisor.capacity.catalog import (
    resolve_gpu,
    resolve_kv_dtype,
    resolve_model,
    resolve_quantization,
)
from advisor.capacity.cost import CostAtLoad, HourlyPrice, cost_at_load, hourly_price
from advisor.capacity.performance import Engine, PredictedLevel
from advisor.capacity.request import EstimateRequest
from advisor.capacity.result import Estimate
from advisor.capacity.specs import GIB, GpuSpec, ModelSpec, Quantization, QuantKind
from advisor.errors import AdvisorError
from probes.kinds import Backend

__all__ = ["Estimate", "EstimateRequest", "estimate", "ollama_engine"]

# A CPU-only host when the probes give nothing better: 64 GiB of dual-channel DDR5-4800
# (76.8 GB/s peak, about 60 GB/s sustained) and about 1 TFLOPS of BF16/FP32 AVX-512 compute.
DEFAULT_CPU_MEMORY_GIB = 64
DEFAULT_CPU_BANDWIDTH_GBPS = 60
DEFAULT_CPU_TFLOPS = 1.0


def _quantizations(
    model: ModelSpec, name: str, notes: list[str]
) -> tuple[Quantization, Quantization]:
    """(vLLM format, Ollama format) for the requested name; "auto" = each server's usual pick."""
    ollama_default = resolve_quantization(model.ollama_quantization)
    if name.strip().lower() == "auto":
        chosen, ollama_quant = resolve_quantization(model.native_quantization), ollama_default
    else:
        chosen = resolve_quantization(name)
        ollama_quant = chosen if "ollama" in chosen.servers else ollama_default
        if ollama_quant is not chosen:
            notes.append(
                f"Ollama cannot load {chosen.name}; its estimate uses {ollama_default.name}."
            )
    if chosen.kind is QuantKind.GGUF:
        notes.append(
            f"vLLM's GGUF support ({chosen.name}) is experimental and slower than AWQ/GPTQ."
        )
    return chosen, ollama_quant


def _kv_types(name: str) -> tuple[Quantization, str]:
    """(vLLM KV type, Ollama KV type name) for the requested KV cache dtype."""
    kv_type = resolve_kv_dtype(name)
    if "vllm" in kv_type.servers:
        return kv_type, "f16"
    return resolve_kv_dtype("auto"), kv_type.id.removeprefix("kv-")


def _choose_vllm(
    model: ModelSpec,
    gpu: GpuSpec | None,
    request: EstimateRequest,
    weights: int,
    kv_dtype_bytes: float,
) -> tuple[vllm.VllmCapacity, bool]:
    """Smallest valid TP size that fits the requested (or full) context; else auto-fit the length."""
    count = request.gpu_count
    if request.data_parallel_size:
        count = max(1, count // request.data_parallel_size)
    sizes = kv.valid_tensor_parallel_sizes(model, max(1, count)) if gpu else [1]
    if gpu and request.tensor_parallel_size:
        # The user's --tensor-parallel-size: vLLM rejects one the heads do not divide by.
        if request.tensor_parallel_size not in kv.valid_tensor_parallel_sizes(
            model, request.tensor_parallel_size
        ):
            raise AdvisorError(
                f"vLLM cannot split {model.name}'s {model.num_attention_heads} attention heads / "
                f"{model.num_kv_heads} KV heads over tensor_parallel_size "
                f"{request.tensor_parallel_size}.",
                field="tensor_parallel_size",
            )
        sizes = [request.tensor_parallel_size]
    budget = (
        int(request.kv_cache_budget_gib * GIB) if request.kv_cache_budget_gib is not None else None
    )
    cpu_memory = int((request.cpu_memory_gib or DEFAULT_CPU_MEMORY_GIB) * GIB)

    def run(tp: int, length: int | None) -> vllm.VllmCapacity:
        return vllm.vllm_capacity(
            model,
            gpu,
            tensor_parallel_size=tp,
            weights_bytes=weights,
            kv_dtype_bytes=kv_dtype_bytes,
            max_model_len=length,
            gpu_memory_utilization=request.gpu_memory_utilization,
            kv_cache_budget_bytes=budget,
            max_num_seqs=request.max_num_seqs,
            max_num_batched_tokens=request.max_num_batched_tokens,
            cpu_memory_bytes=cpu_memory,
            vllm_version=request.vllm_version,
            num_gpu_blocks_override=request.num_gpu_blocks,
        )

    for tp in sizes:
        result = run(tp, request.max_model_len)
        if result.fits:
            return result, False
    if request.max_model_len is None:
        needed = request.avg_prompt_tokens + request.avg_output_tokens
        for tp in sizes:
            result = run(tp, None)
            if (
                result.max_model_len_that_fits >= needed
                and result.weights_bytes_per_gpu < result.requested_memory_bytes
            ):
                length = max(needed, result.max_model_len_that_fits // 1024 * 1024)
                fitted = run(tp, min(length, model.max_context))
                if fitted.fits:
                    return fitted, True
    return run(sizes[-1], request.max_model_len), False


def _vllm_engine(
    model: ModelSpec,
    gpu: GpuSpec | None,
    request: EstimateRequest,
    capacity: vllm.VllmCapacity,
    held: vllm.RequestsHeld,
    weights: int,
    kv_bytes: float,
) -> Engine:
    cpu_bw = request.cpu_bandwidth_gbps or DEFAULT_CPU_BANDWIDTH_GBPS
    slots, replicas = held.slots_per_replica, held.replicas
    if gpu is None:
        return Engine(
            Backend.VLLM,
            weights,
            kv_bytes,
            cpu_bw,
            request.cpu_tflops or DEFAULT_CPU_TFLOPS,
            performance.CPU_BANDWIDTH_EFFICIENCY[Backend.VLLM],
            performance.CPU_COMPUTE_EFFICIENCY,
            performance.VLLM_PER_SEQUENCE_STEP_S,
            slots,
            capacity.max_num_batched_tokens,
        )
    tp = capacity.tensor_parallel_size
    scaling = performance.TP_SCALING_PER_DOUBLING ** math.log2(tp)
    return Engine(
        Backend.VLLM,
        weights,
        kv_bytes,
        gpu.bandwidth_gbps * tp * scaling,
        gpu.bf16_tflops * tp * scaling,
        performance.VLLM_BANDWIDTH_EFFICIENCY,
        performance.VLLM_COMPUTE_EFFICIENCY,
        performance.VLLM_PER_SEQUENCE_STEP_S,
        slots,
        capacity.max_num_batched_tokens,
        replicas=replicas,
        tensor_parallel_size=tp,
        allreduce_latency_s=performance.TP_ALLREDUCE_LATENCY_S
        if gpu.nvlink
        else performance.TP_ALLREDUCE_LATENCY_PCIE_S,
    )


def _ollama_engine(
    model: ModelSpec,
    gpu: GpuSpec | None,
    request: EstimateRequest,
    fit: ollama.OllamaFit,
    ollama_weights: int,
    ollama_kv_bytes: float,
    quant: Quantization,
) -> Engine:
    cpu_bw = request.cpu_bandwidth_gbps or DEFAULT_CPU_BANDWIDTH_GBPS
    if gpu is None:
        return Engine(
            Backend.OLLAMA,
            ollama_weights,
            ollama_kv_bytes,
            cpu_bw,
            request.cpu_tflops or DEFAULT_CPU_TFLOPS,
            performance.CPU_BANDWIDTH_EFFICIENCY[Backend.OLLAMA],
            performance.CPU_COMPUTE_EFFICIENCY,
            performance.OLLAMA_PER_SEQUENCE_STEP_S,
            fit.num_parallel,
            512,
        )
    backend = performance.llamacpp_family(gpu)
    sixteen_bit = quant.bits_per_weight >= 16
    return Engine(
        Backend.OLLAMA,
        ollama_weights,
        ollama_kv_bytes,
        gpu.bandwidth_gbps,
        gpu.bf16_tflops,
        performance.LLAMACPP_BANDWIDTH_EFFICIENCY[backend],
        performance.LLAMACPP_COMPUTE_EFFICIENCY[(backend, sixteen_bit)],
        performance.OLLAMA_PER_SEQUENCE_STEP_S,
        fit.num_parallel,
        512,
        offload_fraction=fit.gpu_fraction,
        cpu_bandwidth_gbps=cpu_bw,
        # llama.cpp's per-token cost replaces the generic step floor.
        min_step_s=0.0,
        fixed_step_s=model.num_layers * performance.LLAMACPP_STEP_S_PER_LAYER[backend],
    )


def _model_and_gpu(request: EstimateRequest) -> tuple[ModelSpec, GpuSpec | None]:
    model = request.model if isinstance(request.model, ModelSpec) else resolve_model(request.model)
    gpu = None
    if request.gpu_count > 0:
        # A blank GPU never passes EstimateRequest's checks; resolve_gpu would refuse it anyway.
        gpu = request.gpu if isinstance(request.gpu, GpuSpec) else resolve_gpu(request.gpu or "")
        if request.gpu_memory_gib:
            gpu = gpu.with_memory(int(request.gpu_memory_gib * GIB))
    return model, gpu


def _ollama_installed(
    model: ModelSpec, gpu: GpuSpec | None, request: EstimateRequest, ollama_weights: int
) -> ollama.OllamaFit:
    """Ollama as installed: its defaults (one slot, the context tier for this VRAM, f16 cache)."""
    vram = gpu.usable_memory_bytes if gpu else 0
    return ollama.ollama_fit(
        model,
        weights_bytes=ollama_weights,
        vram_bytes=vram,
        gpu_count=request.gpu_count,
        num_ctx=ollama.default_num_ctx(vram * request.gpu_count, model),
        num_parallel=ollama.DEFAULT_NUM_PARALLEL,
    )


def _ollama_tuned(
    model: ModelSpec,
    gpu: GpuSpec | None,
    request: EstimateRequest,
    ollama_weights: int,
    ollama_kv_name: str,
) -> ollama.OllamaFit:
    """Ollama as we would set it. The request's own ``num_parallel`` / Ollama KV type are taken as
    given; otherwise the most slots up to the peak (at most ``ADVISED_MAX_PARALLEL``) that fit."""
    vram = gpu.usable_memory_bytes if gpu else 0
    num_ctx = request.num_ctx or ollama.recommended_context(
        request.avg_prompt_tokens,
        request.avg_output_tokens,
        model,
        required_context=request.max_model_len,
    )
    if request.num_parallel or ollama_kv_name != "f16":
        return ollama.ollama_fit(
            model,
            weights_bytes=ollama_weights,
            vram_bytes=vram,
            gpu_count=request.gpu_count,
            num_ctx=num_ctx,
            num_parallel=request.num_parallel or ollama.DEFAULT_NUM_PARALLEL,
            kv_cache_type=ollama_kv_name,
            kv_dtype_bytes=ollama.KV_BYTES[ollama_kv_name],
            flash_attention=ollama_kv_name != "f16",
        )
    return ollama.tuned_fit(
        model,
        weights_bytes=ollama_weights,
        vram_bytes=vram,
        gpu_count=request.gpu_count,
        num_ctx=num_ctx,
        target_parallel=min(request.peak, ollama.ADVISED_MAX_PARALLEL),
    )


def estimate(request: EstimateRequest, *, predict: Iterable[str] = tuple(Backend)) -> Estimate:
    """Resolve the names, size both servers, predict each concurrency level and price it.

    ``predict`` names the servers ("vllm", "ollama") whose concurrency levels ``performance``
    holds (default both); the rest of the estimate does not depend on it. The rules' smaller
    Ollama sizings need only Ollama's levels and skip vLLM's. Raises AdvisorError (field model /
    gpu / quantization / kv_cache_dtype / ...) for bad input.
    """
    servers = {Backend(name) for name in predict}
    notes: list[str] = []
    model, gpu = _model_and_gpu(request)
    vllm_quant, ollama_quant = _quantizations(model, request.quantization, notes)
    if request.avg_prompt_tokens + request.avg_output_tokens > model.max_context:
        notes.append(
            f"Prompt + output ({request.avg_prompt_tokens + request.avg_output_tokens:,} tokens) "
            f"exceed the model's {model.max_context:,}-token context."
        )
    vllm_kv, ollama_kv_name = _kv_types(request.kv_cache_dtype)
    weights = kv.vllm_weights_bytes(model, vllm_quant)
    ollama_weights = kv.weights_bytes(model, ollama_quant)

    capacity, auto_len = _choose_vllm(model, gpu, request, weights, vllm_kv.bytes_per_weight)
    if auto_len:
        notes.append(
            f"vLLM would refuse the model's full {model.max_context:,}-token context here; "
            f"set --max-model-len {capacity.max_model_len} (or larger GPUs / more of them)."
        )
    replicas = max(1, request.gpu_count // capacity.tensor_parallel_size) if gpu else 1
    if gpu and request.data_parallel_size:
        replicas = request.data_parallel_size
    held = capacity.requests_held(
        model, request.avg_prompt_tokens + request.avg_output_tokens, replicas=replicas
    )

    installed = _ollama_installed(model, gpu, request, ollama_weights)
    fit = _ollama_tuned(model, gpu, request, ollama_weights, ollama_kv_name)

    engines = {
        Backend.VLLM: _vllm_engine(
            model, gpu, request, capacity, held, weights, vllm_kv.bytes_per_weight
        ),
        Backend.OLLAMA: _ollama_engine(
            model, gpu, request, fit, ollama_weights, ollama.KV_BYTES[ollama_kv_name], ollama_quant
        ),
    }
    context = request.avg_prompt_tokens + request.avg_output_tokens // 2
    calibrations = []
    for server, measured in (request.measured_decode_tps or {}).items():
        result, fitted = calibrate(model, engines[Backend(server)], measured, context)
        engines[Backend(server)] = fitted
        calibrations.append(result.as_dict())

    levels: list[PredictedLevel] = []
    not_viable: dict[Backend, str] = {}  # servers that cannot run as asked: no cost, a reason
    if Backend.VLLM not in servers:
        pass  # not asked for: no levels, no note about them
    elif capacity.fits and engines[Backend.VLLM].slots > 0:
        levels += performance.predict_levels(
            model,
            engines[Backend.VLLM],
            request.concurrency,
            request.avg_prompt_tokens,
            request.avg_output_tokens,
        )
    else:
        why = (
            "the configuration does not fit"
            if not capacity.fits
            else "no request fits its KV cache"
        )
        notes.append(f"No vLLM performance prediction: {why}.")
        not_viable[Backend.VLLM] = why
    busiest = max(request.concurrency)
    if busiest > fit.num_parallel + ollama.MAX_QUEUE:
        notes.append(
            f"At {busiest} users Ollama's queue passes OLLAMA_MAX_QUEUE ({ollama.MAX_QUEUE}): "
            "it answers HTTP 503 to the excess instead of queueing them as modelled."
        )
    if Backend.OLLAMA in servers:
        levels += performance.predict_levels(
            model,
            engines[Backend.OLLAMA],
            request.concurrency,
            request.avg_prompt_tokens,
            request.avg_output_tokens,
        )

    price = hourly_price(
        gpu_name=gpu.name if gpu else None,
        gpu_count=request.gpu_count,
        catalog_gpu_usd=gpu.hourly_usd if gpu else None,
        catalog_source=gpu.price_source if gpu else "",
        user_gpu_usd=request.gpu_hourly_cost_usd,
        user_cpu_usd=request.cpu_hourly_cost_usd,
    )
    assert price is not None  # every catalog GPU has a price; no GPU prices the CPU host
    serving = _plan(
        model,
        gpu,
        request,
        capacity,
        replicas,
        auto_len,
        installed,
        fit,
        vllm_quant,
        ollama_quant,
        held,
    )
    if serving.vllm.why_not:  # vLLM cannot run here at all: no cost row, the plan's reason
        not_viable[Backend.VLLM] = serving.vllm.why_not
    return Estimate(
        request=request,
        model=model,
        gpu=gpu,
        vllm_quantization=vllm_quant,
        ollama_quantization=ollama_quant,
        weights_bytes=weights,
        ollama_weights_bytes=ollama_weights,
        kv_bytes_per_token=kv.kv_bytes_per_token(model, vllm_kv.bytes_per_weight),
        vllm=capacity,
        ollama=fit,
        plan=serving,
        performance=tuple(levels),
        calibration=tuple(calibrations),
        price=price,
        cost=_cost_by_level(price, request.concurrency, levels, not_viable),
        notes=tuple(notes),
    )


def _cost_by_level(
    price: HourlyPrice,
    concurrency: Iterable[int],
    levels: list[PredictedLevel],
    not_viable: dict[Backend, str],
) -> tuple[CostAtLoad, ...]:
    """Both servers' predicted $/1M output tokens at each requested concurrency (a server that
    cannot run as asked gets none, with the reason)."""
    return tuple(
        cost_at_load(
            price,
            c,
            predicted={
                Backend(level["server"]): level["output_token_throughput"]
                for level in levels
                if level["concurrency"] == c
            },
            not_viable=not_viable,
        )
        for c in sorted(set(concurrency))
    )


def ollama_engine(request: EstimateRequest) -> tuple[ModelSpec, ollama.OllamaFit, Engine]:
    """Ollama's model, memory fit and engine for ``request``, calibrated when the request carries a
    measured Ollama speed. Raises AdvisorError as ``estimate`` does for bad names."""
    model, gpu = _model_and_gpu(request)
    _, ollama_quant = _quantizations(model, request.quantization, [])
    _, ollama_kv_name = _kv_types(request.kv_cache_dtype)
    ollama_weights = kv.weights_bytes(model, ollama_quant)
    fit = _ollama_tuned(model, gpu, request, ollama_weights, ollama_kv_name)
    engine = _ollama_engine(
        model, gpu, request, fit, ollama_weights, ollama.KV_BYTES[ollama_kv_name], ollama_quant
    )
    context = request.avg_prompt_tokens + request.avg_output_tokens // 2
    for server, measured in (request.measured_decode_tps or {}).items():
        if Backend(server) is Backend.OLLAMA:
            _, engine = calibrate(model, engine, measured, context)
    return model, fit, engine


def _plan(
    model: ModelSpec,
    gpu: GpuSpec | None,
    request: EstimateRequest,
    capacity: vllm.VllmCapacity,
    replicas: int,
    auto_len: bool,
    installed: ollama.OllamaFit,
    tuned: ollama.OllamaFit,
    vllm_quant: Quantization,
    ollama_quant: Quantization,
    held: vllm.RequestsHeld,
) -> plan.ServingPlan:
    measured = request.ollama_measured_size_gib

    def ollama_plan(
        setting: plan.OllamaSetting,
        fit: ollama.OllamaFit,
        max_queue: int,
        measured_bytes: int | None,
    ) -> plan.OllamaPlan:
        return plan.ollama_plan(
            setting,
            fit,
            model=model,
            gpu=gpu,
            gpu_count=request.gpu_count,
            quantization=ollama_quant.id,
            max_queue=max_queue,
            measured_size_bytes=measured_bytes,
        )

    return plan.ServingPlan(
        vllm=plan.vllm_plan(
            model,
            gpu,
            capacity,
            gpu_count=request.gpu_count,
            data_parallel_size=replicas,
            quantization=vllm_quant.id,
            kv_cache_dtype=request.kv_cache_dtype.lower(),
            max_model_len_auto=auto_len,
            requests_held=held,
            why_not=plan.vllm_runs(
                gpu, platform=request.platform, measured_on_cpu=request.vllm_measured_on_cpu
            ),
        ),
        ollama_installed=ollama_plan(
            plan.OllamaSetting.INSTALLED, installed, ollama.MAX_QUEUE, None
        ),
        ollama=ollama_plan(
            plan.OllamaSetting.TUNED,
            tuned,
            plan.tuned_max_queue(request.peak),
            int(measured * GIB) if measured else None,
        ),
    )
