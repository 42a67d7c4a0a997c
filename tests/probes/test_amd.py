"""The AMD probe against recorded sysfs trees (the seam: SYSFS_ROOT / ROCM_ROOT)."""

import pytest

from probes import amd
from probes.base import Status
from tests.probes.conftest import FIXTURES


@pytest.fixture
def sysfs(monkeypatch):
    def no_amdsmi():
        raise ImportError("No module named 'amdsmi'")

    monkeypatch.setattr(amd, "load_amdsmi", no_amdsmi)
    monkeypatch.setattr(amd, "ROCM_ROOT", FIXTURES / "rocm")

    def use(name: str):
        monkeypatch.setattr(amd, "SYSFS_ROOT", FIXTURES / "sysfs" / name)

    return use


def test_it_finds_two_mi300x_with_their_vram_and_rocm_version(sysfs):
    sysfs("mi300x")
    outcome = amd.probe()
    assert outcome.status == Status.OK
    gpus = outcome.data["gpus"]
    assert [g["name"] for g in gpus] == ["AMD Instinct MI300X OAM"] * 2
    assert [g["index"] for g in gpus] == [0, 1]
    assert gpus[0]["memory_total_bytes"] == 192 * 2**30
    assert gpus[0]["memory_free_bytes"] == 192 * 2**30 - 299712512
    assert gpus[1]["memory_free_bytes"] == 96 * 2**30
    assert outcome.data["rocm_version"] == "6.2.1"
    assert outcome.data["source"] == "sysfs"


def test_it_skips_other_vendors_and_names_a_radeon_from_its_pci_id(sysfs):
    sysfs("radeon")
    (gpu,) = amd.probe().data["gpus"]
    assert gpu["name"] == "AMD Radeon RX 7900 XTX"
    assert gpu["pci_device_id"] == "0x744c"
    assert gpu["memory_total_bytes"] == 25753026560
    assert gpu["unified_memory"] is False


def test_it_is_absent_without_amd_cards(sysfs, tmp_path, monkeypatch):
    monkeypatch.setattr(amd, "SYSFS_ROOT", tmp_path)
    outcome = amd.probe()
    assert outcome.status == Status.ABSENT
    assert outcome.data["gpus"] == []


def test_it_falls_back_to_sysfs_when_amdsmi_fails(sysfs, monkeypatch):
    sysfs("mi300x")

    class BrokenAmdSmi:
        @staticmethod
        def amdsmi_init():
            raise RuntimeError("amdgpu driver not initialized")

    monkeypatch.setattr(amd, "load_amdsmi", lambda: BrokenAmdSmi)
    outcome = amd.probe()
    assert outcome.status == Status.OK
    assert len(outcome.data["gpus"]) == 2
    assert "amdsmi failed" in outcome.detail


class FakeAmdSmi:
    """The amdsmi calls probes/amd.py makes, for one MI300X (AMD SMI Python API reference)."""

    class AmdSmiMemoryType:
        VRAM = "vram"

    shut_down = False

    @staticmethod
    def amdsmi_init():
        pass

    @classmethod
    def amdsmi_shut_down(cls):
        cls.shut_down = True

    @staticmethod
    def amdsmi_get_processor_handles():
        return ["gpu0"]

    @staticmethod
    def amdsmi_get_gpu_asic_info(handle):
        return {"market_name": "AMD Instinct MI300X", "device_id": "0x74a1"}

    @staticmethod
    def amdsmi_get_gpu_memory_total(handle, kind):
        assert kind == "vram"
        return 192 * 2**30

    @staticmethod
    def amdsmi_get_gpu_memory_usage(handle, kind):
        return 2**30

    @staticmethod
    def amdsmi_get_gpu_driver_info(handle):
        return {"driver_name": "amdgpu", "driver_version": "6.8.5"}


def test_it_prefers_amdsmi_when_it_is_installed(sysfs, monkeypatch):
    sysfs("radeon")  # the library's answer wins over what sysfs would say
    monkeypatch.setattr(amd, "load_amdsmi", lambda: FakeAmdSmi)
    outcome = amd.probe()
    (gpu,) = outcome.data["gpus"]
    assert outcome.data["source"] == "amdsmi"
    assert gpu["name"] == "AMD Instinct MI300X"
    assert gpu["memory_free_bytes"] == 191 * 2**30
    assert gpu["driver_version"] == "6.8.5"
    assert FakeAmdSmi.shut_down is True
