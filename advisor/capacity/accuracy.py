"""The capacity model against public measurements: one row per corpus point, and a summary.

The corpus (``tests/data/capacity_corpus.yaml``) lists figures copied from vLLM start-up logs,
llama.cpp benchmark tables and Ollama reports, each with its source and the settings it states.
``evaluate(points)`` runs the model on each point's settings and returns its prediction and error;
``summarize(rows)`` counts the points inside the targets of docs/capacity.md. Pure: no Django; the
caller reads the YAML (``load_corpus``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from advisor.capacity import kv, ollama, performance, vllm
from advisor.capacity.catalog import resolve_gpu, resolve_model, resolve_quantization
from advisor.capacity.estimate import ollama_engine
from advisor.capacity.request import EstimateRequest
from advisor.capacity.specs import GB, GIB

# The targets of the capacity issue: KV budget within 2%, decode within 20%, prefill within 30%.
KV_BUDGET_TOLERANCE = 0.02
DECODE_TOLERANCE = 0.20
PREFILL_TOLERANCE = 0.30
# The block arithmetic given vLLM's own budget is exact up to the log's rounding of the GiB figure.
KV_TOKENS_TOLERANCE = 0.02
# `ollama ps` prints sizes with one decimal in GB; /api/ps size within this share counts as right.
OLLAMA_SIZE_TOLERANCE = 0.10


@dataclass(frozen=True)
class Row:
    """One point: what was measured, what the model says, and the relative error."""

    id: str
    kind: str
    source: str
    settings_complete: bool
    fit_set: bool
    measured: float
    predicted: float
    unit: str
    tolerance: float
    fits_measured: bool | None = None
    fits_predicted: bool | None = None

    @property
    def error(self) -> float:
        """(predicted - measured) / |measured|."""
        if not self.measured:
            return math.inf
        return (self.predicted - self.measured) / abs(self.measured)

    @property
    def within(self) -> bool:
        return abs(self.error) <= self.tolerance

    @property
    def fit_right(self) -> bool | None:
        if self.fits_measured is None:
            return None
        return self.fits_measured == self.fits_predicted


# A corpus point is a YAML mapping whose keys depend on its kind (see the corpus file's header).
Point = Mapping[str, Any]


def load_corpus(path: Path) -> list[Point]:
    with path.open(encoding="utf-8") as handle:
        points: list[Point] = yaml.safe_load(handle)["points"]
    return points


def _vllm_capacity(point: Point, *, budget_gib: float | None = None) -> vllm.VllmCapacity:
    settings = dict(point.get("settings") or {})
    model = resolve_model(point["model"])
    gpu = resolve_gpu(point["gpu"]) if point.get("gpu") else None
    if gpu is not None and point.get("gpu_memory_gib"):
        gpu = gpu.with_memory(int(point["gpu_memory_gib"] * GIB))
        # A logged CUDA total (vLLM's total_gpu_memory) is the figure vLLM multiplies.
        gpu = replace(gpu, cuda_total_bytes=int(point["gpu_memory_gib"] * GIB))
    quantization = resolve_quantization(point["quantization"])
    weights = kv.vllm_weights_bytes(model, quantization)
    tp = int(settings.get("tensor_parallel_size") or 1)
    if settings.get("expert_parallel"):
        # Data-parallel attention, experts spread over the GPUs: weights_bytes is the whole model
        # and vllm_capacity divides by TP, so hand it one GPU's share.
        weights = kv.expert_parallel_weights_per_gpu(
            model, quantization, weights, int(settings.get("data_parallel_size") or 1)
        )
    return vllm.vllm_capacity(
        model,
        gpu or resolve_gpu("h100"),
        tensor_parallel_size=tp,
        weights_bytes=weights,
        kv_dtype_bytes=2,
        max_model_len=settings.get("max_model_len"),
        gpu_memory_utilization=settings.get("gpu_memory_utilization"),
        max_num_seqs=settings.get("max_num_seqs"),
        max_num_batched_tokens=settings.get("max_num_batched_tokens"),
        kv_cache_budget_bytes=int(budget_gib * GIB) if budget_gib is not None else None,
        vllm_version=point.get("release"),
    )


def _speed(point: Point) -> tuple[float, str]:
    settings = point["settings"]
    request = EstimateRequest(
        model=point["model"],
        gpu=point["gpu"],
        gpu_count=int(point.get("gpu_count") or 1),
        quantization=point["quantization"],
        gpu_memory_gib=point.get("gpu_memory_gib"),
        concurrency=(1,),
        num_parallel=1,
        # llama-bench sizes its context to the test (n_prompt + n_gen).
        num_ctx=max(256, int(settings["prompt_tokens"]) + int(settings["generated_tokens"])),
        avg_prompt_tokens=max(1, int(settings["prompt_tokens"])),
        avg_output_tokens=max(1, int(settings["generated_tokens"])),
    )
    model, _, engine = ollama_engine(request)
    if point["kind"] == "prefill_tps":
        tokens = int(settings["prompt_tokens"])
        return tokens / performance.prefill_seconds(model, engine, tokens), "tokens/s"
    # tgN: the mean over N generated tokens, the context growing from 0 to N.
    context = int(settings["generated_tokens"]) // 2
    return performance.single_stream_decode_tps(model, engine, context), "tokens/s"


def _ollama_memory(point: Point) -> tuple[float, float]:
    """The ``size`` (GB) and GPU share the point's Ollama release reports for its settings."""
    settings = point["settings"]
    model = resolve_model(point["model"])
    gpu = resolve_gpu(point["gpu"])
    if point.get("gpu_memory_gib"):
        gpu = gpu.with_memory(int(point["gpu_memory_gib"] * GIB))
    kv_type = str(settings.get("kv_cache_type") or "f16")
    fit = ollama.ollama_fit(
        model,
        weights_bytes=kv.weights_bytes(model, resolve_quantization(point["quantization"])),
        vram_bytes=gpu.usable_memory_bytes,
        gpu_count=int(point.get("gpu_count") or 1),
        num_ctx=int(settings["num_ctx"]),
        num_parallel=int(settings.get("num_parallel") or 1),
        kv_cache_type=kv_type,
        kv_dtype_bytes=ollama.KV_BYTES[kv_type],
        flash_attention=bool(settings.get("flash_attention")),
        release=point.get("release"),
    )
    return fit.memory_bytes / GB, fit.gpu_fraction


def evaluate_point(point: Point) -> Row:
    """One corpus point through the model. Raises AdvisorError for a name the catalog lacks."""
    kind, measured = point["kind"], point["measured"]
    common = {
        "id": point["id"],
        "kind": kind,
        "source": point["source"],
        "settings_complete": bool(point.get("settings_complete")),
        "fit_set": bool(point.get("fit_set")),
    }
    if kind == "vllm_kv_budget":
        capacity = _vllm_capacity(point)
        predicted = capacity.available_kv_cache_bytes / GIB
        return Row(
            **common,
            measured=measured["available_kv_gib"],
            predicted=predicted,
            unit="GiB",
            tolerance=KV_BUDGET_TOLERANCE,
            fits_measured=measured.get("fits"),
            fits_predicted=capacity.fits,
        )
    if kind == "vllm_kv_tokens":
        capacity = _vllm_capacity(point, budget_gib=point["given"]["available_kv_gib"])
        return Row(
            **common,
            measured=measured["kv_tokens"],
            predicted=capacity.kv_cache_tokens,
            unit="tokens",
            tolerance=KV_TOKENS_TOLERANCE,
        )
    if kind == "vllm_kv_needed":
        capacity = _vllm_capacity(point, budget_gib=1.0)
        groups = vllm.kv_groups(resolve_model(point["model"]))
        needed = capacity.blocks_per_request * capacity.page_size_bytes * groups.layers_per_group
        return Row(
            **common,
            measured=measured["kv_needed_gib"],
            predicted=needed / GIB,
            unit="GiB",
            tolerance=KV_TOKENS_TOLERANCE,
        )
    if kind in {"decode_tps", "prefill_tps"}:
        predicted, unit = _speed(point)
        return Row(
            **common,
            measured=measured[kind],
            predicted=predicted,
            unit=unit,
            tolerance=DECODE_TOLERANCE if kind == "decode_tps" else PREFILL_TOLERANCE,
        )
    if kind == "ollama_memory":
        size_gb, fraction = _ollama_memory(point)
        return Row(
            **common,
            measured=measured["size_gb"],
            predicted=size_gb,
            unit="GB",
            tolerance=OLLAMA_SIZE_TOLERANCE,
            fits_measured=measured["gpu_fraction"] >= 1.0,
            fits_predicted=fraction >= 1.0,
        )
    raise ValueError(f"Unknown corpus kind {kind!r} in {point['id']}.")


def evaluate(points: Iterable[Point]) -> list[Row]:
    return [evaluate_point(point) for point in points]


@dataclass(frozen=True)
class Share:
    """How many points of a group are inside their tolerance."""

    within: int
    total: int
    median_abs_error: float

    @property
    def fraction(self) -> float:
        return self.within / self.total if self.total else 0.0


def _share(rows: list[Row]) -> Share:
    errors = [abs(row.error) for row in rows]
    return Share(
        within=sum(row.within for row in rows),
        total=len(rows),
        median_abs_error=statistics.median(errors) if errors else 0.0,
    )


def summarize(rows: list[Row]) -> dict[str, Share]:
    """Shares per target: the KV budget on points with every setting stated (and on all), the
    block arithmetic, fit/refuse answers, decode and prefill (all, and the held-out ones)."""
    by_kind: dict[str, list[Row]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    budget = by_kind.get("vllm_kv_budget", [])
    decode = by_kind.get("decode_tps", [])
    prefill = by_kind.get("prefill_tps", [])
    fits = [row for row in rows if row.fit_right is not None]
    return {
        "kv_budget_stated": _share([row for row in budget if row.settings_complete]),
        "kv_budget_all": _share(budget),
        "kv_arithmetic": _share(
            by_kind.get("vllm_kv_tokens", []) + by_kind.get("vllm_kv_needed", [])
        ),
        "fit_refuse": Share(
            within=sum(bool(row.fit_right) for row in fits), total=len(fits), median_abs_error=0.0
        ),
        "decode": _share(decode),
        "decode_held_out": _share([row for row in decode if not row.fit_set]),
        "prefill": _share(prefill),
        "prefill_held_out": _share([row for row in prefill if not row.fit_set]),
        "ollama_memory": _share(by_kind.get("ollama_memory", [])),
    }
