"""The software probe: binaries, packages and container detection (seams: which, run_command,
package_version, FS_ROOT)."""

import pytest

from probes import software
from probes.base import Status


@pytest.fixture
def bare_host(monkeypatch, tmp_path):
    monkeypatch.setattr(software, "FS_ROOT", tmp_path)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr(software, "which", lambda name: None)
    monkeypatch.setattr(software, "package_version", lambda name: None)
    return tmp_path


def test_it_reports_nothing_installed_on_a_bare_host(bare_host):
    outcome = software.probe()
    assert outcome.status == Status.OK
    data = outcome.data["software"]
    assert data["ollama"] == {"installed": False, "version": None, "path": None}
    assert data["vllm"]["installed"] is False
    assert data["container"] == {"in_container": False, "runtime": None}


def test_it_reads_the_ollama_and_vllm_versions(bare_host, monkeypatch):
    monkeypatch.setattr(
        software, "which", lambda name: f"/usr/bin/{name}" if name != "docker" else None
    )
    monkeypatch.setattr(
        software,
        "run_command",
        lambda argv: (
            "Warning: could not connect to a running Ollama instance\n"
            "Warning: client version is 0.12.3\n"
            if argv[0] == "/usr/bin/ollama"
            else ""
        ),
    )
    monkeypatch.setattr(
        software, "package_version", lambda name: "0.11.0" if name == "vllm" else None
    )
    data = software.probe().data["software"]
    assert data["ollama"] == {"installed": True, "version": "0.12.3", "path": "/usr/bin/ollama"}
    assert data["vllm"] == {"installed": True, "version": "0.11.0", "path": None}
    assert data["nvidia_container_toolkit"]["path"] == "/usr/bin/nvidia-ctk"


@pytest.mark.parametrize(
    "marker,content,runtime",
    [
        (".dockerenv", "", "docker"),
        ("run/.containerenv", "", "podman"),
        ("proc/1/cgroup", "0::/kubepods/besteffort/pod1234/abcd\n", "kubernetes"),
        ("proc/1/cgroup", "12:memory:/docker/0123456789ab\n", "docker"),
    ],
)
def test_it_detects_the_container_runtime(bare_host, marker, content, runtime):
    path = bare_host / marker
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    assert software.container() == {"in_container": True, "runtime": runtime}


def test_it_detects_kubernetes_from_the_environment(bare_host, monkeypatch):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert software.container()["runtime"] == "kubernetes"


def test_it_runs_for_real_on_this_machine():
    outcome = software.probe()
    assert outcome.status == Status.OK
    assert set(outcome.data["software"]) >= {"docker", "ollama", "vllm", "container"}


def test_its_summary_keeps_what_it_found_apart_from_where_it_runs(bare_host, monkeypatch):
    (bare_host / ".dockerenv").write_text("")
    monkeypatch.setattr(
        software, "which", lambda name: "/usr/bin/docker" if name == "docker" else None
    )
    monkeypatch.setattr(
        software, "run_command", lambda argv: "Docker version 28.2.2, build e6534b4"
    )
    detail = software.probe().detail
    assert detail == "found: docker; the probe runs in a docker container"
    monkeypatch.setattr(software, "which", lambda name: None)
    (bare_host / ".dockerenv").unlink()
    assert software.probe().detail == "found: none; the probe runs on the host"
