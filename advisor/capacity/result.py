"""The estimate's result: the sized configuration of both servers and its JSON shape.

``Estimate.as_dict()`` is the contract documented in docs/capacity.md; ``estimate.py`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor.capacity.cost import CostAtLoad, HourlyPrice
from advisor.capacity.ollama import (
    DEFAULT_NUM_PARALLEL,
    MAX_QUEUE,
    OllamaFit,
    OllamaSettings,
    default_num_ctx,
)
from advisor.capacity.performance import PredictedLevel
from advisor.capacity.request import EstimateRequest
from advisor.capacity.specs import GIB, GpuSpec, ModelSpec, Quantization
from advisor.capacity.vllm import VllmCapacity


@dataclass(frozen=True)
class Estimate:
    request: EstimateRequest
    model: ModelSpec
    gpu: GpuSpec | None
    vllm_quantization: Quantization
    ollama_quantization: Quantization
    weights_bytes: int
    ollama_weights_bytes: int
    kv_bytes_per_token: int
    vllm: VllmCapacity
    vllm_replicas: int
    vllm_max_model_len_auto: bool
    ollama: OllamaFit
    ollama_recommended: OllamaSettings
    performance: tuple[PredictedLevel, ...]
    calibration: tuple[dict[str, Any], ...]
    price: HourlyPrice
    cost: tuple[CostAtLoad, ...]  # both servers at each requested concurrency
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        capacity = self.vllm.as_dict()
        capacity["data_parallel_replicas"] = self.vllm_replicas
        capacity["max_model_len_auto"] = self.vllm_max_model_len_auto
        capacity["quantization"] = self.vllm_quantization.id
        capacity["serve_args"] = _vllm_serve_args(self)
        fit = self.ollama.as_dict()
        fit["quantization"] = self.ollama_quantization.id
        fit["memory_source"] = "model"
        measured = self.request.ollama_measured_size_gib
        if measured:
            # /api/ps "size" from the user's server replaces the modelled total; the modelled
            # one stays beside it with its error.
            fit["modelled_memory_bytes"] = self.ollama.memory_bytes
            fit["memory_bytes"] = int(measured * GIB)
            fit["memory_error_pct"] = round(
                (self.ollama.memory_bytes - measured * GIB) / (measured * GIB) * 100, 1
            )
            fit["memory_source"] = "measured"
        fit["recommended"] = self.ollama_recommended
        fit["defaults"] = {
            "OLLAMA_NUM_PARALLEL": DEFAULT_NUM_PARALLEL,
            "OLLAMA_CONTEXT_LENGTH": default_num_ctx(self.ollama.vram_bytes, self.model),
            "OLLAMA_KV_CACHE_TYPE": "f16",
            "OLLAMA_MAX_QUEUE": MAX_QUEUE,
        }
        return {
            "request": self.request.as_dict(),
            "model": {
                "id": self.model.id,
                "name": self.model.name,
                "hf_repo": self.model.hf_repo,
                "ollama_tag": self.model.ollama_tag,
            },
            "gpu": None
            if self.gpu is None
            else {
                "id": self.gpu.id,
                "name": self.gpu.name,
                "vendor": str(self.gpu.vendor),
                "memory_bytes": self.gpu.memory_bytes,
                "count": self.request.gpu_count,
            },
            "weights_bytes": self.weights_bytes,
            "ollama_weights_bytes": self.ollama_weights_bytes,
            "kv_bytes_per_token": self.kv_bytes_per_token,
            "kv_layout": {
                "full_attention_layers": self.model.num_full_layers,
                "sliding_window_layers": self.model.num_sliding_layers,
                "sliding_window": self.model.sliding_window,
                "mla": self.model.uses_mla,
            },
            "vllm": capacity,
            "ollama": fit,
            "performance": list(self.performance),
            "calibration": list(self.calibration),
            "cost": {
                "price": self.price.as_dict(),
                "levels": [level.as_dict() for level in self.cost],
            },
            "notes": list(self.notes),
        }


def _vllm_serve_args(result: Estimate) -> list[str]:
    args = [
        "--tensor-parallel-size",
        str(result.vllm.tensor_parallel_size),
        "--max-model-len",
        str(result.vllm.max_model_len),
        "--gpu-memory-utilization",
        f"{result.vllm.gpu_memory_utilization:g}",
    ]
    if result.request.kv_cache_dtype.lower() in {"fp8", "fp8_e4m3", "fp8_e5m2"}:
        args += ["--kv-cache-dtype", result.request.kv_cache_dtype.lower()]
    if result.vllm_replicas > 1:
        args += ["--data-parallel-size", str(result.vllm_replicas)]
    # Batch limits the user set explicitly; vLLM's defaults need no flag.
    if result.request.max_num_seqs:
        args += ["--max-num-seqs", str(result.request.max_num_seqs)]
    if result.request.max_num_batched_tokens:
        args += ["--max-num-batched-tokens", str(result.request.max_num_batched_tokens)]
    return args
