"""Every string a bundle writes to YAML stays a string for YAML 1.1 and YAML 1.2 readers alike:
PyYAML (1.1) and ruamel.yaml's pure loader (1.2, like Docker Compose), on the dumper and on whole
bundles whose model name or label reads like a number, a boolean, a null or a date."""

from __future__ import annotations

import io

import kubernetes_validate
import pytest
import yaml
from ruamel.yaml import YAML

from advisor.bundles import build_bundle
from advisor.bundles.targets.base import yaml_dump
from tests.bundles.factories import answers, recommendation
from tests.bundles.validators import KUBERNETES_VERSION, compose_validator

# Plain, each of these is a number, a boolean, a null, a date or a special key to some reader.
LOOKALIKES = [
    "1e3", "12e4", "1.5e-3", "-.5", "1.", ".5", "0o17", "017", "0x1F", "0b101", "1_000", "+1",
    "8192", "1:20", ".inf", "-.Inf", ".NaN", "~", "null", "NULL", "true", "False", "yes", "NO",
    "on", "Off", "y", "N", "2026-12-03", "2026-12-03T10:00:00Z", "=", "<<",
]  # fmt: skip


def yaml12_load_all(text: str) -> list:
    """YAML 1.2 (the pure-Python loader: ruamel's C loader is libyaml, which reads YAML 1.1)."""
    return list(YAML(typ="safe", pure=True).load_all(io.StringIO(text)))


@pytest.mark.parametrize("value", LOOKALIKES)
def test_the_dumper_quotes_what_a_reader_would_take_for_another_type(value):
    text = yaml_dump({"command": [value], "labels": {"app": value}})
    for loaded in (yaml.safe_load(text), yaml12_load_all(text)[0]):
        assert loaded == {"command": [value], "labels": {"app": value}}, text


@pytest.mark.parametrize("value", ["llama3.1:8b", "meta-llama/Llama-3.1-8B", "8000:8000", "a1"])
def test_it_leaves_plain_strings_plain(value):
    assert yaml_dump({"k": value}) == f"k: {value}\n"


@pytest.mark.parametrize("model", ["1e3", "12e4", "0o17", "1_000", "2026-12-03"])
def test_a_vllm_bundle_keeps_a_numeric_looking_model_name_a_string(model):
    bundle = build_bundle(recommendation("vllm"), None, answers(model=model))
    compose = yaml12_load_all(bundle.file("vllm/compose.nvidia.yaml").content)[0]
    assert compose["services"]["vllm"]["command"][0] == model
    assert not list(compose_validator().iter_errors(compose))
    for document in yaml12_load_all(bundle.file("vllm/kubernetes.yaml").content):
        labels = document["metadata"].get("labels", {})
        assert all(isinstance(v, str) for v in labels.values()), labels
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("model", ["1e3", "0o17"])
def test_an_ollama_bundle_keeps_a_numeric_looking_model_name_a_string(model):
    bundle = build_bundle(recommendation("ollama"), None, answers(model=model))
    for path in ("ollama/compose.cpu.yaml",):
        compose = yaml12_load_all(bundle.file(path).content)[0]
        assert compose["services"]["pull-model"]["entrypoint"] == ["ollama", "pull", model]
    for document in yaml12_load_all(bundle.file("ollama/kubernetes.yaml").content):
        labels = document["metadata"].get("labels", {})
        assert all(isinstance(v, str) for v in labels.values()), labels
