"""The estimate's result: the sized configuration of both servers and its JSON shape.

``Estimate.as_dict()`` is the contract documented in docs/capacity.md; ``estimate.py`` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor.capacity.cost import CostAtLoad, HourlyPrice
from advisor.capacity.ollama import OllamaFit
from advisor.capacity.performance import PredictedLevel
from advisor.capacity.plan import ServingPlan
from advisor.capacity.request import EstimateRequest
from advisor.capacity.specs import GpuSpec, ModelSpec, Quantization
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
    ollama: OllamaFit  # Ollama as we set it (plan.ollama); the levels are predicted for it
    plan: ServingPlan
    performance: tuple[PredictedLevel, ...]
    calibration: tuple[dict[str, Any], ...]
    price: HourlyPrice
    cost: tuple[CostAtLoad, ...]  # both servers at each requested concurrency
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        capacity = self.vllm.as_dict()
        capacity["quantization"] = self.vllm_quantization.id
        fit = self.ollama.as_dict()
        fit["quantization"] = self.ollama_quantization.id
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
            "plan": self.plan.as_dict(),
        }
