"""``manage.py loadtest`` runs in-process against a real loopback server; no worker, no rows."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from advisor.loadtest.discovery import ServerKind
from advisor.loadtest.export import vllm_bench_summary
from advisor.loadtest.testserver import Fault, ScriptedServer

LEVEL_KEYS = {
    "concurrency",
    "requests",
    "succeeded",
    "failed",
    "errors",
    "duration_s",
    "request_throughput",
    "output_token_throughput",
    "ttft_ms",
    "itl_ms",
    "tpot_ms",
    "e2el_ms",
    "goodput",
}


def run(*args) -> str:
    out = StringIO()
    call_command("loadtest", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_contract_json(tmp_path):
    saved = tmp_path / "vllm.json"
    with ScriptedServer(kind=ServerKind.OLLAMA, ttft_s=0.01, tokens=3) as server:
        text = run(
            "--base-url", server.url, "--model", server.model, "--concurrency", "1,2",
            "--requests-per-level", "3", "--warmup", "0", "--slo-e2e-ms", "1000",
            "--json", "--save-vllm-json", str(saved), "--no-early-stop",
        )  # fmt: skip
    data = json.loads(text)
    assert data["target"] == {
        "base_url": server.url,
        "kind": "ollama",
        "model": "test-model",
        "api": "ollama",
        "version": "0.12.0",
    }
    assert [level["concurrency"] for level in data["levels"]] == [1, 2]
    assert set(data["levels"][0]) >= LEVEL_KEYS
    assert data["levels"][0]["goodput"] > 0
    assert data["stopped_reason"] == "all 2 levels completed"
    exported = json.loads(saved.read_text())
    assert exported[0]["completed"] == 3 and "p99_ttft_ms" in exported[0]
    assert len(exported[1]["itls"]) == 3
    # the same summary from the stored JSON alone (what a row keeps)
    summary = vllm_bench_summary(data)
    for ours, full in zip(summary, exported, strict=True):
        for key in ("completed", "max_concurrency", "mean_ttft_ms", "p99_e2el_ms", "p90_itl_ms"):
            assert ours[key] == full[key]


def test_it_prints_a_table_by_default():
    with ScriptedServer(tokens=2) as server:
        text = run("--base-url", server.url, "--model", server.model, "--concurrency", "1")
    assert "TTFT p50" in text and "c=1" in text and "stopped: all 1 levels completed" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "http://169.254.169.254", "--model", "m"], "metadata"),
        (["--base-url", "http://127.0.0.1:9", "--model", "m", "--concurrency", "0"], "concurrency"),
        (["--base-url", "http://127.0.0.1:9", "--model", "m", "--concurrency", "2000"], "between 1 and 1024"),
        (["--base-url", "http://127.0.0.1:9", "--model", "m", "--prompt-tokens", "1000000000000"],
         r"prompt tokens must be between 1 and 131072.*\(prompt_tokens\)"),
        (["--base-url", "http://127.0.0.1:9", "--model", "m", "--max-tokens", "99999999999"],
         r"max tokens must be between 1 and 32768.*\(max_tokens\)"),
    ],
)  # fmt: skip
def test_it_refuses_bad_input_as_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


@pytest.mark.parametrize("key", ["sk-abc\r\nX-Injected: 1", "sk-abc\nX: 1", "sk-abc\rdef"])
def test_it_refuses_an_api_key_that_would_inject_headers(monkeypatch, key):
    """OPENAI_API_KEY goes into a header: a line break in it is refused before anything is sent."""
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with ScriptedServer(tokens=2) as server:
        with pytest.raises(CommandError, match=r"line break or NUL.*\(OPENAI_API_KEY\)"):
            run("--base-url", server.url, "--model", server.model, "--concurrency", "1")
        assert server.log == []


def test_it_sends_the_api_key_as_a_bearer_token(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    with ScriptedServer(tokens=2) as server:
        run("--base-url", server.url, "--model", server.model, "--concurrency", "1", "--json")
    assert {entry.authorization for entry in server.log} == {"Bearer sk-test-123"}


def test_a_run_where_no_request_succeeded_fails_with_the_errors_by_kind():
    with ScriptedServer(tokens=2) as server:
        server.push_faults(*[Fault.HTTP_500] * 10)
        with pytest.raises(CommandError, match=r"none of the 4 requests succeeded \(http_500: 4\)"):
            run(
                "--base-url", server.url, "--model", server.model, "--concurrency", "1",
                "--requests-per-level", "4", "--warmup", "0", "--no-early-stop",
            )  # fmt: skip


def test_it_records_the_hardware_the_user_states_so_advise_counts_it(tmp_path):
    with ScriptedServer(kind=ServerKind.OLLAMA, tokens=2, model="llama3.1:8b") as server:
        text = run(
            "--base-url", server.url, "--model", "llama3.1:8b", "--concurrency", "1",
            "--requests-per-level", "2", "--warmup", "0", "--json",
            "--gpu", "NVIDIA H100 80GB HBM3", "--gpus", "1",
        )  # fmt: skip
    record = json.loads(text)["measured_on"]
    assert record["gpu"] == "h100-sxm-80gb" and record["gpu_count"] == 1
    assert (record["model"], record["source"]) == ("llama-3.1-8b", "stated")
    result = tmp_path / "lt.json"
    result.write_text(text)
    answers = tmp_path / "a.json"
    answers.write_text(json.dumps({"gpu": "h100", "model": "llama-3.1-8b"}))
    out = StringIO()
    call_command("advise", "--answers", str(answers), "--load-test", str(result), "--json",
                 stdout=out)  # fmt: skip
    measurements = json.loads(out.getvalue())["measurements"]
    assert [m["same_hardware"] for m in measurements] == [True]


def test_it_refuses_an_unknown_stated_gpu_naming_the_field():
    with pytest.raises(CommandError, match=r"measured_on\.gpu"):
        run("--base-url", "http://127.0.0.1:9", "--model", "m", "--gpu", "no-such-gpu")
