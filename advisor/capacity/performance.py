"""Predicted latency and throughput per concurrency level, for one serving engine.

Decode is bound by memory bandwidth (every step reads the active weights once plus each running
sequence's KV cache) or by compute (2 FLOPs per active parameter per token, plus attention), whichever
is slower; prefill is compute-bound. Engines differ in how many requests they batch:
vLLM continuous batching runs up to ``max_num_seqs`` (and what the KV cache holds) at once; Ollama
runs ``OLLAMA_NUM_PARALLEL`` slots (default 1: one request at a time, the rest wait in its queue).
Users are a closed loop (each sends its next request when the last one ends, as ``vllm bench
serve --max-concurrency`` and the load tester do), so queue waits follow from Little's law.

The output uses the load test's metric names (``ttft_ms``, ``itl_ms``, ``tpot_ms``, ``e2el_ms`` each
{mean, p50, p90, p95, p99}, ``output_token_throughput``, ``request_throughput``) marked
``"source": "model"``. The model gives means; percentiles are spread from them with the fixed
factors below (a documented heuristic, not a measurement).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TypedDict

from advisor.capacity import kv
from advisor.capacity.specs import GpuSpec, ModelSpec, Vendor
from probes.kinds import Backend


class Bound(enum.StrEnum):
    """What sets the pace of a decode step."""

    MEMORY = "memory-bandwidth"
    COMPUTE = "compute"
    OVERHEAD = "overhead"  # the framework's per-step floor (tiny models)


# Fraction of peak memory bandwidth a batch-1 decode step reaches ("60-80% of the bound",
# REFERENCE.md). vLLM: H100 + Llama-3.1-8B BF16 decodes at TPOT 6.5 ms against a 4.8 ms bound
# (16.06 GB / 3.35 TB/s) -> 0.74. CPUs: llama.cpp reaches about 60% of DRAM bandwidth; vLLM's CPU
# backend less.
VLLM_BANDWIDTH_EFFICIENCY = 0.74
CPU_BANDWIDTH_EFFICIENCY = {Backend.OLLAMA: 0.6, Backend.VLLM: 0.3}
# llama.cpp (what Ollama runs) decode: a share of memory bandwidth plus a fixed cost per layer and
# token (kernel launches and the small ops between the matrix-vector products), per device family.
# FITTED (`fit_set: true` in tests/data/capacity_corpus.yaml) by minimising the 80th-percentile
# relative error: "cuda" and "metal" on the May 2024 Llama 3 8B tables of
# XiongjieDai/GPU-Benchmarks-on-LLM-Inference (llama-bench tg512, 9 GeForce and 7 Apple points, Q4_K_M
# and F16); "cuda-datacenter" on the same repository's Dec 2023 Llama 2 7B A100 / H100 figures (4
# points, an older llama.cpp: the only public data-centre figures we found). The other decode points
# were not used and report the error on unseen data (docs/capacity.md). AMD GPUs use the NVIDIA
# figures of their class: the corpus has no AMD point to fit them on.
LLAMACPP_BANDWIDTH_EFFICIENCY = {"cuda": 0.96, "cuda-datacenter": 0.92, "metal": 0.81}
LLAMACPP_STEP_S_PER_LAYER = {"cuda": 75e-6, "cuda-datacenter": 172e-6, "metal": 175e-6}
# llama.cpp prefill (pp512) as a share of the catalog's dense 16-bit TFLOPS, fitted on the same
# tables (medians of the fit points). GeForce cards exceed 1.0 with F16 weights because llama.cpp's
# cuBLAS GEMMs accumulate in FP16, which GeForce runs at twice the FP32-accumulate rate the catalog
# lists; quantized weights are dequantized first and reach less. The Dec 2023 build reached a small
# share of an A100's or H100's tensor cores.
LLAMACPP_COMPUTE_EFFICIENCY = {
    ("cuda", True): 1.0,
    ("cuda", False): 0.9,
    ("cuda-datacenter", True): 0.18,
    ("cuda-datacenter", False): 0.12,
    ("metal", True): 0.75,
    ("metal", False): 0.65,
}


def llamacpp_family(gpu: GpuSpec) -> str:
    """The device family whose llama.cpp constants apply to ``gpu``."""
    if gpu.vendor is Vendor.APPLE:
        return "metal"
    return "cuda-datacenter" if gpu.datacenter else "cuda"


# Fraction of dense BF16 peak reached in prefill (model FLOPs utilisation). vLLM's prefill GEMMs
# run near 50% MFU on H100/A100.
VLLM_COMPUTE_EFFICIENCY = 0.5
CPU_COMPUTE_EFFICIENCY = 0.5
# Extra time per running sequence per decode step (sampling, attention launch, scheduler
# bookkeeping). vLLM batches them in one CUDA graph; llama.cpp's slots cost more each.
VLLM_PER_SEQUENCE_STEP_S = 0.0001
OLLAMA_PER_SEQUENCE_STEP_S = 0.0005
# A decode step never takes less than this: scheduling, sampling and kernel launches set a floor
# that tiny models hit (sub-1B models top out at a few hundred tokens/s single-stream in both
# servers). vLLM overlaps its CPU work with the GPU, so the floor is a max(), not an addition.
VLLM_MIN_STEP_S = 0.003
OLLAMA_MIN_STEP_S = 0.002
MIN_STEP_S = {Backend.VLLM: VLLM_MIN_STEP_S, Backend.OLLAMA: OLLAMA_MIN_STEP_S}
# Tensor parallelism all-reduces the activations twice per layer (after attention and after the
# MLP; Megatron-LM, Shoeybi et al. 2019); a small all-reduce inside one node costs about 10 us
# (NCCL all_reduce_perf latency for KB-sized messages over NVLink / Infinity Fabric).
TP_ALLREDUCES_PER_LAYER = 2
TP_ALLREDUCE_LATENCY_S = 10e-6
# Without NVLink (PCIe cards) vLLM's custom all-reduce is off past two GPUs and NCCL's small
# all-reduces cost tens of microseconds each over PCIe (the figure the capacity issue reports from
# public PCIe tensor-parallel runs); 40 us is that order of magnitude, not fitted: the corpus holds
# no vLLM tensor-parallel speed point to fit it on.
TP_ALLREDUCE_LATENCY_PCIE_S = 40e-6
# Each doubling of tensor parallelism loses about 10% to all-reduce traffic.
TP_SCALING_PER_DOUBLING = 0.9

# Percentile spread around a mean service time (coefficient of variation about 0.2), and for a
# queue wait spread evenly between 0 and twice its mean.
SERVICE_SPREAD = {"p50": 0.97, "p90": 1.2, "p95": 1.3, "p99": 1.6}
WAIT_SPREAD = {"p50": 1.0, "p90": 1.8, "p95": 1.9, "p99": 1.98}


@dataclass(frozen=True)
class Engine:
    """One serving engine instance and the hardware it runs on.

    ``bandwidth_gbps`` / ``tflops`` are the summed peaks of the devices one instance uses
    (tensor-parallel GPUs for vLLM; for Ollama one GPU's worth, since layers split over GPUs run one
    after another). ``offload_fraction`` is the share of layers on the GPU (Ollama CPU spill);
    ``cpu_bandwidth_gbps`` serves the rest. ``slots`` is how many requests it batches at once;
    ``replicas`` the data-parallel copies sharing the load. ``fixed_step_s`` (llama.cpp) is the
    cost of a step with one sequence beyond streaming the weights; each further sequence adds
    ``per_sequence_step_s``. Without it every sequence costs ``per_sequence_step_s``.
    """

    server: Backend
    weights_bytes: int
    kv_dtype_bytes: float
    bandwidth_gbps: float
    tflops: float
    bandwidth_efficiency: float
    compute_efficiency: float
    per_sequence_step_s: float
    slots: int
    max_num_batched_tokens: int = 2048
    replicas: int = 1
    offload_fraction: float = 1.0
    cpu_bandwidth_gbps: float = 0.0
    min_step_s: float | None = None
    tensor_parallel_size: int = 1
    fixed_step_s: float | None = None
    allreduce_latency_s: float = TP_ALLREDUCE_LATENCY_S

    @property
    def step_floor_s(self) -> float:
        return MIN_STEP_S[self.server] if self.min_step_s is None else self.min_step_s

    def overhead_s(self, batch: int) -> float:
        """Time a step of ``batch`` sequences spends besides memory and compute."""
        if self.fixed_step_s is None:
            return batch * self.per_sequence_step_s
        return self.fixed_step_s + (max(1, batch) - 1) * self.per_sequence_step_s


def weights_read_per_step(model: ModelSpec, weights_bytes: int, batch: int) -> float:
    """Weight bytes one decode step reads: all of a dense model; for a MoE the shared part plus the
    experts at least one of ``batch`` tokens routes to (1 - (1 - k/E)^batch of them)."""
    if not model.is_moe or model.params_active >= model.params_total:
        return float(weights_bytes)
    experts, active = model.expert_counts
    expert_params = (model.params_total - model.params_active) * experts / (experts - active)
    shared_params = model.params_total - expert_params
    touched = 1 - (1 - active / experts) ** max(1, batch)
    return weights_bytes * (shared_params + expert_params * touched) / model.params_total


def _effective_bandwidth(engine: Engine) -> float:
    """Bytes/s the engine streams weights at, mixing GPU and CPU layers by time (harmonic)."""
    gpu = engine.bandwidth_gbps * 1e9 * engine.bandwidth_efficiency
    if engine.offload_fraction >= 1 or engine.cpu_bandwidth_gbps <= 0:
        return gpu
    cpu = engine.cpu_bandwidth_gbps * 1e9 * CPU_BANDWIDTH_EFFICIENCY[engine.server]
    if gpu <= 0 or engine.offload_fraction <= 0:
        return cpu
    return 1 / (engine.offload_fraction / gpu + (1 - engine.offload_fraction) / cpu)


def _attention_flops_per_token(model: ModelSpec, context: int) -> float:
    """QK^T and AV: 4 x layers x heads x head_dim FLOPs per cached token attended."""
    return 4 * model.num_layers * model.num_attention_heads * model.head_dim * context


def decode_step_seconds(
    model: ModelSpec, engine: Engine, batch: int, context: int
) -> tuple[float, Bound]:
    """Seconds for one decode step of ``batch`` sequences at ``context`` tokens each, and the bound."""
    return _decode_step(
        model,
        engine,
        batch,
        kv.kv_bytes_for_context(model, engine.kv_dtype_bytes, context),
        2 * model.params_active + _attention_flops_per_token(model, context),
        _effective_bandwidth(engine),
    )


def _decode_step(
    model: ModelSpec,
    engine: Engine,
    batch: int,
    kv_bytes: int,
    flops_per_sequence: float,
    bandwidth: float,
) -> tuple[float, Bound]:
    """``decode_step_seconds`` given what depends on the context and the engine alone (the KV
    bytes and FLOPs one sequence costs a step, the effective bandwidth)."""
    read = weights_read_per_step(model, engine.weights_bytes, batch) + batch * kv_bytes
    memory_s = read / bandwidth
    flops = batch * flops_per_sequence
    compute_s = flops / (engine.tflops * 1e12 * engine.compute_efficiency)
    overhead = engine.overhead_s(batch)
    if engine.tensor_parallel_size > 1:
        overhead += model.num_layers * TP_ALLREDUCES_PER_LAYER * engine.allreduce_latency_s
    floor = engine.step_floor_s
    if compute_s > memory_s:
        return max(floor, compute_s + overhead), Bound.COMPUTE
    if memory_s + overhead < floor:
        return floor, Bound.OVERHEAD
    return memory_s + overhead, Bound.MEMORY


def prefill_seconds(model: ModelSpec, engine: Engine, prompt_tokens: int) -> float:
    """Seconds to prefill one prompt: compute-bound, never faster than one pass over the weights."""
    flops = prompt_tokens * (
        2 * model.params_active + _attention_flops_per_token(model, prompt_tokens) / 2
    )
    compute_s = flops / (engine.tflops * 1e12 * engine.compute_efficiency)
    memory_s = weights_read_per_step(
        model, engine.weights_bytes, prompt_tokens
    ) / _effective_bandwidth(engine)
    return max(compute_s, memory_s)


class Stats(TypedDict):
    """One latency metric in milliseconds, as the load test reports it."""

    mean: float
    p50: float
    p90: float
    p95: float
    p99: float


class PredictedLevel(TypedDict):
    """One concurrency level as the model predicts it, in the load test's metric names."""

    server: str
    source: str
    concurrency: int
    running: int
    queued: int
    bound: str
    request_throughput: float
    output_token_throughput: float
    ttft_ms: Stats
    itl_ms: Stats
    tpot_ms: Stats
    e2el_ms: Stats


def _stats(mean_service_s: float, wait_s: float = 0.0) -> Stats:
    """{mean, p50, p90, p95, p99} in milliseconds from a mean service time and a mean queue wait."""

    def percentile(name: str) -> float:
        value = mean_service_s * SERVICE_SPREAD[name] + wait_s * WAIT_SPREAD[name]
        return round(value * 1000, 3)

    return {
        "mean": round((mean_service_s + wait_s) * 1000, 3),
        "p50": percentile("p50"),
        "p90": percentile("p90"),
        "p95": percentile("p95"),
        "p99": percentile("p99"),
    }


def predict_level(
    model: ModelSpec, engine: Engine, concurrency: int, prompt_tokens: int, output_tokens: int
) -> PredictedLevel:
    """One concurrency level: a load-test-shaped dict with ``"source": "model"``."""
    return predict_levels(model, engine, (concurrency,), prompt_tokens, output_tokens)[0]


def predict_levels(
    model: ModelSpec,
    engine: Engine,
    levels: tuple[int, ...] | list[int],
    prompt_tokens: int,
    output_tokens: int,
) -> list[PredictedLevel]:
    """``predict_level`` for each of ``levels``. What does not depend on the level (the prompt's
    prefill, a sequence's KV bytes and FLOPs per step, the bandwidth) is computed once: a
    recommendation predicts about 40 levels."""
    output = max(1, int(output_tokens))
    context = prompt_tokens + output // 2
    kv_bytes = kv.kv_bytes_for_context(model, engine.kv_dtype_bytes, context)
    flops_per_sequence = 2 * model.params_active + _attention_flops_per_token(model, context)
    bandwidth = _effective_bandwidth(engine)
    prefill_s = prefill_seconds(model, engine, prompt_tokens)
    chunks = math.ceil(max(1, prompt_tokens) / max(1, engine.max_num_batched_tokens))
    predicted: list[PredictedLevel] = []
    for concurrency in levels:
        users = max(1, int(concurrency))
        per_replica = math.ceil(users / max(1, engine.replicas))
        running = max(1, min(per_replica, engine.slots))
        queued = per_replica - running
        step_s, bound = _decode_step(
            model, engine, running, kv_bytes, flops_per_sequence, bandwidth
        )
        ttft_s = prefill_s + step_s * chunks
        # Other running requests' prefills are scheduled between (or inside) my decode steps.
        tpot_s = step_s + (running - 1) * prefill_s / output
        e2el_s = ttft_s + (output - 1) * tpot_s
        wait_s = e2el_s * queued / running
        replicas = max(1, min(engine.replicas, users))
        request_rate = replicas * running / e2el_s
        tpot = _stats(tpot_s)  # ITL and TPOT share a mean here: computed once
        predicted.append(
            {
                "server": str(engine.server),
                "source": "model",
                "concurrency": users,
                "running": running * replicas,
                "queued": queued * replicas,
                "bound": str(bound),
                "request_throughput": round(request_rate, 4),
                "output_token_throughput": round(request_rate * output, 2),
                "ttft_ms": _stats(ttft_s, wait_s),
                "itl_ms": tpot,
                "tpot_ms": tpot.copy(),
                "e2el_ms": _stats(e2el_s, wait_s),
            }
        )
    return predicted


def single_stream_decode_tps(model: ModelSpec, engine: Engine, context: int) -> float:
    """Tokens per second one request decodes at when it runs alone."""
    step_s, _ = decode_step_seconds(model, engine, 1, context)
    return 1 / step_s
