"""Serving software on the host: Docker, the NVIDIA container toolkit, Ollama, vLLM, containers.

Contract: ``probe() -> Outcome`` (always ``ok``: absent software is a finding, not a failure);
``data`` is ``{"software": {docker, nvidia_container_toolkit, ollama, vllm, llama_cpp_python,
container}}`` where each tool is ``{"installed": bool, "version": str|None, "path": str|None}``
and ``container`` is ``{"in_container": bool, "runtime": "docker"|"podman"|"kubernetes"|None}``.
Package versions come from installed metadata, never by importing vLLM (seconds, and CUDA init).

Seams: ``which(name)``, ``run_command(argv)``, ``package_version(name)`` and ``FS_ROOT``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from probes.base import Outcome

FS_ROOT = Path("/")
COMMAND_TIMEOUT_S = 1.5  # `ollama -v` asks the local server for its version; keep it short
NVIDIA_TOOLKIT_BINARIES = ("nvidia-ctk", "nvidia-container-runtime", "nvidia-container-cli")
VERSION_PATTERN = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[-+.\w]*)?")


def which(name: str) -> str | None:
    return shutil.which(name)


def run_command(argv: list[str]) -> str:
    """stdout + stderr of a command; raises on a timeout or a missing binary."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    return done.stdout + done.stderr


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _binary(name: str, version_args: list[str]) -> dict[str, Any]:
    path = which(name)
    version = None
    if path:
        try:
            match = VERSION_PATTERN.search(run_command([path, *version_args]))
            version = match.group(0) if match else None
        except (subprocess.SubprocessError, OSError):
            version = None
    return {"installed": path is not None, "version": version, "path": path}


def _package(name: str) -> dict[str, Any]:
    version = package_version(name)
    return {"installed": version is not None, "version": version, "path": None}


def container() -> dict[str, Any]:
    """Whether this process runs in a container, and which kind (marker files, cgroup, env)."""
    root = FS_ROOT
    if (
        os.environ.get("KUBERNETES_SERVICE_HOST")
        or (root / "var/run/secrets/kubernetes.io/serviceaccount").exists()
    ):
        return {"in_container": True, "runtime": "kubernetes"}
    if (root / "run/.containerenv").exists():
        return {"in_container": True, "runtime": "podman"}
    if (root / ".dockerenv").exists():
        return {"in_container": True, "runtime": "docker"}
    try:
        cgroup = (root / "proc/1/cgroup").read_text()
    except OSError:
        cgroup = ""
    for marker, runtime in (("kubepods", "kubernetes"), ("docker", "docker"), ("libpod", "podman")):
        if marker in cgroup:
            return {"in_container": True, "runtime": runtime}
    return {"in_container": False, "runtime": None}


def probe() -> Outcome:
    """List the serving software; see the module docstring for the data's shape."""
    toolkit_path = next((p for p in map(which, NVIDIA_TOOLKIT_BINARIES) if p), None)
    software = {
        "docker": _binary("docker", ["--version"]),
        "nvidia_container_toolkit": {
            "installed": toolkit_path is not None,
            "version": None,
            "path": toolkit_path,
        },
        "ollama": _binary("ollama", ["-v"]),
        "vllm": _package("vllm"),
        "llama_cpp_python": _package("llama_cpp_python"),
        "container": container(),
    }
    found = [name for name, info in software.items() if info.get("installed")]
    runtime = software["container"]["runtime"]
    # Where the probe itself runs, said apart from what it found ("found: docker; docker" read as
    # a duplicate when the probe ran inside a Docker container).
    where = f"the probe runs in a {runtime} container" if runtime else "the probe runs on the host"
    return Outcome.ok({"software": software}, f"found: {', '.join(found) or 'none'}; {where}")
