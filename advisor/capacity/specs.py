"""Frozen descriptions of a model, a GPU and a weight/KV number format.

Plain dataclasses with no Django import; the catalog builds them from the YAML files under
``advisor/capacity/data`` and the custom-model readers build them from a config.json or a GGUF header.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from typing import Any

MIB = 1024**2
GIB = 1024**3
GB = 1000**3


class Vendor(enum.StrEnum):
    NVIDIA = "nvidia"
    AMD = "amd"
    APPLE = "apple"


class QuantKind(enum.StrEnum):
    """Which server can load a weight format: vLLM (safetensors), Ollama (GGUF), or both."""

    WEIGHTS = "weights"  # safetensors formats vLLM loads (bf16, fp8, AWQ, ...)
    GGUF = "gguf"  # llama.cpp / Ollama formats
    KV = "kv"  # KV-cache element types


@dataclass(frozen=True)
class ModelSpec:
    """One transformer's shape: enough to size its weights, KV cache and per-token FLOPs.

    ``sliding_window`` is the window of the local-attention layers (None: every layer is global);
    ``full_attention_interval`` says every N-th layer is global (Gemma 2 and gpt-oss: 2, Gemma 3: 6;
    1 means every layer slides, as in Mistral 7B v0.1); ``full_attention_layers`` overrides the count
    when a config lists its layer types explicitly. ``kv_lora_rank`` / ``qk_rope_head_dim`` are set
    for MLA models (DeepSeek-V3/R1), whose KV cache is one compressed latent per token and layer.
    ``vllm_loaded_weights_bytes`` is what vLLM logs as "Model loading took" for the native checkpoint
    when that differs from the files (MXFP4 experts repacked on GPUs without FP4); ``tie_word_embeddings``
    says the output layer reuses the embedding matrix (config.json), which matters for the bf16 part
    of a quantized checkpoint.
    """

    id: str
    name: str
    family: str
    hf_repo: str
    ollama_tag: str | None
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    params_total: float
    params_active: float
    max_context: int
    sliding_window: int | None = None
    full_attention_interval: int | None = None
    full_attention_layers: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    num_experts: int | None = None
    num_experts_active: int | None = None
    native_quantization: str = "bf16"
    native_weights_bytes: int | None = None
    vllm_loaded_weights_bytes: int | None = None
    tie_word_embeddings: bool = False
    ollama_quantization: str = "Q4_K_M"
    aliases: tuple[str, ...] = ()
    source: str = ""

    @property
    def is_moe(self) -> bool:
        return bool(self.num_experts)

    @property
    def uses_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def expert_counts(self) -> tuple[int, int]:
        """(routed experts, experts each token runs) of a MoE. Raises ValueError when the spec
        lacks either count."""
        if not self.num_experts or self.num_experts_active is None:
            raise ValueError(f"{self.id} does not give both expert counts.")
        return self.num_experts, self.num_experts_active

    @property
    def mla_dims(self) -> tuple[int, int]:
        """(kv_lora_rank, qk_rope_head_dim) of an MLA model. Raises ValueError when the spec lacks
        either."""
        if self.kv_lora_rank is None or self.qk_rope_head_dim is None:
            raise ValueError(f"{self.id} does not give both MLA dimensions.")
        return self.kv_lora_rank, self.qk_rope_head_dim

    @property
    def num_sliding_layers(self) -> int:
        """Layers that keep only ``sliding_window`` tokens of KV (0 when the model has no window)."""
        if not self.sliding_window:
            return 0
        if self.full_attention_layers is not None:
            return self.num_layers - self.full_attention_layers
        interval = self.full_attention_interval or 1
        if interval <= 1:
            return self.num_layers
        return self.num_layers - self.num_layers // interval

    @property
    def num_full_layers(self) -> int:
        return self.num_layers - self.num_sliding_layers

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data


@dataclass(frozen=True)
class GpuSpec:
    """One accelerator. ``memory_bytes`` is what the framework can see (per device).

    Apple ``unified_memory`` devices share system RAM; Metal lets the GPU wire only part of it
    (``gpu_memory_fraction``), the rest stays with macOS. ``cuda_total_bytes`` is the total the CUDA
    runtime reports (``torch.cuda.mem_get_info``), which vLLM multiplies by its utilization; None
    when no public log gives it (``vllm_memory.cuda_total_bytes`` then derives it).
    """

    id: str
    name: str
    vendor: Vendor
    memory_bytes: int
    bandwidth_gbps: float
    bf16_tflops: float
    hourly_usd: float
    datacenter: bool
    unified_memory: bool = False
    gpu_memory_fraction: float = 1.0
    cuda_total_bytes: int | None = None
    nvlink: bool = False
    memory_options_gib: tuple[int, ...] = ()
    driver_names: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    source: str = ""
    price_source: str = ""

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB

    @property
    def usable_memory_bytes(self) -> int:
        """Memory the accelerator may use for a model (all of it, except on unified memory)."""
        return int(self.memory_bytes * self.gpu_memory_fraction)

    def with_memory(self, memory_bytes: int) -> GpuSpec:
        """The same GPU with the memory a probe measured (e.g. a 64 GB Mac instead of the catalog's).
        A probe reads what the driver reports, so that is also the CUDA total."""
        return replace(self, memory_bytes=int(memory_bytes), cuda_total_bytes=None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["vendor"] = str(self.vendor)
        data["driver_names"] = list(self.driver_names)
        data["aliases"] = list(self.aliases)
        data["memory_options_gib"] = list(self.memory_options_gib)
        return data


@dataclass(frozen=True)
class Quantization:
    """A number format: ``bits_per_weight`` includes block scales / group overhead."""

    id: str
    name: str
    kind: QuantKind
    bits_per_weight: float
    servers: tuple[str, ...] = field(default=("vllm", "ollama"))
    aliases: tuple[str, ...] = ()
    source: str = ""

    @property
    def bytes_per_weight(self) -> float:
        return self.bits_per_weight / 8

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["servers"] = list(self.servers)
        data["aliases"] = list(self.aliases)
        return data
