"""Bundles from the real rules engine and capacity model (not fixtures): valid, tuned, explained."""

from __future__ import annotations

import plistlib

import pytest
import yaml

from advisor.bundles import build_bundle
from advisor.bundles.upstream import check_ollama_env, check_vllm_args
from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.recommend import recommend
from tests.bundles.validators import compose_errors, kubernetes_errors, run_shell_checks

CASES = {
    "200 users on one H100": (
        {
            "model": "llama-3.1-8b",
            "gpu": "NVIDIA H100 80GB HBM3",
            "gpu_count": 1,
            "peak_concurrent_users": 200,
            "use_case": "production",
            "deployment_target": "server",
        },
        "vllm",
    ),
    "solo developer on a Mac": (
        {
            "model": "llama-3.1-8b",
            "gpu": "Apple M3 Max",
            "gpu_count": 1,
            "platform": "macos",
            "peak_concurrent_users": 1,
            "use_case": "prototype",
            "deployment_target": "laptop",
        },
        "ollama",
    ),
    "70B on four A100s": (
        {
            "model": "llama-3.3-70b",
            "gpu": "NVIDIA A100 80GB",
            "gpu_count": 4,
            "peak_concurrent_users": 50,
            "use_case": "production",
            "deployment_target": "kubernetes",
            "features": ["kubernetes", "metrics"],
        },
        "vllm",
    ),
    "CPU-only laptop": (
        {
            "model": "llama-3.2-3b",
            "gpu_count": 0,
            "platform": "linux",
            "peak_concurrent_users": 1,
            "deployment_target": "laptop",
        },
        "ollama",
    ),
    "ten LoRA adapters": (
        {
            "model": "llama-3.1-8b",
            "gpu": "NVIDIA H100 80GB HBM3",
            "gpu_count": 1,
            "peak_concurrent_users": 20,
            "features": ["multi_lora"],
            "lora_adapters": 10,
            "deployment_target": "server",
        },
        "vllm",
    ),
}


@pytest.fixture(scope="module")
def built():
    out = {}
    for name, (raw, _) in CASES.items():
        answers = Answers.parse(raw)
        facts = facts_build(answers)
        rec = recommend(facts).as_dict()
        out[name] = (rec, facts.estimate, build_bundle(rec, facts.estimate, answers.as_dict()))
    return out


@pytest.mark.parametrize("name", CASES)
def test_it_renders_the_recommended_server_with_valid_files(name, built, tmp_path):
    rec, _, bundle = built[name]
    assert bundle.backend == rec["backend"] == CASES[name][1]
    for item in bundle.files:
        if item.path.endswith(".yaml"):
            list(yaml.safe_load_all(item.content))
        if "compose" in item.path:
            assert compose_errors(item.content) == [], item.path
        if item.path.endswith("kubernetes.yaml"):
            assert kubernetes_errors(item.content) == [], item.path
        if item.path.endswith(".sh"):
            path = tmp_path / item.path.replace("/", "_")
            path.write_text(item.content, encoding="utf-8")
            assert run_shell_checks(path) == [], item.path


@pytest.mark.parametrize("name", CASES)
def test_it_explains_the_verdict_with_the_engines_own_reasons(name, built):
    rec, _, bundle = built[name]
    readme = bundle.file("README.md").content
    for reason in rec["decisive"]:
        assert reason["message"] in readme
    for warning in rec["warnings"]:
        assert warning["message"] in readme


def _vllm_args(bundle) -> list[str]:
    docs = list(yaml.safe_load_all(bundle.file("vllm/kubernetes.yaml").content))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize("name", [n for n, (_, backend) in CASES.items() if backend == "vllm"])
def test_it_carries_the_estimates_vllm_sizing_into_the_flags(name, built):
    _, estimate, bundle = built[name]
    args = _vllm_args(bundle)
    check_vllm_args(args)
    sizing = estimate["vllm"]
    assert args[args.index("--tensor-parallel-size") + 1] == str(sizing["tensor_parallel_size"])
    assert args[args.index("--max-model-len") + 1] == str(sizing["max_model_len"])
    assert args[args.index("--max-num-seqs") + 1] == str(sizing["max_num_seqs"])
    if CASES[name][0].get("lora_adapters"):
        assert args[args.index("--max-loras") + 1] == "10"


@pytest.mark.parametrize("name", [n for n, (_, backend) in CASES.items() if backend == "ollama"])
def test_it_carries_the_estimates_ollama_settings_into_the_environment(name, built):
    _, estimate, bundle = built[name]
    plist = plistlib.loads(bundle.file("ollama/macos/com.ollama.serve.plist").content.encode())
    env = plist["EnvironmentVariables"]  # every Ollama bundle, Mac or not, has the launchd agent
    check_ollama_env(env)
    tuned = (estimate["ollama"].get("recommended") or {}).get("env") or {}
    for key, value in tuned.items():
        assert env[key] == str(value), key
