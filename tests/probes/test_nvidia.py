"""The NVIDIA probe against a fake NVML (the seam: probes.nvidia.load_nvml) and the real one."""

from pathlib import Path

import pytest

from probes import nvidia
from probes.base import Status, run_probes

MIB = 2**20


def test_it_lists_two_h100s_with_the_second_in_mig_mode(fake_nvml):
    nvml = fake_nvml("two_h100")
    outcome = nvidia.probe()
    assert outcome.status == Status.OK
    first, second = outcome.data["gpus"]
    assert first["name"] == second["name"] == "NVIDIA H100 80GB HBM3"
    assert first["memory_total_bytes"] == 81559 * MIB
    assert first["memory_free_bytes"] == (81559 - 512) * MIB
    assert first["compute_capability"] == "9.0"
    assert first["driver_version"] == "550.54.15"
    assert first["power_limit_w"] == 700.0
    assert first["nvlink_active_links"] == 18
    assert first["pcie"] == {"generation": 5, "width": 16}
    assert first["mig"] == {"supported": True, "enabled": False, "devices": []}
    assert second["mig"]["enabled"] is True
    assert [d["name"] for d in second["mig"]["devices"]] == [
        "NVIDIA H100 80GB HBM3 MIG 3g.40gb"
    ] * 2
    assert second["mig"]["devices"][0]["memory_total_bytes"] == 40192 * MIB
    assert outcome.data["cuda_driver_version"] == "12.4"
    assert nvml.calls == ["init", "shutdown"]


def test_it_reports_an_nvml_failure_as_an_error(fake_nvml):
    fake_nvml("raises")
    result = run_probes({"nvidia": nvidia.probe})["nvidia"]
    assert result.status == Status.ERROR
    assert "999" in result.detail


def test_it_reads_a_missing_driver_as_absent(fake_nvml):
    fake_nvml("no_driver")
    outcome = nvidia.probe()
    assert outcome.status == Status.ABSENT
    assert outcome.data["gpus"] == []


def test_it_reads_a_missing_pynvml_as_absent(monkeypatch):
    def no_module():
        raise ImportError("No module named 'pynvml'")

    monkeypatch.setattr(nvidia, "load_nvml", no_module)
    outcome = nvidia.probe()
    assert outcome.status == Status.ABSENT
    assert "not installed" in outcome.detail


def test_it_times_out_when_nvml_hangs(fake_nvml):
    fake_nvml("hang")
    result = run_probes({"nvidia": nvidia.probe}, timeout_s=0.3)["nvidia"]
    assert result.status == Status.ERROR
    assert "timed out" in result.detail
    assert result.duration_ms < 2000


@pytest.mark.skipif(Path("/dev/nvidiactl").exists(), reason="this host has an NVIDIA driver")
def test_it_is_absent_on_this_machine_without_a_gpu():
    outcome = nvidia.probe()
    assert outcome.status == Status.ABSENT
    assert outcome.data["gpus"] == []
