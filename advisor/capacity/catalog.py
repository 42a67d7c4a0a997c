"""The model, GPU and quantization catalogs, and the one resolver every entry point uses.

``resolve_model`` accepts a catalog id, a Hugging Face repo id or an Ollama tag; ``resolve_gpu`` a
catalog id or the name a driver prints ("NVIDIA H100 80GB HBM3", "Tesla T4", "Apple M3 Max");
``resolve_quantization`` a weight format ("q4_k_m" = "Q4_K_M"); ``resolve_kv_dtype`` a KV-cache type
("auto", "fp8", "q8_0"). All match case-insensitively and raise ``AdvisorError`` naming the field and
the closest known names when nothing matches. The catalogs are YAML files under ``data/``, read once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

from advisor.capacity.specs import GIB, GpuSpec, ModelSpec, Quantization, QuantKind, Vendor
from advisor.errors import AdvisorError

DATA_DIR = Path(__file__).resolve().parent / "data"

# Words a driver adds around the product name; dropping them lets "RTX 4090" match
# "NVIDIA GeForce RTX 4090".
_VENDOR_WORDS = ("nvidia", "geforce", "tesla", "amd", "apple")
_MAX_SUGGESTIONS = 5
_SUGGESTION_CUTOFF = 0.5


def _load(name: str) -> list[dict[str, Any]]:
    """The rows of one catalog file: YAML mappings, typed by the ``_*_from_row`` readers."""
    with (DATA_DIR / f"{name}.yaml").open(encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = yaml.safe_load(handle)[name]
    return rows


def _compact(text: str) -> str:
    """Lower-case letters and digits only: "NVIDIA A100-SXM4-80GB" -> "nvidiaa100sxm480gb"."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _without_vendor(text: str) -> str:
    words = re.split(r"[\s_]+", text.lower().strip())
    return " ".join(word for word in words if word not in _VENDOR_WORDS)


def _model_from_row(row: dict[str, Any]) -> ModelSpec:
    data = dict(row)
    # PyYAML (YAML 1.1) reads "8.03e9" as a string: it wants a signed exponent.
    for key in ("params_total", "params_active"):
        data[key] = float(data[key])
    data["aliases"] = tuple(str(alias) for alias in data.get("aliases", ()))
    loaded_gib = data.pop("vllm_loaded_weights_gib", None)
    data.pop("vllm_loaded_weights_source", None)
    data["vllm_loaded_weights_bytes"] = int(loaded_gib * GIB) if loaded_gib else None
    return ModelSpec(**data)


def _gpu_from_row(row: dict[str, Any]) -> GpuSpec:
    data = dict(row)
    memory_gib = data.pop("memory_gib")
    visible_mib = data.pop("visible_memory_mib", None)
    memory_bytes = visible_mib * 1024**2 if visible_mib else int(memory_gib * GIB)
    cuda_total_gib = data.pop("cuda_total_gib", None)
    data.pop("cuda_total_source", None)
    data["cuda_total_bytes"] = int(cuda_total_gib * GIB) if cuda_total_gib else None
    unified = bool(data.get("unified_memory", False))
    # macOS lets Metal wire about 75% of unified memory (recommendedMaxWorkingSetSize on machines
    # with more than 36 GB; llama.cpp ggml-metal reads that value as the device's memory).
    fraction = data.pop("gpu_memory_fraction", 0.75 if unified else 1.0)
    # Parts people usually own are priced by amortising the purchase (see gpus.yaml's header).
    data.setdefault("price_source", "catalog default: list price over 3 years + power at $0.15/kWh")
    return GpuSpec(
        **{
            k: v
            for k, v in data.items()
            if k not in {"driver_names", "aliases", "vendor", "memory_options_gib"}
        },
        vendor=Vendor(data["vendor"]),
        memory_bytes=memory_bytes,
        gpu_memory_fraction=fraction,
        driver_names=tuple(str(name) for name in data.get("driver_names", ())),
        aliases=tuple(str(alias) for alias in data.get("aliases", ())),
        memory_options_gib=tuple(int(size) for size in data.get("memory_options_gib", ())),
    )


def _quant_from_row(row: dict[str, Any]) -> Quantization:
    data = dict(row)
    data["kind"] = QuantKind(data["kind"])
    data["servers"] = tuple(data.get("servers", ("vllm", "ollama")))
    data["aliases"] = tuple(str(alias) for alias in data.get("aliases", ()))
    return Quantization(**data)


@cache
def list_models() -> list[ModelSpec]:
    """Every catalog model, in file order."""
    return [_model_from_row(row) for row in _load("models")]


@cache
def list_gpus() -> list[GpuSpec]:
    """Every catalog GPU, in file order."""
    return [_gpu_from_row(row) for row in _load("gpus")]


@cache
def list_quantizations() -> list[Quantization]:
    """Every weight format and KV-cache type, in file order."""
    return [_quant_from_row(row) for row in _load("quantizations")]


def _model_keys(model: ModelSpec) -> Iterable[str]:
    yield model.id
    yield model.name
    yield model.hf_repo
    yield model.hf_repo.split("/", 1)[-1]
    if model.ollama_tag:
        yield model.ollama_tag
    yield from model.aliases


def _gpu_keys(gpu: GpuSpec) -> Iterable[str]:
    yield gpu.id
    yield gpu.name
    yield from gpu.driver_names
    yield from gpu.aliases


def _quant_keys(quant: Quantization) -> Iterable[str]:
    yield quant.id
    yield quant.name
    yield from quant.aliases


_Spec = TypeVar("_Spec", ModelSpec, GpuSpec, Quantization)


def _build_index(
    kind: str, items: Iterable[_Spec], keys_of: Callable[[_Spec], Iterable[str]]
) -> dict[str, _Spec]:
    """Normalised key -> spec; earlier entries win so an id never loses to another model's alias."""
    index: dict[str, _Spec] = {}
    for item in items:
        for key in keys_of(item):
            index.setdefault(key.strip().lower(), item)
            index.setdefault(_compact(key), item)
            if kind == "gpu":
                index.setdefault(_compact(_without_vendor(key)), item)
    return index


@cache
def _model_index() -> dict[str, ModelSpec]:
    return _build_index("model", list_models(), _model_keys)


@cache
def _gpu_index() -> dict[str, GpuSpec]:
    return _build_index("gpu", list_gpus(), _gpu_keys)


@cache
def _quantization_index(kind: str) -> dict[str, Quantization]:
    """``kind`` "quantization": the weight formats; "kv_cache_dtype": the KV-cache types."""
    kv = kind == "kv_cache_dtype"
    formats = [q for q in list_quantizations() if (q.kind is QuantKind.KV) == kv]
    return _build_index(kind, formats, _quant_keys)


def _lookup(index: dict[str, _Spec], kind: str, name: str, label: str) -> _Spec:
    if not isinstance(name, str) or not name.strip():
        raise AdvisorError(f"Give a {label} name.", field=kind)
    text = name.strip()
    candidates = [text.lower(), _compact(text)]
    if kind == "gpu":
        candidates.append(_compact(_without_vendor(text)))
    if kind == "model" and text.lower().endswith(":latest"):
        candidates.append(text.lower()[: -len(":latest")])
    for key in candidates:
        if key and key in index:
            return index[key]
    raise AdvisorError(_unknown_message(index, kind, text, label), field=kind)


def _unknown_message(
    index: Mapping[str, ModelSpec | GpuSpec | Quantization],
    kind: str,
    text: str,
    label: str,
) -> str:
    ids: list[str] = []
    keys = list(index)
    for query in (text.lower(), _compact(text)):
        for key in difflib.get_close_matches(query, keys, n=20, cutoff=_SUGGESTION_CUTOFF):
            item_id = index[key].id
            if item_id not in ids:
                ids.append(item_id)
    message = f"Unknown {label} {text!r}."
    if ids:
        message += " Close matches: " + ", ".join(ids[:_MAX_SUGGESTIONS]) + "."
    else:
        message += f" See the {label} catalog for the names it knows."
    return message


def resolve_model(name: str) -> ModelSpec:
    """A catalog model by id, HF repo id or Ollama tag. Raises AdvisorError(field="model")."""
    return _lookup(_model_index(), "model", name, "model")


_MEMORY_SUFFIX = re.compile(r"^(?P<base>.*?)[\s_-]*\(?(?P<size>\d+)\s*gb\)?$", re.IGNORECASE)


def resolve_gpu(name: str) -> GpuSpec:
    """A catalog GPU by id, name or driver-reported name; for a chip sold in several memory sizes
    (Apple) also "<id>-<N>gb" / "<name> <N>GB" with N one of them. Raises AdvisorError(field="gpu").
    """
    try:
        return _lookup(_gpu_index(), "gpu", name, "GPU")
    except AdvisorError:
        match = _MEMORY_SUFFIX.match(name.strip()) if isinstance(name, str) else None
        if not match:
            raise
        try:
            base = _lookup(_gpu_index(), "gpu", match["base"], "GPU")
        except AdvisorError:
            raise AdvisorError(
                _unknown_message(_gpu_index(), "gpu", name.strip(), "GPU"), field="gpu"
            ) from None
        size = int(match["size"])
        if size not in base.memory_options_gib:
            raise AdvisorError(
                f"{base.name} ships with {', '.join(map(str, base.memory_options_gib)) or 'one'}"
                f" GB, not {size} GB.",
                field="gpu",
            ) from None
        return replace(
            base,
            id=f"{base.id}-{size}gb",
            name=re.sub(r"\d+GB\)$", f"{size}GB)", base.name),
            memory_bytes=size * GIB,
        )


def find_gpu(name: str) -> GpuSpec | None:
    """``resolve_gpu`` without the error: None for a name the catalog does not know (probes use it
    to fall back to the memory they measured)."""
    try:
        return resolve_gpu(name)
    except AdvisorError:
        return None


def resolve_quantization(name: str) -> Quantization:
    """A weight format (bf16, fp8, awq-int4, Q4_K_M, ...). Raises AdvisorError(field="quantization").

    "auto" is not a format: it means the model's native weights, which ``estimate`` picks per server.
    """
    return _lookup(_quantization_index("quantization"), "quantization", name, "quantization")


def resolve_kv_dtype(name: str) -> Quantization:
    """A KV-cache type (vLLM auto/fp8, Ollama f16/q8_0/q4_0). Raises AdvisorError(field="kv_cache_dtype")."""
    index = _quantization_index("kv_cache_dtype")
    return _lookup(index, "kv_cache_dtype", name, "KV cache dtype")
