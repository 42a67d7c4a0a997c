"""Hypothesis over model names and labels: nothing a user types can add a YAML key or a shell word."""

from __future__ import annotations

import re
import shlex
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.bundles import build_bundle
from advisor.bundles.names import MODEL_NAME_PATTERN
from advisor.errors import AdvisorError
from tests.bundles.factories import answers, recommendation

HOSTILE = string.printable + "äß€\u2028\u0085\"'`$;|&<>(){}[]#*!~"
names = st.one_of(
    st.text(alphabet=HOSTILE, min_size=1, max_size=60),
    st.from_regex(MODEL_NAME_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 80),
    st.sampled_from(["a: b", "x\nkind: Secret", "m'; rm -rf ~; '", "$(id)", "a #b", "- x"]),
)
DNS = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COMPOSE_KEYS = {"name", "services", "volumes"}
K8S_KEYS = {"apiVersion", "kind", "metadata", "spec"}


def _build(backend: str, model: str):
    """A custom model the capacity model could not size: its name reaches every file as given."""
    return build_bundle(recommendation(backend), None, answers(model=model))


def _build_or_refuse(backend: str, model: str):
    """The bundle, with every YAML document holding exactly its expected top-level keys; or
    None when the name was refused (and then the error must name the model field)."""
    try:
        bundle = _build(backend, model)
    except AdvisorError as exc:
        assert exc.field == "model"
        return None
    for path, documents in _yaml_documents(bundle):
        for doc in documents:
            assert set(doc) == (K8S_KEYS if "kubernetes" in path else COMPOSE_KEYS), path
    return bundle


def _yaml_documents(bundle):
    for item in bundle.files:
        if item.path.endswith(".yaml"):
            yield item.path, list(yaml.safe_load_all(item.content))


@FAST
@given(names)
def test_it_never_lets_a_vllm_model_name_add_keys_or_words(model):
    bundle = _build_or_refuse("vllm", model)
    if bundle is None:
        return
    compose = yaml.safe_load(bundle.file("vllm/compose.nvidia.yaml").content)
    assert compose["services"]["vllm"]["command"][0] == model
    assert set(compose["services"]["vllm"]) >= {"image", "command"}
    script = bundle.file("vllm/serve.sh").content
    words = shlex.split(script[script.index("exec vllm serve") :].replace("\\\n", " "))
    assert words[:4] == ["exec", "vllm", "serve", model]


@FAST
@given(names)
def test_it_never_lets_an_ollama_model_name_add_keys_or_lines(model):
    bundle = _build_or_refuse("ollama", model)
    if bundle is None:
        return
    compose = yaml.safe_load(bundle.file("ollama/compose.cpu.yaml").content)
    assert compose["services"]["pull-model"]["entrypoint"] == ["ollama", "pull", model]
    modelfile = bundle.file("ollama/Modelfile").content.splitlines()
    assert [line for line in modelfile if line.startswith("FROM")] == [f"FROM {model}"]
    setup = bundle.file("ollama/setup-linux.sh").content
    pull = next(line for line in setup.splitlines() if line.startswith("ollama pull"))
    assert shlex.split(pull) == ["ollama", "pull", model]
