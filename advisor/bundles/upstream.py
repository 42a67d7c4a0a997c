"""The upstream name tables (vLLM flags, Ollama variables, Modelfile parameters) and checks on them.

The tables live in ``advisor/bundles/data/*.yaml`` with the upstream file, commit and version they
were read from. ``build_bundle`` runs these checks on everything it emits, and the tests run them
again on the rendered files, so an invented or removed name fails loudly instead of shipping.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
_MODELFILE_LINE = re.compile(r"^(?P<instruction>[A-Za-z]+)\s+(?P<rest>.*)$")


class UnknownUpstreamName(ValueError):
    """A renderer emitted a flag, variable or parameter the pinned upstream does not have."""


@functools.cache
def _load(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        table: dict[str, Any] = yaml.safe_load(handle)
    return table


def vllm_table() -> dict[str, Any]:
    return _load("vllm_serve_flags.yaml")


def ollama_env_table() -> dict[str, Any]:
    return _load("ollama_env.yaml")


def modelfile_table() -> dict[str, Any]:
    return _load("ollama_modelfile.yaml")


@functools.cache
def vllm_flags() -> frozenset[str]:
    table = vllm_table()
    return frozenset(table["frontend"]) | frozenset(table["engine"])


def check_vllm_args(args: Iterable[str]) -> None:
    """Every ``--flag`` in ``args`` (a ``vllm serve`` argv after the model) must be real and current.

    ``--flag=value`` and ``--flag value`` are both understood; values of flags with a closed set
    of choices are checked against it. Raises ``UnknownUpstreamName``.
    """
    table = vllm_table()
    avoid = set(table["avoid"])
    choices = {flag: {str(c) for c in values} for flag, values in table["choices"].items()}
    items = list(args)
    for index, arg in enumerate(items):
        if not arg.startswith("--"):
            continue
        flag, _, inline = arg.partition("=")
        base = "--" + flag[len("--no-") :] if flag.startswith("--no-") else flag
        if flag in avoid or base in avoid:
            raise UnknownUpstreamName(f"vLLM flag {flag} is removed or rejected in some versions")
        if flag not in vllm_flags() and base not in vllm_flags():
            raise UnknownUpstreamName(f"vLLM flag {flag} is not in {table['source']['package']}")
        if flag in choices:
            value = inline if inline else (items[index + 1] if index + 1 < len(items) else "")
            if value not in choices[flag]:
                raise UnknownUpstreamName(f"vLLM {flag} {value!r} is not one of {choices[flag]}")


def check_ollama_env(env: Mapping[str, str]) -> None:
    """Every ``OLLAMA_*`` name must be one the server reads; closed value sets are checked."""
    table = ollama_env_table()
    known = set(table["variables"])
    for name, value in env.items():
        if name in table["avoid"]:
            raise UnknownUpstreamName(f"Ollama does not read {name}")
        if name.startswith("OLLAMA_") and name not in known:
            raise UnknownUpstreamName(f"Ollama variable {name} is not in envconfig/config.go")
        allowed = table["choices"].get(name)
        if allowed is not None and str(value) not in allowed:
            raise UnknownUpstreamName(f"Ollama {name}={value!r} is not one of {allowed}")


def check_modelfile(text: str) -> None:
    """Each Modelfile line is a comment, blank, or a known instruction; PARAMETER names are known."""
    table = modelfile_table()
    instructions = {name.upper() for name in table["instructions"]}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _MODELFILE_LINE.match(stripped)
        if not match or match["instruction"].upper() not in instructions:
            raise UnknownUpstreamName(f"Modelfile line {stripped!r} has no known instruction")
        if match["instruction"].upper() == "PARAMETER":
            name = match["rest"].split()[0] if match["rest"].split() else ""
            if name not in table["parameters"]:
                raise UnknownUpstreamName(f"Modelfile PARAMETER {name!r} is not documented")
