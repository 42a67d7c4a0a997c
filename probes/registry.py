"""The registry of probes: name -> ``probe() -> Outcome``. Adding a source is adding a module here.

GPU probes (``GPU_PROBES``) each contribute ``data["gpus"]``; the others fill their own sections.
"""

from __future__ import annotations

from probes import amd, apple, cpu, nvidia, servers, software
from probes.base import ProbeFn

GPU_PROBES = ("nvidia", "amd", "apple")

PROBES: dict[str, ProbeFn] = {
    "nvidia": nvidia.probe,
    "amd": amd.probe,
    "apple": apple.probe,
    "cpu": cpu.probe,
    "software": software.probe,
    "servers": servers.probe,
}
