"""Apple Silicon: the chip, its unified memory and GPU core count on macOS arm64.

Contract: ``probe() -> Outcome``; ``data`` is ``{"gpus": [gpu]}`` with one GPU whose
``unified_memory`` is true: ``memory_total_bytes`` is the machine's RAM (``sysctl hw.memsize``),
shared with the CPU; ``gpu_cores`` comes from ``system_profiler SPDisplaysDataType -json``
(``sppci_cores``). Anything but macOS on arm64 is ``absent``.

Seams: ``platform_info()`` (system, machine) and ``run_command(argv) -> str``; tests replay
recorded outputs from ``tests/fixtures/apple``.
"""

from __future__ import annotations

import json
import platform
import subprocess
from typing import Any

from probes.base import Outcome

VENDOR = "apple"
COMMAND_TIMEOUT_S = 2.0  # system_profiler answers SPDisplaysDataType in well under a second


def platform_info() -> tuple[str, str]:
    return platform.system(), platform.machine()


def run_command(argv: list[str]) -> str:
    """Run a command and return its stdout (raises on a non-zero exit or a timeout)."""
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=True
    )
    return done.stdout


def _available_bytes() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def _gpu_cores(profile: dict[str, Any]) -> tuple[str | None, int | None]:
    for item in profile.get("SPDisplaysDataType", []):
        cores = item.get("sppci_cores")
        if cores is not None:
            try:
                return item.get("sppci_model") or item.get("_name"), int(cores)
            except (TypeError, ValueError):
                return item.get("sppci_model") or item.get("_name"), None
    return None, None


def probe() -> Outcome:
    """Describe the Apple Silicon GPU; see the module docstring for the data's shape."""
    system, machine = platform_info()
    if system != "Darwin" or machine != "arm64":
        return Outcome.absent(f"not Apple Silicon ({system} {machine})", {"gpus": []})
    chip, memsize = run_command(["sysctl", "-n", "machdep.cpu.brand_string", "hw.memsize"]).split(
        "\n"
    )[:2]
    try:
        model, cores = _gpu_cores(
            json.loads(run_command(["system_profiler", "SPDisplaysDataType", "-json"]))
        )
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError):
        model, cores = None, None  # the chip and memory still describe the machine
    name = (model or chip).strip()
    gpu = {
        "vendor": VENDOR,
        "index": 0,
        "name": name,
        "memory_total_bytes": int(memsize.strip()),
        "memory_free_bytes": _available_bytes(),
        "unified_memory": True,
        "compute_capability": None,
        "driver_version": None,
        "gpu_cores": cores,
        "chip": chip.strip(),
    }
    return Outcome.ok({"gpus": [gpu]}, f"{name}, {cores or '?'} GPU cores, unified memory")
