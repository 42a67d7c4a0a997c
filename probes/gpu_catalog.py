"""Match a probed GPU to the advisor's GPU catalog (``advisor.capacity.catalog.resolve_gpu``).

On a standalone host (this package copied alone) the catalog is not importable: every GPU keeps
``catalog_id: null`` and the advisor matches it again when the report is uploaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Catalog fields copied onto the GPU when known, as (GpuSpec attribute, report key).
CATALOG_FIELDS = (("bandwidth_gbps", "bandwidth_gbps"), ("bf16_tflops", "bf16_tflops"))


def load_resolver() -> Callable[..., Any] | None:
    """``resolve_gpu`` from the advisor's catalog, or None when it cannot be imported here."""
    try:
        from advisor.capacity.catalog import resolve_gpu
    except Exception:  # ImportError standalone; anything else means the catalog is unusable here
        return None
    return resolve_gpu


def match_gpu(gpu: dict[str, Any], resolver: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Return ``gpu`` with ``catalog_id`` (and bandwidth/compute) set from the catalog.

    An unknown name (the catalog raises) or no catalog leaves ``catalog_id`` None and removes
    nothing the GPU already carries.
    """
    resolve = resolver or load_resolver()
    matched = dict(gpu)
    matched.setdefault("catalog_id", None)
    if resolve is None or not gpu.get("name"):
        return matched
    try:
        spec = resolve(gpu["name"])
    except Exception:  # AdvisorError for an unknown GPU: not in the catalog is a plain fact
        return matched
    matched["catalog_id"] = spec.id
    for attribute, key in CATALOG_FIELDS:
        value = getattr(spec, attribute, None)
        if value is not None:
            matched[key] = value
    return matched


def match_gpus(gpus: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``match_gpu`` over a list, loading the catalog once."""
    resolver = load_resolver()
    return [match_gpu(gpu, resolver) for gpu in gpus]
