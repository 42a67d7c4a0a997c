"""Offline validators for bundle files: Compose schema, Kubernetes schemas, bash, shellcheck."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.33.0"  # a version every supported cluster line still accepts


@functools.cache
def compose_validator() -> jsonschema.Draft202012Validator:
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def compose_errors(text: str) -> list[str]:
    data = yaml.safe_load(text)
    return [error.message for error in compose_validator().iter_errors(data)]


def kubernetes_errors(text: str) -> list[str]:
    errors = []
    for document in yaml.safe_load_all(text):
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{document.get('kind')}: {exc.message}")
    return errors


def shellcheck_path() -> str | None:
    local = Path(sys.executable).parent / "shellcheck"
    return str(local) if local.exists() else shutil.which("shellcheck")


def run_shell_checks(path: Path) -> list[str]:
    """``bash -n`` always; shellcheck when the pinned binary is installed."""
    problems = []
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    if result.returncode:
        problems.append(f"bash -n: {result.stderr}")
    shellcheck = shellcheck_path()
    if shellcheck:
        result = subprocess.run(
            [shellcheck, "--shell=bash", "--severity=style", str(path)],
            capture_output=True,
            text=True,
        )
        if result.returncode:
            problems.append(f"shellcheck: {result.stdout}")
    return problems


SYSTEMD_KEYS = {
    "Unit": {"Description", "After", "Wants", "Requires", "Documentation"},
    "Service": {
        "Type",
        "User",
        "Group",
        "Environment",
        "EnvironmentFile",
        "ExecStart",
        "ExecStartPre",
        "Restart",
        "RestartSec",
        "TimeoutStartSec",
        "LimitNOFILE",
    },
    "Install": {"WantedBy"},
}


def parse_systemd(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for each setting; raises ValueError on a line systemd would reject."""
    section = None
    settings = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            if section not in SYSTEMD_KEYS:
                raise ValueError(f"line {number}: unknown section {section}")
            continue
        key, sep, value = stripped.partition("=")
        if section is None or not sep or key not in SYSTEMD_KEYS[section]:
            raise ValueError(f"line {number}: {stripped!r} is not a known [{section}] setting")
        settings.append((section, key, value))
    return settings
