"""Only real names ship: every vLLM flag, Ollama variable and Modelfile parameter in every bundle."""

from __future__ import annotations

import plistlib
import re
import shlex

import pytest
import yaml

from advisor.bundles.upstream import (
    UnknownUpstreamName,
    check_modelfile,
    check_ollama_env,
    check_vllm_args,
    ollama_env_table,
    vllm_flags,
    vllm_table,
)
from advisor.releases import OLLAMA_IMAGE, VLLM_IMAGE, VLLM_RELEASE, VLLM_ROCM_IMAGE
from tests.bundles.factories import SCENARIOS, bundle_for
from tests.bundles.validators import parse_systemd

VLLM = [name for name in SCENARIOS if name.startswith("vllm")]
OLLAMA = [name for name in SCENARIOS if name.startswith("ollama")]


def _vllm_argvs(bundle) -> dict[str, list[str]]:
    """Every `vllm serve` argv in the bundle, by file."""
    argvs = {}
    for name in ("vllm/compose.nvidia.yaml", "vllm/compose.rocm.yaml"):
        argvs[name] = yaml.safe_load(bundle.file(name).content)["services"]["vllm"]["command"]
    docs = list(yaml.safe_load_all(bundle.file("vllm/kubernetes.yaml").content))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    argvs["kubernetes"] = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    script = bundle.file("vllm/serve.sh").content
    exec_block = script[script.index("exec vllm serve") :].replace("\\\n", " ")
    argvs["serve.sh"] = shlex.split(exec_block)[3:]
    unit = parse_systemd(bundle.file("vllm/vllm.service").content)
    exec_start = next(value for _, key, value in unit if key == "ExecStart")
    argvs["systemd"] = shlex.split(exec_start)[2:]
    return argvs


@pytest.mark.parametrize("scenario", VLLM)
def test_it_emits_only_flags_from_the_pinned_vllm_version(scenario):
    bundle = bundle_for(scenario)
    for where, argv in _vllm_argvs(bundle).items():
        flags = [word.split("=")[0] for word in argv if word.startswith("--")]
        assert flags, where
        assert set(flags) <= vllm_flags(), where
        assert not set(flags) & set(vllm_table()["avoid"]), where
        check_vllm_args(argv)
        # vLLM takes the key from VLLM_API_KEY in its environment: never a visible argument.
        assert "--api-key" not in flags, where


@pytest.mark.parametrize("scenario", VLLM)
def test_it_emits_the_same_tuned_flags_in_every_vllm_target(scenario):
    argvs = _vllm_argvs(bundle_for(scenario))
    assert len({tuple(argv) for argv in argvs.values()}) == 1


def _ollama_envs(bundle) -> dict[str, dict[str, str]]:
    """The OLLAMA_* environment of every file in the bundle that sets one (a Mac bundle has
    only the launchd ones)."""
    paths = {f.path for f in bundle.files}
    envs = {}
    for flavour in ("nvidia", "rocm", "cpu"):
        path = f"ollama/compose.{flavour}.yaml"
        if path in paths:
            compose = yaml.safe_load(bundle.file(path).content)
            envs[path] = compose["services"]["ollama"]["environment"]
    if "ollama/kubernetes.yaml" in paths:
        docs = list(yaml.safe_load_all(bundle.file("ollama/kubernetes.yaml").content))
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        envs["kubernetes"] = {item["name"]: item["value"] for item in container["env"]}
    plist = plistlib.loads(bundle.file("ollama/macos/com.ollama.serve.plist").content.encode())
    envs["launchd"] = plist["EnvironmentVariables"]
    if "ollama/systemd/override.conf" in paths:
        override = parse_systemd(bundle.file("ollama/systemd/override.conf").content)
        envs["systemd"] = dict(
            value.strip('"').split("=", 1) for _, key, value in override if key == "Environment"
        )
    setenv = bundle.file("ollama/macos/setenv.sh").content
    envs["setenv"] = dict(
        shlex.split(line)[2:4] for line in setenv.splitlines() if line.startswith("launchctl")
    )
    return envs


@pytest.mark.parametrize("scenario", OLLAMA)
def test_it_sets_only_variables_ollama_reads(scenario):
    bundle = bundle_for(scenario)
    known = set(ollama_env_table()["variables"])
    for where, env in _ollama_envs(bundle).items():
        assert env, where
        assert set(env) <= known, where
        assert "OLLAMA_NUM_CTX" not in env
        check_ollama_env(env)
        for required in ("OLLAMA_CONTEXT_LENGTH", "OLLAMA_NUM_PARALLEL", "OLLAMA_KEEP_ALIVE"):
            assert required in env, where


@pytest.mark.parametrize("scenario", OLLAMA)
def test_it_writes_a_modelfile_with_documented_parameters(scenario):
    text = bundle_for(scenario).file("ollama/Modelfile").content
    check_modelfile(text)
    assert re.search(r"^FROM \S+$", text, re.M)
    assert re.search(r"^PARAMETER num_ctx \d+$", text, re.M)


@pytest.mark.parametrize(
    "argv",
    [
        ["--swap-space", "4"],
        ["--disable-log-requests"],
        ["--max-num-seq", "8"],  # a typo of --max-num-seqs
        ["--kv-cache-dtype", "fp4"],
        ["--max-lora-rank=12"],
    ],
)
def test_it_refuses_removed_invented_or_out_of_range_vllm_flags(argv):
    with pytest.raises(UnknownUpstreamName):
        check_vllm_args(argv)


def test_it_accepts_the_no_form_of_a_boolean_flag():
    check_vllm_args(["--no-enable-prefix-caching", "--max-num-seqs=8"])


@pytest.mark.parametrize(
    "env",
    [{"OLLAMA_NUM_CTX": "8192"}, {"OLLAMA_PARALLEL": "2"}, {"OLLAMA_KV_CACHE_TYPE": "q5_1"}],
)
def test_it_refuses_ollama_variables_that_do_not_exist(env):
    with pytest.raises(UnknownUpstreamName):
        check_ollama_env(env)


@pytest.mark.parametrize("text", ["FROM x\nPARAMETER context 8\n", "FROM x\nCONTEXT 8\n"])
def test_it_refuses_unknown_modelfile_lines(text):
    with pytest.raises(UnknownUpstreamName):
        check_modelfile(text)


def test_it_records_where_each_table_comes_from_and_holds_it_to_the_pinned_release():
    vllm = vllm_table()["source"]
    assert vllm["release"] == VLLM_RELEASE and f"vllm=={VLLM_RELEASE}" in vllm["package"]
    assert vllm["files"]
    ollama = ollama_env_table()["source"]
    assert ollama["repository"] == "ollama/ollama" and len(ollama["read_at"].split()[0]) == 40


def test_it_pins_the_current_images_everywhere():
    bundles = [bundle_for(name) for name in ("vllm-h100", "vllm-mi300x", "ollama-4090")]
    text = "\n".join(f.content for b in bundles for f in b.files)
    for image in (VLLM_IMAGE, VLLM_ROCM_IMAGE, OLLAMA_IMAGE):
        assert image in text
    assert "rocm/vllm" not in text and "v0.11.0" not in text and "0.12.6" not in text
    # Compose interpolation names that no server reads as its own setting.
    assert "${BUNDLE_VLLM_IMAGE:-" in text and "${BUNDLE_OLLAMA_IMAGE:-" in text
    assert "${OLLAMA_IMAGE" not in text and "${VLLM_IMAGE" not in text
