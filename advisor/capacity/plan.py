"""The serving plan: how each server would run on the user's hardware, stated once.

``estimate`` computes one ``ServingPlan`` per recommendation: a ``VllmPlan`` and two Ollama plans,
Ollama *as installed* (its defaults) and Ollama *as we would set it* (the settings the bundle
deploys). The page, the API, ``manage.py advise``/``estimate`` and the bundle all read these plans;
none of them sizes a server again. Every number here comes from the capacity model
(``vllm.vllm_capacity``, ``ollama.ollama_fit``); this module only chooses and names.

Releases: the images are the ones ``advisor.releases`` pins; the defaults follow those releases.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from advisor.capacity import ollama
from advisor.capacity.specs import GpuSpec, ModelSpec, Vendor
from advisor.capacity.vllm import RequestsHeld, VllmCapacity
from advisor.releases import (
    OLLAMA_IMAGE,
    OLLAMA_RELEASE,
    OLLAMA_ROCM_IMAGE,
    VLLM_IMAGE,
    VLLM_RELEASE,
    VLLM_ROCM_IMAGE,
)

# vLLM's KV dtypes that store fewer bytes than the model's (``--kv-cache-dtype``, 0.33.0
# vllm/config/cache.py CacheDType).
VLLM_FP8_KV_DTYPES = frozenset({"fp8", "fp8_e4m3", "fp8_e5m2"})
# Ollama on a Mac runs natively (Metal); Docker on macOS has no GPU access.
OLLAMA_NATIVE_INSTALL = "the native app (ollama.com/download)"
# vLLM's CPU build has no published image in the pinned set: it is installed from source.
VLLM_CPU_INSTALL = "vllm CPU build (docs.vllm.ai: installation, CPU)"


class OllamaSetting(StrEnum):
    """Which Ollama a statement is about."""

    INSTALLED = "installed"  # Ollama's defaults: what `ollama serve` does untouched
    TUNED = "tuned"  # the settings we would set (and the bundle sets)

    @property
    def label(self) -> str:
        return "Ollama as installed" if self is OllamaSetting.INSTALLED else "Ollama as we set it"


@dataclass(frozen=True)
class VllmPlan:
    """One ``vllm serve`` on the user's GPUs: tensor-parallel groups, replicated data-parallel.

    KV figures are per replica (each replica has its own cache); ``requests_held`` counts every
    replica at the workload's own request size (prompt + output), which is what paged blocks hold
    (``VllmCapacity.requests_held``).
    """

    runs: bool  # vLLM can run on this hardware at all
    why_not: str  # why it cannot ("" when it can)
    fits: bool  # vLLM would start with these settings (its own start-up check)
    image: str
    model: str  # the Hugging Face repo vLLM loads
    quantization: str  # the weight format vLLM is sized for
    tensor_parallel_size: int
    data_parallel_size: int
    gpus_available: int
    gpus_note: str  # why not every GPU is used ("" when all are)
    max_model_len: int
    max_model_len_auto: bool  # shortened from the model's context so vLLM starts
    max_num_seqs: int
    max_num_batched_tokens: int
    gpu_memory_utilization: float
    kv_cache_dtype: str
    kv_cache_bytes: int  # per GPU of a replica
    kv_cache_tokens: int  # per replica
    kv_source: str  # "model" | "measured"
    max_concurrency: float  # requests of max_model_len one replica holds (vLLM's log line)
    requests_held: RequestsHeld  # requests of the workload's prompt + output, every replica
    release: str = VLLM_RELEASE
    # The KV budget per GPU (vLLM's "Available KV cache memory"): measured when ``kv_source`` says
    # so, with the modelled one beside it and the model's error on it, (modelled - measured) /
    # measured in percent (None while nothing was measured).
    kv_budget_bytes: int = 0
    modelled_kv_budget_bytes: int = 0
    kv_budget_error_pct: float | None = None
    vllm_version: str = VLLM_RELEASE  # the release whose memory accounting sized this plan

    @property
    def gpus_per_replica(self) -> int:
        return self.tensor_parallel_size

    @property
    def gpus_used(self) -> int:
        return self.tensor_parallel_size * self.data_parallel_size if self.gpus_available else 0

    @property
    def serve_args(self) -> tuple[str, ...]:
        """What follows ``vllm serve <model>`` for these sizes (vLLM's defaults need no flag)."""
        args = [
            "--tensor-parallel-size",
            str(self.tensor_parallel_size),
            "--max-model-len",
            str(self.max_model_len),
            "--gpu-memory-utilization",
            f"{self.gpu_memory_utilization:g}",
            "--max-num-seqs",
            str(self.max_num_seqs),
        ]
        if self.data_parallel_size > 1:
            args += ["--data-parallel-size", str(self.data_parallel_size)]
        if self.kv_cache_dtype != "auto":
            args += ["--kv-cache-dtype", self.kv_cache_dtype]
        return tuple(args)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            gpus_per_replica=self.gpus_per_replica,
            gpus_used=self.gpus_used,
            serve_args=list(self.serve_args),
            max_concurrency=round(self.max_concurrency, 2),
            requests_held=self.requests_held.as_dict(),
        )
        return data


@dataclass(frozen=True)
class OllamaPlan:
    """One ``ollama serve``: the variables it runs with and the memory that results."""

    setting: OllamaSetting
    image: str
    model: str  # the Ollama tag
    quantization: str
    num_ctx: int
    num_parallel: int
    kv_cache_type: str
    flash_attention: bool
    gpu_layers: int
    total_layers: int
    max_queue: int
    memory_bytes: int
    memory_source: str  # "model" | "measured" (/api/ps size from the user's server)
    fits_in_vram: bool
    gpus_used: int
    release: str = OLLAMA_RELEASE
    # With a measured size (``memory_source`` "measured"): the modelled one and the model's
    # error on the measurement, (modelled - measured) / measured in percent.
    modelled_memory_bytes: int = 0
    memory_error_pct: float | None = None

    @property
    def environment(self) -> dict[str, str]:
        """The variables to set for this plan; none for Ollama as installed."""
        if self.setting is OllamaSetting.INSTALLED:
            return {}
        env = {
            "OLLAMA_CONTEXT_LENGTH": str(self.num_ctx),
            "OLLAMA_NUM_PARALLEL": str(self.num_parallel),
            "OLLAMA_MAX_QUEUE": str(self.max_queue),
        }
        if self.flash_attention:
            env["OLLAMA_FLASH_ATTENTION"] = "1"
        if self.kv_cache_type != "f16":
            env["OLLAMA_KV_CACHE_TYPE"] = self.kv_cache_type
        return env

    @property
    def slots_text(self) -> str:
        if self.num_parallel <= 1:
            return "one request at a time (OLLAMA_NUM_PARALLEL 1)"
        return (
            f"{self.num_parallel} fixed slots of {self.num_ctx:,} tokens each "
            f"(OLLAMA_NUM_PARALLEL {self.num_parallel})"
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            setting=str(self.setting), label=self.setting.label, environment=self.environment
        )
        return data


@dataclass(frozen=True)
class ServingPlan:
    """Both servers on the user's hardware; ``ollama`` is the one we would deploy."""

    vllm: VllmPlan
    ollama_installed: OllamaPlan
    ollama: OllamaPlan

    def as_dict(self) -> dict[str, Any]:
        return {
            "vllm": self.vllm.as_dict(),
            "ollama_installed": self.ollama_installed.as_dict(),
            "ollama": self.ollama.as_dict(),
        }


def vllm_runs(gpu: GpuSpec | None, *, platform: str | None, measured_on_cpu: bool) -> str:
    """Why vLLM cannot run on this hardware ("" when it can), to follow "vLLM is"."""
    if (platform or "").lower() == "macos" or (gpu is not None and gpu.unified_memory):
        return "not available on macOS"  # no Metal backend
    if gpu is None and not measured_on_cpu:
        return "not available without a GPU"  # its CPU build is not a production server
    return ""


def vllm_image(gpu: GpuSpec | None) -> str:
    if gpu is None:
        return VLLM_CPU_INSTALL
    return VLLM_ROCM_IMAGE if gpu.vendor is Vendor.AMD else VLLM_IMAGE


def ollama_image(gpu: GpuSpec | None) -> str:
    if gpu is not None and gpu.vendor is Vendor.APPLE:
        return OLLAMA_NATIVE_INSTALL
    if gpu is not None and gpu.vendor is Vendor.AMD:
        return OLLAMA_ROCM_IMAGE
    return OLLAMA_IMAGE


def vllm_plan(
    model: ModelSpec,
    gpu: GpuSpec | None,
    capacity: VllmCapacity,
    *,
    gpu_count: int,
    data_parallel_size: int,
    quantization: str,
    kv_cache_dtype: str,
    max_model_len_auto: bool,
    requests_held: RequestsHeld,
    why_not: str,
) -> VllmPlan:
    tp, dp = capacity.tensor_parallel_size, data_parallel_size
    idle = gpu_count - tp * dp if gpu else 0
    note = ""
    if idle > 0:
        note = (
            f"{idle} of {gpu_count} GPUs stay idle: replicas of {tp} GPUs "
            f"(--tensor-parallel-size {tp}) cannot use them"
        )
    return VllmPlan(
        runs=not why_not,
        why_not=why_not,
        fits=capacity.fits and not why_not,
        image=vllm_image(gpu),
        model=model.hf_repo,
        quantization=quantization,
        tensor_parallel_size=tp,
        data_parallel_size=dp,
        gpus_available=gpu_count if gpu else 0,
        gpus_note=note,
        max_model_len=capacity.max_model_len,
        max_model_len_auto=max_model_len_auto,
        max_num_seqs=capacity.max_num_seqs,
        max_num_batched_tokens=capacity.max_num_batched_tokens,
        gpu_memory_utilization=capacity.gpu_memory_utilization,
        kv_cache_dtype=kv_cache_dtype if kv_cache_dtype in VLLM_FP8_KV_DTYPES else "auto",
        kv_cache_bytes=capacity.kv_cache_bytes,
        kv_cache_tokens=capacity.kv_cache_tokens,
        kv_source=capacity.kv_budget_source,
        max_concurrency=capacity.max_concurrency,
        requests_held=requests_held,
        kv_budget_bytes=capacity.available_kv_cache_bytes,
        modelled_kv_budget_bytes=capacity.modelled_available_kv_cache_bytes,
        kv_budget_error_pct=_rounded(capacity.kv_budget_error_pct),
        vllm_version=capacity.vllm_version,
    )


def _rounded(percent: float | None) -> float | None:
    return None if percent is None else round(percent, 1)


def error_pct(modelled: float, measured: float) -> float | None:
    """The model's error on a measurement, (modelled - measured) / |measured| in percent."""
    return _rounded((modelled - measured) / abs(measured) * 100) if measured else None


def ollama_plan(
    setting: OllamaSetting,
    fit: ollama.OllamaFit,
    *,
    model: ModelSpec,
    gpu: GpuSpec | None,
    gpu_count: int,
    quantization: str,
    max_queue: int,
    measured_size_bytes: int | None = None,
) -> OllamaPlan:
    memory, source, error = fit.memory_bytes, "model", None
    if measured_size_bytes:
        memory, source = measured_size_bytes, "measured"
        error = error_pct(fit.memory_bytes, measured_size_bytes)
    return OllamaPlan(
        setting=setting,
        image=ollama_image(gpu),
        model=model.ollama_tag or model.id,
        quantization=quantization,
        num_ctx=fit.num_ctx,
        num_parallel=fit.num_parallel,
        kv_cache_type=fit.kv_cache_type,
        flash_attention=fit.flash_attention,
        gpu_layers=fit.gpu_layers,
        total_layers=fit.total_layers,
        max_queue=max_queue,
        memory_bytes=memory,
        memory_source=source,
        fits_in_vram=fit.fits_in_vram,
        gpus_used=gpu_count if gpu else 0,
        modelled_memory_bytes=fit.memory_bytes,
        memory_error_pct=error,
    )


def tuned_max_queue(peak_users: int) -> int:
    """OLLAMA_MAX_QUEUE we set: Ollama's default 512, or four waiting requests per peak user when
    that is more, so a burst queues instead of getting HTTP 503."""
    return max(ollama.MAX_QUEUE, peak_users * 4)
