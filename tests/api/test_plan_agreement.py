"""Every surface shows the serving plan's numbers: the page, the API, `manage.py advise --json` and
the bundle agree on slots, context, TP/DP, GPUs used, memory, KV capacity, cost and image tags.

Random questionnaires (with and without load tests measured on the same setup) go through the real
service; each surface is then read as a user would read it.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.rules.answers import Answers
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource
from advisor.services.assessments import load_test_results
from tests.api.factories import client_for, make_token, make_user
from tests.rules.factories import load_test, setup
from tests.web.factories import make_load_test

URL = "/api/v1/recommendations/"
GIB = 1024**3

# (gpu, counts it comes in, platform): a data-centre GPU, a desktop GPU, AMD, a Mac, CPU only.
HARDWARE = [
    ("h100-sxm-80gb", (1, 2, 4), "linux"),
    ("a100-sxm-80gb", (1, 4), "linux"),
    ("rtx-4090", (1, 2), "linux"),
    ("mi300x", (1,), "linux"),
    ("apple-m3-max", (1,), "macos"),
    (None, (0,), "linux"),
]
MODELS = ["llama-3.2-3b", "llama-3.1-8b", "qwen2.5-7b", "llama-3.3-70b"]


@st.composite
def questionnaires(draw) -> tuple[dict, bool]:
    gpu, counts, platform = draw(st.sampled_from(HARDWARE))
    answers = {
        "model": draw(st.sampled_from(MODELS)),
        "platform": platform,
        "gpu_count": draw(st.sampled_from(counts)),
        "peak_concurrent_users": draw(st.sampled_from([1, 3, 8, 40, 200])),
        "use_case": draw(st.sampled_from(["prototype", "internal", "production"])),
        "context_length": draw(st.sampled_from([4096, 8192, 32768])),
        "avg_prompt_tokens": draw(st.sampled_from([256, 1024])),
        "avg_output_tokens": draw(st.sampled_from([128, 512])),
        "deployment_target": "laptop" if platform == "macos" else "server",
    }
    if gpu:
        answers["gpu"] = gpu
    return answers, draw(st.booleans())


def _measured(owner, answers: dict) -> list:
    """A vLLM and an Ollama load test of the user's, recorded as run on this very setup."""
    record = MeasuredOn(setup(Answers.parse(answers)), MeasuredOnSource.STATED).as_dict()
    kinds = ("vllm", "ollama") if answers["gpu_count"] else ("ollama",)
    p95 = {"vllm": {1: 2_000, 4: 2_400}, "ollama": {1: 2_100, 4: 7_000}}
    return [
        make_load_test(
            kind=kind,
            owner=owner,
            levels=(1, 4),
            measured_on=record,
            result=load_test(kind, p95[kind]),
        )  # fmt: skip
        for kind in kinds
    ]


def _advise_json(tmp_path, answers: dict, rows: list) -> dict:
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(json.dumps(answers))
    args = ["advise", "--answers", str(answers_file), "--json"]
    for index, result in enumerate(load_test_results(rows)):
        path = tmp_path / f"load-test-{index}.json"
        path.write_text(json.dumps(result))
        args += ["--load-test", str(path)]
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def _bundle(api, rid: str, backend: str) -> dict[str, str]:
    reply = api.get(f"{URL}{rid}/bundle/", {"backend": backend}).json()
    return {item["path"]: item["content"] for item in reply["files"]}


def _check_vllm_bundle(files: dict[str, str], plan: dict) -> None:
    compose = yaml.safe_load(files["vllm/compose.nvidia.yaml"])["services"]["vllm"]
    args = compose["command"]

    def flag(name: str) -> str | None:
        return args[args.index(name) + 1] if name in args else None

    assert flag("--tensor-parallel-size") == str(plan["tensor_parallel_size"])
    assert flag("--data-parallel-size") == (
        str(plan["data_parallel_size"]) if plan["data_parallel_size"] > 1 else None
    )
    assert flag("--max-model-len") == str(plan["max_model_len"])
    assert flag("--max-num-seqs") == str(plan["max_num_seqs"])
    assert flag("--max-num-batched-tokens") == str(plan["max_num_batched_tokens"])
    assert flag("--gpu-memory-utilization") == f"{plan['gpu_memory_utilization']:g}"
    devices = compose["deploy"]["resources"]["reservations"]["devices"][0]
    assert devices["count"] == plan["tensor_parallel_size"] * plan["data_parallel_size"]
    assert compose["image"].endswith(f":-{plan['image']}}}") or plan["image"] in compose["image"]
    readme = files["README.md"]
    assert f"KV cache: {plan['kv_cache_tokens']:,} tokens per replica" in readme
    held = plan["requests_held"]
    assert f"held at once: {held['held']:,}" in readme


def _check_ollama_bundle(files: dict[str, str], plan: dict, answers: dict) -> None:
    if answers["platform"] == "macos":
        setenv = files["ollama/macos/setenv.sh"]
        assert f"launchctl setenv OLLAMA_NUM_PARALLEL {plan['num_parallel']}" in setenv
        assert f"launchctl setenv OLLAMA_CONTEXT_LENGTH {plan['num_ctx']}" in setenv
    else:
        flavour = "nvidia" if answers.get("gpu") != "mi300x" else "rocm"
        compose = yaml.safe_load(
            files[f"ollama/compose.{flavour if answers['gpu_count'] else 'cpu'}.yaml"]
        )
        env = compose["services"]["ollama"]["environment"]
        for name, value in plan["environment"].items():
            assert env[name] == value, name
        assert plan["image"] in compose["services"]["ollama"]["image"]
    readme = files["README.md"]
    assert f"Slots: {plan['num_parallel']} x {plan['num_ctx']:,} tokens" in readme
    assert f"{plan['memory_bytes'] / GIB:.1f} GiB" in readme


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=questionnaires())
def test_every_surface_shows_the_plans_numbers(case, tmp_path):
    answers, with_measurements = case
    user = make_user()
    api = client_for(make_token(user))
    rows = _measured(user, answers) if with_measurements else []
    reply = api.post(URL, {**answers, "load_tests": [str(r.pk) for r in rows]}, format="json")
    assert reply.status_code == 201, reply.content
    body = reply.json()
    plan, result = body["estimate"]["plan"], body["result"]

    # The CLI computes the same plan and the same cost from the same answers and measurements.
    cli = _advise_json(tmp_path, answers, rows)
    assert cli["estimate"]["plan"] == plan
    assert cli["cost"] == result["cost"]
    assert cli["serving"] == result["serving"]

    # The API's serving block is the chosen server's plan.
    chosen = plan["vllm"] if body["backend"] == "vllm" else plan["ollama"]
    assert {k: result["serving"][k] for k in chosen} == chosen

    # The page.
    page = Client()
    page.force_login(user)
    html = page.get(f"/assessments/{body['assessment']}/").content.decode()
    tuned, installed = plan["ollama"], plan["ollama_installed"]
    assert (
        f"As we set it: {tuned['num_parallel']:,} slot{'s' if tuned['num_parallel'] != 1 else ''}"
        f" of {tuned['num_ctx']:,} tokens" in html
    )
    assert f"As installed: {installed['num_parallel']:,} slot" in html
    if plan["vllm"]["runs"]:
        vllm = plan["vllm"]
        assert f"tensor parallel {vllm['tensor_parallel_size']}" in html
        assert f"KV cache: {vllm['kv_cache_tokens']:,} tokens" in html
        assert f"at once: {vllm['requests_held']['held']:,}" in html
        assert vllm["image"] in html
    else:
        assert "Not an option here" in html and "vllm serve" not in html.split("Side by side")[0]
    cost = result["cost"]
    if cost:
        assert cost["concurrency"] == min(answers["peak_concurrent_users"], 4096)
        servers = {row["server"] for row in cost["servers"]}
        assert ("vllm" in servers) == plan["vllm"]["runs"]
        row = next(r for r in result["comparison"] if r["aspect"] == "$ per 1M output tokens")
        for entry in cost["servers"]:
            assert entry["text"] in html
            assert entry["text"] in row[entry["server"]]

    # The bundle, for both servers.
    _check_ollama_bundle(_bundle(api, body["id"], "ollama"), tuned, answers)
    if plan["vllm"]["runs"] and answers["gpu_count"] and answers.get("gpu") != "mi300x":
        _check_vllm_bundle(_bundle(api, body["id"], "vllm"), plan["vllm"])
