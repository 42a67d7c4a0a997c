"""What a bundle target is, plus the small helpers the targets share (sizing, YAML, shell).

A target is a name, the backends it serves and a ``render(inp) -> list[BundleFile]`` function;
``advisor.bundles.targets.TARGETS`` collects them. Adding a deployment flavour is adding a module.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import yaml

from advisor.bundles.archive import MODE_EXECUTABLE, BundleFile
from advisor.bundles.inputs import BundleInput
from advisor.capacity.specs import Vendor
from probes.kinds import Backend

# Start-up budget for orchestrators (Kubernetes startupProbe, compose start_period). Assumptions,
# deliberately slow so a first start is not killed half-way; README shows the result.
DOWNLOAD_BYTES_PER_S = 50e6  # a 400 Mbit/s path to the model registry on first start
LOAD_BYTES_PER_S = 1e9  # reading safetensors/GGUF from a local SSD or a PVC
VLLM_ENGINE_INIT_S = 300  # vLLM: torch.compile + CUDA-graph capture, a few minutes on first start
OLLAMA_ENGINE_INIT_S = 30  # Ollama: runner start-up once the weights are read
MIN_STARTUP_S = 120
PROBE_PERIOD_S = 10


@dataclass(frozen=True)
class Target:
    name: str
    backends: frozenset[Backend]
    render: Callable[[BundleInput], list[BundleFile]]
    description: str
    # Whether its files run on a Mac. Docker on macOS runs a Linux VM with no access to Metal,
    # so containers and Kubernetes would serve from the CPU there: a Mac bundle leaves them out.
    runs_on_mac: bool = False

    def applies_to(self, inp: BundleInput) -> bool:
        return inp.backend in self.backends and (self.runs_on_mac or not on_mac(inp))


def on_mac(inp: BundleInput) -> bool:
    """The answers describe a Mac: macOS, or an Apple GPU (which only macOS drives)."""
    return inp.platform == "macos" or inp.gpu_vendor == Vendor.APPLE


def startup_budget_s(inp: BundleInput, *, engine_init_s: int) -> int:
    """Seconds a first start may take: download + load the weights + engine init, rounded up."""
    weights = inp.weights_bytes or 0
    seconds = weights / DOWNLOAD_BYTES_PER_S + weights / LOAD_BYTES_PER_S + engine_init_s
    seconds = max(seconds, MIN_STARTUP_S)
    return int(math.ceil(seconds / PROBE_PERIOD_S) * PROBE_PERIOD_S)


class _BundleDumper(yaml.SafeDumper):
    """SafeDumper without anchors/aliases (readers expect plain YAML), multi-line strings as blocks."""

    def ignore_aliases(self, data: object) -> bool:
        return True


# Plain scalars that some YAML reader takes for something other than a string. PyYAML quotes only
# what its own YAML 1.1 resolver would misread; YAML 1.2 readers (Docker Compose) and Go's
# YAML 1.1 readers (Kubernetes, sigs.k8s.io/yaml on go-yaml v2) also read `1e3`, `0o17`, `-.5` as
# numbers and `y`/`n` as booleans. The union of both schemas: YAML 1.2.2 section 10.3.2 "Core
# Schema" tag resolution (https://yaml.org/spec/1.2.2/#1032-tag-resolution) and the YAML 1.1
# types (https://yaml.org/type/bool.html, int.html, float.html, null.html, timestamp.html,
# merge.html, value.html).
_NOT_A_PLAIN_STRING = re.compile(
    r"""
    ~ | null | Null | NULL                                            # null (1.1 and 1.2)
    | y | Y | yes | Yes | YES | n | N | no | No | NO                  # bool (1.1)
    | true | True | TRUE | false | False | FALSE                      # bool (1.1 and 1.2)
    | on | On | ON | off | Off | OFF                                 # bool (1.1)
    | [-+]? [0-9_]+                                                   # int, decimal or 1.1 octal
    | [-+]? 0b [01_]+ | [-+]? 0o? [0-7_]+ | [-+]? 0x [0-9a-fA-F_]+   # int, other bases
    | [-+]? [0-9][0-9_]* (: [0-5]?[0-9])+ (\. [0-9_]*)?               # sexagesimal (1.1)
    | [-+]? ( \. [0-9_]+ | [0-9][0-9_]* (\. [0-9_]*)? )
      ( [eE] [-+]? [0-9]+ )?                                          # float (1.1 and 1.2)
    | [-+]? \. (inf | Inf | INF) | \. (nan | NaN | NAN)                # float specials
    | [0-9]{4} - [0-9]{1,2} - [0-9]{1,2} ( [Tt ] .* )?                  # timestamp (1.1)
    | << | =                                                          # merge key, value key
    """,
    re.VERBOSE,
)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        style = "|"
    elif _NOT_A_PLAIN_STRING.fullmatch(value):
        style = "'"  # quoted: a string to every reader
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BundleDumper.add_representer(str, _str_representer)
_YAML_WIDTH = 100  # characters per line before PyYAML folds a long scalar


def yaml_dump(data: object, *, header: str = "") -> str:
    """YAML from plain dicts with a safe dumper (no tags, keys only from our dicts)."""
    return yaml_dump_all([data], header=header)


def yaml_dump_all(documents: Iterable[object], *, header: str = "") -> str:
    text = yaml.dump_all(
        list(documents),
        Dumper=_BundleDumper,
        sort_keys=False,
        default_flow_style=False,
        width=_YAML_WIDTH,
    )
    return _comment(header) + text


def _comment(text: str) -> str:
    if not text:
        return ""
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines())


def shell_words(words: Iterable[str]) -> str:
    return " ".join(shlex.quote(str(word)) for word in words)


# Scripts read the bundle's .env (as .env.example says) for every variable the caller has not
# set: plain KEY=value lines, as docker compose reads them; the caller's environment wins.
READ_ENV_FILE = (
    'env_file="$(dirname "$0")/../.env"\n'
    'if [[ -f "$env_file" ]]; then\n'
    "  while IFS='=' read -r key value || [[ -n \"$key\" ]]; do\n"
    '    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue\n'
    '    [[ -n "${!key+set}" ]] || export "$key=$value"\n'
    '  done <"$env_file"\n'
    "fi\n"
)


def shell_script(path: str, body: str, *, description: str, summary: str) -> BundleFile:
    """An executable bash script with strict mode; ``summary`` becomes its header comment."""
    header = "#!/usr/bin/env bash\n" + _comment(summary) + "set -euo pipefail\n\n"
    return BundleFile(path, header + body, MODE_EXECUTABLE, description)


def gib(value: int | None) -> str:
    return "unknown" if value is None else f"{value / 1024**3:.1f} GiB"
