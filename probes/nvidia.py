"""NVIDIA GPUs through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``).

Contract: ``probe() -> Outcome``; ``data`` is ``{"gpus": [gpu, ...], "driver_version",
"cuda_driver_version"}`` where each gpu has the report's common GPU fields (vendor, index, name,
memory_total_bytes, memory_free_bytes, unified_memory, compute_capability, driver_version) plus
uuid, power_limit_w, mig {enabled, devices}, nvlink_active_links, pcie {generation, width}.
No ``pynvml`` module, no driver or no device: ``absent``. Optional queries a GPU does not support
(MIG on a consumer card, NVLink over PCIe) read as null instead of failing the probe.

The one seam is ``load_nvml()``: tests hand in a fake module with the same functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from probes.base import Outcome

VENDOR = "nvidia"
# NVML error codes meaning "no NVIDIA stack here" (nvml.h: NVML_ERROR_DRIVER_NOT_LOADED = 9,
# NVML_ERROR_LIBRARY_NOT_FOUND = 12), which make the probe absent rather than failed.
ABSENT_ERROR_CODES = frozenset({9, 12})

T = TypeVar("T")


def load_nvml() -> ModuleType:
    """Import pynvml (raises ImportError when nvidia-ml-py is not installed)."""
    import pynvml  # type: ignore[import-untyped]  # nvidia-ml-py ships no stubs or py.typed

    nvml: ModuleType = pynvml
    return nvml


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional(nvml: ModuleType, fn: Callable[..., T], *args: object) -> T | None:
    """Call an NVML query a device may not support; NVMLError or a missing function reads as None."""
    try:
        return fn(*args)
    except (nvml.NVMLError, AttributeError, NotImplementedError):
        return None


def _cuda_version(raw: int | None) -> str | None:
    # nvmlSystemGetCudaDriverVersion returns 1000 * major + 10 * minor (nvml.h), e.g. 12040 -> 12.4.
    if not raw:
        return None
    return f"{raw // 1000}.{(raw % 1000) // 10}"


def _mig(nvml: ModuleType, handle: object) -> dict[str, Any]:
    modes = _optional(nvml, nvml.nvmlDeviceGetMigMode, handle)
    if modes is None:
        return {"supported": False, "enabled": False, "devices": []}
    current = modes[0]
    enabled = current == getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1)
    devices: list[dict[str, Any]] = []
    if enabled:
        count = _optional(nvml, nvml.nvmlDeviceGetMaxMigDeviceCount, handle) or 0
        for slot in range(count):
            mig = _optional(nvml, nvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, slot)
            if mig is None:
                continue  # empty slot: NVML_ERROR_NOT_FOUND
            memory = _optional(nvml, nvml.nvmlDeviceGetMemoryInfo, mig)
            devices.append(
                {
                    "index": slot,
                    "name": _text(_optional(nvml, nvml.nvmlDeviceGetName, mig) or ""),
                    "uuid": _text(_optional(nvml, nvml.nvmlDeviceGetUUID, mig) or ""),
                    "memory_total_bytes": int(memory.total) if memory else None,
                }
            )
    return {"supported": True, "enabled": bool(enabled), "devices": devices}


def _nvlink_active(nvml: ModuleType, handle: object) -> int | None:
    links = getattr(nvml, "NVML_NVLINK_MAX_LINKS", 18)
    active = 0
    for link in range(links):
        try:
            state = nvml.nvmlDeviceGetNvLinkState(handle, link)
        except (nvml.NVMLError, AttributeError):
            # The first unsupported link means no NVLink at all; later ones mean no more links.
            return None if link == 0 else active
        if state == getattr(nvml, "NVML_FEATURE_ENABLED", 1):
            active += 1
    return active


def _gpu(nvml: ModuleType, index: int, driver_version: str | None) -> dict[str, Any]:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    capability = _optional(nvml, nvml.nvmlDeviceGetCudaComputeCapability, handle)
    power_mw = _optional(nvml, nvml.nvmlDeviceGetPowerManagementLimit, handle)
    return {
        "vendor": VENDOR,
        "index": index,
        "name": _text(nvml.nvmlDeviceGetName(handle)),
        "uuid": _text(_optional(nvml, nvml.nvmlDeviceGetUUID, handle) or ""),
        "memory_total_bytes": int(memory.total),
        "memory_free_bytes": int(memory.free),
        "unified_memory": False,
        "compute_capability": f"{capability[0]}.{capability[1]}" if capability else None,
        "driver_version": driver_version,
        "power_limit_w": round(power_mw / 1000, 1) if power_mw else None,
        "mig": _mig(nvml, handle),
        "nvlink_active_links": _nvlink_active(nvml, handle),
        "pcie": {
            "generation": _optional(nvml, nvml.nvmlDeviceGetCurrPcieLinkGeneration, handle),
            "width": _optional(nvml, nvml.nvmlDeviceGetCurrPcieLinkWidth, handle),
        },
    }


def probe() -> Outcome:
    """List every NVIDIA GPU NVML sees; see the module docstring for the data's shape."""
    try:
        nvml = load_nvml()
    except ImportError:
        return Outcome.absent("pynvml is not installed (pip install nvidia-ml-py)", {"gpus": []})
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        if getattr(exc, "value", None) in ABSENT_ERROR_CODES:
            return Outcome.absent(f"no NVIDIA driver: {exc}", {"gpus": []})
        raise
    try:
        driver = _text(_optional(nvml, nvml.nvmlSystemGetDriverVersion) or "") or None
        cuda = _cuda_version(_optional(nvml, nvml.nvmlSystemGetCudaDriverVersion))
        count = nvml.nvmlDeviceGetCount()
        gpus = [_gpu(nvml, index, driver) for index in range(count)]
    finally:
        with contextlib.suppress(Exception):
            nvml.nvmlShutdown()
    data = {"gpus": gpus, "driver_version": driver, "cuda_driver_version": cuda}
    if not gpus:
        return Outcome.absent("NVIDIA driver loaded but no GPU found", data)
    names = ", ".join(sorted({gpu["name"] for gpu in gpus}))
    return Outcome.ok(data, f"{len(gpus)} GPU(s): {names}; driver {driver}, CUDA {cuda}")
