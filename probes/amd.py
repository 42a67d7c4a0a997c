"""AMD GPUs: through ``amdsmi`` when it is importable, else the amdgpu driver's sysfs files.

Contract: ``probe() -> Outcome``; ``data`` is ``{"gpus": [gpu, ...], "rocm_version", "source"}``
with the report's common GPU fields plus ``pci_device_id``. No AMD GPU (no amdgpu card with
vendor 0x1002 in ``/sys/class/drm``) is ``absent``.

Seams: ``load_amdsmi()`` for the library, ``SYSFS_ROOT`` and ``ROCM_ROOT`` for the files
(tests point them at trees under ``tests/fixtures/sysfs``).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from probes.base import Outcome

VENDOR = "amd"
AMD_PCI_VENDOR = "0x1002"  # PCI vendor id of AMD/ATI (pci.ids)
SYSFS_ROOT = Path("/sys")
ROCM_ROOT = Path("/opt/rocm")

# Marketing names for PCI device ids, for cards whose sysfs has no product_name (pci.ids, vendor
# 1002). Only the serving-relevant parts; an unknown id reads as "AMD GPU 0x....".
PCI_DEVICE_NAMES = {
    "0x74a1": "AMD Instinct MI300X",
    "0x74a5": "AMD Instinct MI325X",
    "0x74a0": "AMD Instinct MI300A",
    "0x740f": "AMD Instinct MI210",
    "0x740c": "AMD Instinct MI250X",
    "0x738c": "AMD Instinct MI100",
    "0x744c": "AMD Radeon RX 7900 XTX",
    "0x7448": "AMD Radeon PRO W7900",
    "0x73bf": "AMD Radeon RX 6900 XT",
}


def load_amdsmi() -> ModuleType:
    """Import amdsmi (raises ImportError when ROCm's Python bindings are not installed)."""
    import amdsmi  # type: ignore[import-not-found]  # ROCm's bindings: AMD hosts only, no stubs

    module: ModuleType = amdsmi
    return module


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text, 0) if text else None
    except ValueError:
        return None


def rocm_version(root: Path | None = None) -> str | None:
    """The installed ROCm release from ``/opt/rocm/.info/version`` (e.g. "6.2.1-112"), or None."""
    text = _read((root or ROCM_ROOT) / ".info" / "version")
    return text.split("-")[0] if text else None


def _card_sort_key(path: Path) -> int:
    match = re.search(r"(\d+)$", path.name)
    return int(match.group(1)) if match else 0


def sysfs_gpus(root: Path | None = None) -> list[dict[str, Any]]:
    """Every amdgpu card under ``<root>/class/drm/card<N>/device`` (connectors like card0-DP-1
    are skipped), in card order."""
    drm = (root or SYSFS_ROOT) / "class" / "drm"
    if not drm.is_dir():
        return []
    cards = [p for p in drm.iterdir() if re.fullmatch(r"card\d+", p.name)]
    gpus: list[dict[str, Any]] = []
    for card in sorted(cards, key=_card_sort_key):
        device = card / "device"
        if (_read(device / "vendor") or "").lower() != AMD_PCI_VENDOR:
            continue
        total = _read_int(device / "mem_info_vram_total")
        used = _read_int(device / "mem_info_vram_used")
        device_id = (_read(device / "device") or "").lower()
        name = _read(device / "product_name") or PCI_DEVICE_NAMES.get(
            device_id, f"AMD GPU {device_id or 'unknown'}"
        )
        gpus.append(
            {
                "vendor": VENDOR,
                "index": len(gpus),
                "name": name,
                "memory_total_bytes": total,
                "memory_free_bytes": total - used
                if total is not None and used is not None
                else None,
                "unified_memory": False,
                "compute_capability": None,
                "driver_version": _read((root or SYSFS_ROOT) / "module" / "amdgpu" / "version"),
                "pci_device_id": device_id or None,
            }
        )
    return gpus


def amdsmi_gpus(amdsmi: ModuleType) -> list[dict[str, Any]]:
    """The same list through the amdsmi library (names from ``market_name``)."""
    amdsmi.amdsmi_init()
    try:
        gpus = []
        vram = amdsmi.AmdSmiMemoryType.VRAM
        for index, handle in enumerate(amdsmi.amdsmi_get_processor_handles()):
            asic = amdsmi.amdsmi_get_gpu_asic_info(handle)
            total = int(amdsmi.amdsmi_get_gpu_memory_total(handle, vram))
            used = int(amdsmi.amdsmi_get_gpu_memory_usage(handle, vram))
            driver = None
            with contextlib.suppress(Exception):
                driver = amdsmi.amdsmi_get_gpu_driver_info(handle).get("driver_version")
            gpus.append(
                {
                    "vendor": VENDOR,
                    "index": index,
                    "name": asic.get("market_name") or "AMD GPU",
                    "memory_total_bytes": total,
                    "memory_free_bytes": total - used,
                    "unified_memory": False,
                    "compute_capability": None,
                    "driver_version": driver,
                    "pci_device_id": str(asic.get("device_id") or "") or None,
                }
            )
        return gpus
    finally:
        with contextlib.suppress(Exception):
            amdsmi.amdsmi_shut_down()


def probe() -> Outcome:
    """List AMD GPUs; see the module docstring for the data's shape."""
    source = "sysfs"
    gpus: list[dict[str, Any]] = []
    library_note = ""
    try:
        gpus = amdsmi_gpus(load_amdsmi())
        source = "amdsmi"
    except ImportError:
        pass
    except Exception as exc:  # a broken ROCm install still leaves the driver's sysfs to read
        library_note = f" (amdsmi failed: {exc})"
    if source == "sysfs":
        gpus = sysfs_gpus()
    data = {"gpus": gpus, "rocm_version": rocm_version(), "source": source}
    if not gpus:
        return Outcome.absent(f"no AMD GPU found{library_note}", data)
    names = ", ".join(sorted({gpu["name"] for gpu in gpus}))
    return Outcome.ok(data, f"{len(gpus)} GPU(s) via {source}: {names}{library_note}")
