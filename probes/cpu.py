"""CPU, memory and disk: what CPU inference and model storage depend on.

Contract: ``probe() -> Outcome``; ``data`` is ``{"cpu": {model, physical_cores, logical_cores,
flags, max_freq_mhz}, "memory": {total_bytes, available_bytes, swap_total_bytes},
"disk": {path, free_bytes, total_bytes}}``. Uses psutil when importable, else ``os`` and
``/proc/meminfo``; ``flags`` keeps only the ISA extensions that matter for CPU inference.

Seams: ``PROC_ROOT`` (``/proc``) and ``models_dir()``.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
from pathlib import Path
from typing import Any

from probes.base import Outcome

PROC_ROOT = Path("/proc")
# ISA extensions llama.cpp and vLLM's CPU backend pick kernels by (ggml-cpu feature checks).
INFERENCE_FLAG_PATTERN = re.compile(
    r"^(avx|avx2|fma|f16c|avx_vnni|avx512\w*|amx\w*|asimd\w*|sve\w*|sme|sme2|neon|i8mm|bf16)$"
)
# Where model weights usually live, in the order we look (Ollama's and Hugging Face's env vars).
MODEL_DIR_ENV = ("ADVISOR_MODELS_DIR", "OLLAMA_MODELS", "HF_HOME")


def models_dir() -> Path:
    """The folder models are stored in: the first set env var of MODEL_DIR_ENV, else home."""
    for name in MODEL_DIR_ENV:
        value = os.environ.get(name)
        if value:
            return Path(value)
    return Path.home()


def _cpuinfo(proc: Path) -> tuple[str | None, list[str]]:
    try:
        text = (proc / "cpuinfo").read_text()
    except OSError:
        return None, []
    model = None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and model is None:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = {flag for flag in value.split() if INFERENCE_FLAG_PATTERN.match(flag)}
    return model, sorted(flags)


def meminfo(proc: Path | None = None) -> dict[str, int]:
    """``/proc/meminfo`` as bytes by key (MemTotal, MemAvailable, SwapTotal, ...)."""
    values: dict[str, int] = {}
    try:
        text = ((proc or PROC_ROOT) / "meminfo").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        match = re.match(r"(\w+):\s+(\d+)(?:\s+kB)?", line)
        if match:
            values[match.group(1)] = int(match.group(2)) * (1024 if "kB" in line else 1)
    return values


def _memory(proc: Path) -> dict[str, Any]:
    try:
        import psutil
    except ImportError:
        info = meminfo(proc)
        return {
            "total_bytes": info.get("MemTotal"),
            "available_bytes": info.get("MemAvailable"),
            "swap_total_bytes": info.get("SwapTotal"),
        }
    virtual = psutil.virtual_memory()
    return {
        "total_bytes": int(virtual.total),
        "available_bytes": int(virtual.available),
        "swap_total_bytes": int(psutil.swap_memory().total),
    }


def _cores_and_freq() -> tuple[int | None, int | None, float | None]:
    try:
        import psutil
    except ImportError:
        return None, os.cpu_count(), None
    freq = None
    try:
        current = psutil.cpu_freq()
        freq = round(current.max or current.current, 1) if current else None
    except (OSError, NotImplementedError, AttributeError):
        freq = None
    return psutil.cpu_count(logical=False), psutil.cpu_count(logical=True), freq or None


def _disk(path: Path) -> dict[str, Any]:
    target = path
    while not target.exists() and target != target.parent:
        target = target.parent  # a models folder not made yet: measure the disk it will be on
    usage = shutil.disk_usage(target)
    return {"path": str(path), "free_bytes": int(usage.free), "total_bytes": int(usage.total)}


def probe() -> Outcome:
    """Describe the CPU, memory and model disk; see the module docstring for the data's shape."""
    model, flags = _cpuinfo(PROC_ROOT)
    physical, logical, freq = _cores_and_freq()
    cpu = {
        "model": model or platform.processor() or platform.machine() or None,
        "physical_cores": physical,
        "logical_cores": logical,
        "flags": flags,
        "max_freq_mhz": freq,
    }
    memory = _memory(PROC_ROOT)
    disk = _disk(models_dir())
    total_gib = (memory["total_bytes"] or 0) / 2**30
    detail = f"{cpu['model']}, {logical} threads, {total_gib:.1f} GiB RAM"
    return Outcome.ok({"cpu": cpu, "memory": memory, "disk": disk}, detail)
