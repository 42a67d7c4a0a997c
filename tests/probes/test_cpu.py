"""The CPU probe on this very machine, checked against the kernel's own figures."""

import builtins
import os
from pathlib import Path

import pytest

from probes import cpu
from probes.base import Status

linux_only = pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="needs /proc")


def test_it_counts_the_cpus_os_counts():
    data = cpu.probe().data
    assert data["cpu"]["logical_cores"] == os.cpu_count()
    assert 1 <= data["cpu"]["physical_cores"] <= os.cpu_count()


@linux_only
def test_it_reports_the_memory_proc_meminfo_reports():
    outcome = cpu.probe()
    meminfo = cpu.meminfo()
    memory = outcome.data["memory"]
    assert outcome.status == Status.OK
    assert memory["total_bytes"] == meminfo["MemTotal"]
    assert memory["swap_total_bytes"] == meminfo["SwapTotal"]
    # MemAvailable moves between two reads; 10% of it is far more than a test run changes.
    assert abs(memory["available_bytes"] - meminfo["MemAvailable"]) < meminfo["MemTotal"] * 0.1


@linux_only
def test_it_keeps_only_inference_flags_the_cpu_has():
    flags = cpu.probe().data["cpu"]["flags"]
    text = Path("/proc/cpuinfo").read_text()
    present = set()
    for line in text.splitlines():
        if line.lower().startswith(("flags", "features")):
            present |= set(line.split(":", 1)[1].split())
    assert set(flags) <= present
    assert all(cpu.INFERENCE_FLAG_PATTERN.match(flag) for flag in flags)
    assert "smep" not in flags  # a security flag, not SME


@linux_only
def test_it_falls_back_to_proc_without_psutil(monkeypatch):
    real_import = builtins.__import__

    def no_psutil(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError("No module named 'psutil'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psutil)
    data = cpu.probe().data
    assert data["memory"]["total_bytes"] == cpu.meminfo()["MemTotal"]
    assert data["cpu"]["logical_cores"] == os.cpu_count()


def test_it_measures_free_disk_where_models_go_even_before_the_folder_exists(monkeypatch, tmp_path):
    target = tmp_path / "not-yet" / "models"
    monkeypatch.setenv("OLLAMA_MODELS", str(target))
    monkeypatch.delenv("ADVISOR_MODELS_DIR", raising=False)
    disk = cpu.probe().data["disk"]
    assert disk["path"] == str(target)
    assert 0 < disk["free_bytes"] <= disk["total_bytes"]
