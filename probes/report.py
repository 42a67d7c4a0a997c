"""Assemble one hardware report from every probe in the registry.

``collect_report`` returns the JSON documented in docs/probes.md (``schema_version`` 1): host,
cpu, memory, disk, gpus, software, servers and ``probes`` (each probe's status, detail and
duration). It never raises for the machine it runs on; only a bad ``server_urls`` entry raises
ValueError, before anything is probed.
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import socket
from pathlib import Path
from typing import Any

from probes import outbound, servers
from probes.base import DEFAULT_TIMEOUT_S, ProbeFn, Status, run_probes
from probes.gpu_catalog import match_gpus
from probes.registry import GPU_PROBES, PROBES

SCHEMA_VERSION = 1


def _os_version() -> str:
    system = platform.system()
    if system == "Darwin":
        return platform.mac_ver()[0] or platform.release()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.version()


def host_info(container: dict[str, Any] | None) -> dict[str, Any]:
    """The ``host`` section: who and what this machine is."""
    return {
        "hostname": socket.gethostname(),
        "os": platform.system(),
        "os_version": _os_version(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "container": container,
    }


def collect_report(
    *,
    server_urls: list[str] | tuple[str, ...] = (),
    server_check: outbound.Check | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    probes: dict[str, ProbeFn] | None = None,
) -> dict[str, Any]:
    """Run the probes (default: the registry) under ``timeout_s`` in all and build the report.

    ``server_urls`` are probed for LLM servers on top of the defaults and
    ``ADVISOR_PROBE_SERVER_URLS``; their addresses must pass ``server_check`` (the advisor's
    allow-list; ``probes.outbound``). Raises ValueError for a URL that is not http(s).
    """
    registry = dict(PROBES if probes is None else probes)
    if registry.get("servers") is servers.probe:
        extra = [servers.normalize_url(url) for url in server_urls]  # ValueError: say it now
        registry["servers"] = functools.partial(
            servers.probe, servers.configured_urls(), extra=extra, check=server_check
        )
    outcomes = run_probes(registry, timeout_s=timeout_s)

    def section(name: str) -> dict[str, Any]:
        outcome = outcomes.get(name)
        return outcome.data if outcome is not None and outcome.status != Status.ERROR else {}

    gpus = []
    for name in GPU_PROBES:
        gpus.extend(section(name).get("gpus", []))
    cpu_data = section("cpu")
    software_data = section("software").get("software", {})
    return {
        "schema_version": SCHEMA_VERSION,
        "collected_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": host_info(software_data.get("container")),
        "cpu": cpu_data.get("cpu", {}),
        "memory": cpu_data.get("memory", {}),
        "disk": cpu_data.get("disk", {}),
        "gpus": match_gpus(gpus),
        "gpu_runtime": {
            "nvidia_driver_version": section("nvidia").get("driver_version"),
            "cuda_driver_version": section("nvidia").get("cuda_driver_version"),
            "rocm_version": section("amd").get("rocm_version"),
        },
        "software": software_data,
        "servers": section("servers").get("servers", []),
        "probes": {name: outcome.summary() for name, outcome in outcomes.items()},
    }
