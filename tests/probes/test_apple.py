"""The Apple Silicon probe replaying recorded sysctl / system_profiler output."""

import pytest

from probes import apple
from probes.base import Status
from tests.probes.conftest import FIXTURES

RECORDED = {
    "sysctl": (FIXTURES / "apple" / "sysctl.txt").read_text(),
    "system_profiler": (FIXTURES / "apple" / "system_profiler_displays.json").read_text(),
}


@pytest.fixture
def mac(monkeypatch):
    commands = []

    def run(argv):
        commands.append(argv)
        return RECORDED[argv[0]]

    monkeypatch.setattr(apple, "platform_info", lambda: ("Darwin", "arm64"))
    monkeypatch.setattr(apple, "run_command", run)
    return commands


def test_it_describes_an_m3_max_with_unified_memory(mac):
    outcome = apple.probe()
    assert outcome.status == Status.OK
    (gpu,) = outcome.data["gpus"]
    assert gpu["vendor"] == "apple"
    assert gpu["name"] == "Apple M3 Max"
    assert gpu["memory_total_bytes"] == 48 * 2**30
    assert gpu["unified_memory"] is True
    assert gpu["gpu_cores"] == 40
    assert mac[1] == ["system_profiler", "SPDisplaysDataType", "-json"]


def test_it_keeps_the_chip_when_system_profiler_fails(mac, monkeypatch):
    def run(argv):
        if argv[0] == "system_profiler":
            raise OSError("system_profiler: not found")
        return RECORDED["sysctl"]

    monkeypatch.setattr(apple, "run_command", run)
    (gpu,) = apple.probe().data["gpus"]
    assert gpu["name"] == "Apple M3 Max"
    assert gpu["gpu_cores"] is None


@pytest.mark.parametrize("system,machine", [("Linux", "x86_64"), ("Darwin", "x86_64")])
def test_it_is_absent_off_apple_silicon(monkeypatch, system, machine):
    monkeypatch.setattr(apple, "platform_info", lambda: (system, machine))
    outcome = apple.probe()
    assert outcome.status == Status.ABSENT
    assert outcome.data["gpus"] == []
