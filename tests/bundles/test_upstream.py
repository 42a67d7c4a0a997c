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
        assert "--api-key" in flags, f"{where} must read the API key from the environment"


@pytest.mark.parametrize("scenario", VLLM)
def test_it_emits_the_same_tuned_flags_in_every_vllm_target(scenario):
    argvs = _vllm_argvs(bundle_for(scenario))
    without_key = {where: argv[: argv.index("--api-key")] for where, argv in argvs.items()}
    assert len({tuple(argv) for argv in without_key.values()}) == 1


def _ollama_envs(bundle) -> dict[str, dict[str, str]]:
    envs = {}
    for flavour in ("nvidia", "rocm", "cpu"):
        path = f"ollama/compose.{flavour}.yaml"
        envs[path] = yaml.safe_load(bundle.file(path).content)["services"]["ollama"]["environment"]
    docs = list(yaml.safe_load_all(bundle.file("ollama/kubernetes.yaml").content))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    envs["kubernetes"] = {item["name"]: item["value"] for item in container["env"]}
    plist = plistlib.loads(bundle.file("ollama/macos/com.ollama.serve.plist").content.encode())
    envs["launchd"] = plist["EnvironmentVariables"]
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


def test_it_records_where_each_table_comes_from():
    for table in (vllm_table(), ollama_env_table()):
        assert table["source"]["repository"]
        assert table["source"]["version"]
    assert all(len(commit) == 40 for commit in vllm_table()["source"]["files"].values())
