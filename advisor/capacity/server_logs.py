"""Read what a user's own servers say about their memory, to replace the modelled figures.

- vLLM ``/metrics``: ``vllm:cache_config_info`` is an info gauge whose labels carry the cache
  config (``vllm/v1/metrics/loggers.py`` ``log_metrics_info("cache_config", ...)``), among them
  ``num_gpu_blocks``, ``block_size`` and ``gpu_memory_utilization``.
- A vLLM start-up log: "Available KV cache memory: 6.51 GiB" (``gpu_worker.py``), "GPU KV cache
  size: 42,656 tokens" and "Maximum concurrency for 32,768 tokens per request: 1.30x"
  (``kv_cache_utils.py``; one line since 0.33), "Model loading took 65.9651 GiB", and the V0 forms
  ("the rest of the memory reserved for KV Cache is 4.60GiB", "kv_cache_size=3.81GiB",
  "# GPU blocks: 1952", "total_gpu_memory (79.15GiB)").
- Ollama: its server log ("offloaded 29/29 layers to GPU", llama.cpp's "CUDA0 model buffer size =
  N MiB", "KV buffer size", "compute buffer size"), ``/api/ps`` JSON (``size``, ``size_vram``) and
  the ``ollama ps`` table (cmd/cmd.go ``ListRunningHandler``: SIZE in ``format.HumanBytes``'
  decimal units, whole numbers from 10 up; PROCESSOR "100% GPU" or "48%/52% CPU/GPU").

Pure functions over text; each raises ``AdvisorError(field=...)`` when the text holds nothing it
can read, so a pasted log that is not one says so instead of estimating from nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from advisor.capacity.specs import GIB, MIB
from advisor.errors import AdvisorError

_NUMBER = r"(-?[\d,]*\.?\d+)"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _last(pattern: str, text: str) -> re.Match[str] | None:
    """The last match: a log restarted several times describes the run that is up."""
    matches = list(re.finditer(pattern, text))
    return matches[-1] if matches else None


@dataclass(frozen=True)
class VllmCacheInfo:
    """The labels of ``vllm:cache_config_info`` a capacity estimate uses."""

    num_gpu_blocks: int
    block_size: int
    gpu_memory_utilization: float | None
    cache_dtype: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_vllm_metrics(text: str) -> VllmCacheInfo:
    """``vllm:cache_config_info`` from a vLLM ``/metrics`` page (Prometheus text format).
    Raises AdvisorError(field="vllm_metrics") when the gauge or num_gpu_blocks is missing."""
    match = re.search(r"^vllm:cache_config_info\{([^}]*)\}", text or "", re.MULTILINE)
    if not match:
        raise AdvisorError(
            "No vllm:cache_config_info line: paste the text of the server's /metrics page.",
            field="vllm_metrics",
        )
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1)))
    blocks = labels.get("num_gpu_blocks", "")
    if not blocks.strip().isdigit():
        raise AdvisorError(
            "vllm:cache_config_info has no num_gpu_blocks (the engine has not sized its cache yet).",
            field="vllm_metrics",
        )
    utilization = labels.get("gpu_memory_utilization")
    return VllmCacheInfo(
        num_gpu_blocks=int(blocks),
        block_size=int(labels.get("block_size") or 16),
        gpu_memory_utilization=float(utilization) if utilization else None,
        cache_dtype=labels.get("cache_dtype") or None,
    )


@dataclass(frozen=True)
class VllmStartup:
    """What a vLLM start-up log says about memory; None for what it does not say."""

    available_kv_cache_bytes: int | None
    kv_cache_tokens: int | None
    max_concurrency: float | None
    max_model_len: int | None
    num_gpu_blocks: int | None
    weights_bytes: int | None
    total_gpu_memory_bytes: int | None
    refused: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_vllm_startup_log(text: str) -> VllmStartup:
    """The memory figures of a pasted vLLM start-up log (V1 and V0 wordings).
    Raises AdvisorError(field="vllm_log") when it holds none of them."""
    text = text or ""
    available = _last(rf"Available KV cache memory:\s*{_NUMBER}\s*GiB", text) or _last(
        rf"(?:reserved for KV Cache is|kv_cache_size=)\s*{_NUMBER}\s*GiB", text
    )
    tokens = _last(rf"GPU KV cache size:\s*{_NUMBER}\s*tokens", text)
    concurrency = _last(
        rf"Maximum concurrency for\s*{_NUMBER}\s*tokens per request:\s*{_NUMBER}x", text
    )
    blocks = _last(rf"#\s*(?:GPU|CUDA|cuda) blocks:\s*{_NUMBER}", text) or _last(
        rf"\bGPU blocks:\s*{_NUMBER}", text
    )
    weights = _last(rf"(?:Model loading took|Loading model weights took)\s*{_NUMBER}\s*G", text)
    total = _last(rf"total_gpu_memory\s*[=(]\s*{_NUMBER}\s*GiB", text)
    refused = bool(
        re.search(
            r"larger than the maximum number of tokens that can be stored in KV cache"
            r"|KV cache is needed, which is larger than the available KV cache memory"
            r"|No available memory for the cache blocks",
            text,
        )
    )
    found = [available, tokens, concurrency, blocks, weights, total]
    if not any(found) and not refused:
        raise AdvisorError(
            'No vLLM memory line found (e.g. "Available KV cache memory: ... GiB" or '
            '"GPU KV cache size: ... tokens"): paste the start-up log.',
            field="vllm_log",
        )
    return VllmStartup(
        available_kv_cache_bytes=int(_number(available.group(1)) * GIB) if available else None,
        kv_cache_tokens=int(_number(tokens.group(1))) if tokens else None,
        max_concurrency=_number(concurrency.group(2)) if concurrency else None,
        max_model_len=int(_number(concurrency.group(1))) if concurrency else None,
        num_gpu_blocks=int(_number(blocks.group(1))) if blocks else None,
        # V0 printed GiB under the label "GB" ("Loading model weights took 14.9888 GB").
        weights_bytes=int(_number(weights.group(1)) * GIB) if weights else None,
        total_gpu_memory_bytes=int(_number(total.group(1)) * GIB) if total else None,
        refused=refused,
    )


@dataclass(frozen=True)
class OllamaLoad:
    """What Ollama reports about one loaded model; None for what the text does not say."""

    gpu_layers: int | None
    total_layers: int | None
    size_bytes: int | None
    size_vram_bytes: int | None
    weights_vram_bytes: int | None
    kv_cache_bytes: int | None
    graph_bytes: int | None

    @property
    def gpu_fraction(self) -> float | None:
        if self.size_bytes and self.size_vram_bytes is not None:
            return self.size_vram_bytes / self.size_bytes
        if self.gpu_layers is not None and self.total_layers:
            return self.gpu_layers / self.total_layers
        return None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["gpu_fraction"] = self.gpu_fraction
        return data


# ollama/format/bytes.go HumanBytes: decimal units.
_DECIMAL_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_PS_ROW = re.compile(
    r"^\S+\s+[0-9a-f]{12}\s+(?P<size>[\d.]+)\s*(?P<unit>[KMGT]?B)\s+"
    r"(?P<processor>100% GPU|100% CPU|(?P<cpu>\d+)%/(?P<gpu>\d+)% CPU/GPU|Unknown)",
    re.MULTILINE,
)


def _parse_ps_table(text: str) -> OllamaLoad | None:
    """The first model row of ``ollama ps`` (None when the text is not that table). SIZE is
    rounded by ``ollama ps`` (to whole GB from 10 GB up); /api/ps gives the exact bytes."""
    row = _PS_ROW.search(text)
    if row is None:
        return None
    size = int(float(row["size"]) * _DECIMAL_UNITS[row["unit"]])
    processor = row["processor"]
    vram: int | None = None  # "Unknown"
    if processor == "100% GPU":
        vram = size
    elif processor == "100% CPU":
        vram = 0
    elif row["gpu"] is not None:
        vram = round(size * int(row["gpu"]) / 100)
    return OllamaLoad(
        gpu_layers=None,
        total_layers=None,
        size_bytes=size,
        size_vram_bytes=vram,
        weights_vram_bytes=None,
        kv_cache_bytes=None,
        graph_bytes=None,
    )


def _sum_mib(pattern: str, text: str) -> int | None:
    """Sum of every device's buffer of one kind ("CUDA0 ... = 4403.49 MiB", "CUDA1 ...")."""
    values = [_number(value) for value in re.findall(pattern, text)]
    return int(sum(values) * MIB) if values else None


def parse_ollama_load(text: str) -> OllamaLoad:
    """Ollama's load lines, an ``/api/ps`` response or ``ollama ps`` (the first model in them).
    Raises AdvisorError(field="ollama_log") when the text holds neither."""
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise AdvisorError("That /api/ps text is not valid JSON.", field="ollama_log") from None
        models = data.get("models") if isinstance(data, dict) else None
        if not models or not isinstance(models[0], dict) or "size" not in models[0]:
            raise AdvisorError("The /api/ps response lists no loaded model.", field="ollama_log")
        first = models[0]
        return OllamaLoad(
            gpu_layers=None,
            total_layers=None,
            size_bytes=int(first["size"]),
            size_vram_bytes=int(first.get("size_vram", 0)),
            weights_vram_bytes=None,
            kv_cache_bytes=None,
            graph_bytes=None,
        )
    table = _parse_ps_table(text)
    if table is not None:
        return table
    offloaded = _last(r"offloaded (\d+)/(\d+) layers to GPU", text)
    device = r"(?:CUDA|ROCm|Metal|MTL|Vulkan)\d*"
    weights = _sum_mib(rf"{device}\s+model buffer size\s*=\s*{_NUMBER}\s*MiB", text)
    cache = _sum_mib(rf"{device}\s+KV buffer size\s*=\s*{_NUMBER}\s*MiB", text)
    graph = _sum_mib(rf"{device}\s+compute buffer size\s*=\s*{_NUMBER}\s*MiB", text)
    if not (offloaded or weights or cache):
        raise AdvisorError(
            'No Ollama load line found (e.g. "offloaded 29/29 layers to GPU" or "CUDA0 model '
            'buffer size = ... MiB"): paste the server log or the /api/ps response.',
            field="ollama_log",
        )
    on_gpu = sum(value or 0 for value in (weights, cache, graph))
    return OllamaLoad(
        gpu_layers=int(offloaded.group(1)) if offloaded else None,
        total_layers=int(offloaded.group(2)) if offloaded else None,
        size_bytes=None,
        size_vram_bytes=on_gpu or None,
        weights_vram_bytes=weights,
        kv_cache_bytes=cache,
        graph_bytes=graph,
    )


def measured_fields(
    *,
    vllm_log: str | None = None,
    vllm_metrics: str | None = None,
    ollama_ps: str | None = None,
) -> dict[str, Any]:
    """``EstimateRequest`` fields from the user's server output: a start-up log's KV budget (or
    block count), ``/metrics``' block count and utilization, Ollama's size (``/api/ps``, ``ollama
    ps``, or the load lines' buffers when every layer is on the GPU). What a text does not hold is
    left out; a text that holds nothing readable raises AdvisorError (its field)."""
    fields: dict[str, Any] = {}
    if vllm_log:
        log = parse_vllm_startup_log(vllm_log)
        if log.available_kv_cache_bytes is not None:
            fields["kv_cache_budget_gib"] = log.available_kv_cache_bytes / GIB
        elif log.num_gpu_blocks is not None:
            fields["num_gpu_blocks"] = log.num_gpu_blocks
    if vllm_metrics:
        info = parse_vllm_metrics(vllm_metrics)
        fields["num_gpu_blocks"] = info.num_gpu_blocks
        if info.gpu_memory_utilization:
            fields["gpu_memory_utilization"] = info.gpu_memory_utilization
    if ollama_ps:
        try:
            load = parse_ollama_load(ollama_ps)
        except AdvisorError as error:
            raise AdvisorError(error.message, field="ollama_ps") from None
        size = load.size_bytes
        if size is None and load.gpu_fraction == 1.0:
            # Every layer on the GPU: the model's memory is the buffers llama.cpp allocated there.
            size = load.size_vram_bytes
        elif size is None:
            raise AdvisorError(
                "These load lines do not show every layer on the GPU, so its buffers are not the "
                "model's whole size: paste `ollama ps` or the /api/ps response instead.",
                field="ollama_ps",
            )
        if size:
            fields["ollama_measured_size_gib"] = size / GIB
    return fields
