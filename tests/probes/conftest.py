"""Shared fakes for the probe tests: one seam per vendor."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from probes import base, nvidia

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FAKE_NVML_DIR = FIXTURES / "fake_nvml"


def load_fake_nvml(mode: str):
    """A fresh copy of the fake pynvml module in ``mode`` (see tests/fixtures/fake_nvml)."""
    spec = importlib.util.spec_from_file_location("fake_pynvml", FAKE_NVML_DIR / "pynvml.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.MODE = mode
    return module


@pytest.fixture
def fake_nvml(monkeypatch):
    """Install a fake NVML behind probes.nvidia.load_nvml; call it with the mode wanted."""
    installed = []

    def install(mode: str = "two_h100"):
        module = load_fake_nvml(mode)
        monkeypatch.setattr(nvidia, "load_nvml", lambda: module)
        installed.append(module)
        return module

    yield install
    for module in installed:
        module.RELEASE.set()  # let a hung fake return so its daemon thread ends
    for thread in list(base._HUNG.values()):
        thread.join(5)  # the next test must not find a probe "still hung" from this one


@pytest.fixture(autouse=True)
def no_configured_servers(monkeypatch):
    """Tests only ever probe loopback: ignore any server URLs set in the developer's shell."""
    monkeypatch.delenv("ADVISOR_PROBE_SERVER_URLS", raising=False)
