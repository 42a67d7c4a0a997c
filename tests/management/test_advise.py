"""python manage.py advise: in-process verdicts from files, clear errors naming the field."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, setup_of
from tests.rules.factories import H100_REPORT, load_test

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def advise(*args) -> str:
    out = io.StringIO()
    call_command("advise", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prints_the_verdict_with_reasons(tmp_path):
    answers = write(
        tmp_path, "a.json", {"gpu": "h100", "peak_concurrent_users": 200, "use_case": "production"}
    )
    text = advise("--answers", answers)
    assert text.startswith("Recommendation: vLLM")
    assert "[workload.users_above_handful] 200 peak concurrent users" in text
    assert "meta-llama/Llama-3.1-8B-Instruct" in text


def test_it_prints_the_serving_plans_command_and_environment(tmp_path):
    vllm = write(tmp_path, "v.json", {"gpu": "h100", "peak_concurrent_users": 200,
                                      "use_case": "production"})  # fmt: skip
    plan = json.loads(advise("--answers", vllm, "--json"))["estimate"]["plan"]["vllm"]
    serve = " ".join(plan["serve_args"])
    assert f"Serve: vllm serve {plan['model']} {serve}" in advise("--answers", vllm)
    mac = write(tmp_path, "m.json", {"gpu": "apple-m3-max", "peak_concurrent_users": 2})
    tuned = json.loads(advise("--answers", mac, "--json"))["estimate"]["plan"]["ollama"]
    text = advise("--answers", mac)
    assert f"Serve: OLLAMA_CONTEXT_LENGTH={tuned['num_ctx']} OLLAMA_NUM_PARALLEL=" in text


def test_it_prints_json_with_the_estimate(tmp_path):
    answers = write(tmp_path, "a.json", {"gpu": "apple-m3-max", "peak_concurrent_users": 1})
    data = json.loads(advise("--answers", answers, "--json"))
    assert data["backend"] == "ollama"
    assert data["decisive"][0]["rule_id"] == "constraint.macos"
    assert data["estimate"]["ollama"]["fits_in_vram"] is True
    for key in (
        "confidence",
        "supporting",
        "opposing",
        "warnings",
        "switch_triggers",
        "migration",
        "comparison",
    ):
        assert key in data


def test_it_prints_the_same_cost_as_its_json(tmp_path):
    answers = write(
        tmp_path, "a.json", {"gpu": "h100", "model": "llama3.1:8b", "peak_concurrent_users": 200}
    )
    data = json.loads(advise("--answers", answers, "--json"))
    texts = {entry["server"]: entry["text"] for entry in data["cost"]["servers"]}
    row = next(line for line in advise("--answers", answers).splitlines() if line.startswith("$"))
    assert f"{texts['vllm']} (predicted) | {texts['ollama']} (predicted) | at 200 concurrent" in row


def test_it_sizes_from_a_hardware_report_and_reads_load_tests(tmp_path):
    answers = write(tmp_path, "a.json", {"model": "llama-3.1-70b", "peak_concurrent_users": 3})
    report = write(tmp_path, "hw.json", H100_REPORT)
    on_report = setup_of(gpu="h100-sxm-80gb", gpu_count=4, model="llama-3.1-70b")
    measured = MeasuredOn(on_report, MeasuredOnSource.PROBE).as_dict()
    sweep = write(
        tmp_path,
        "lt.json",
        {**load_test("ollama", {1: 2_000, 4: 30_000}), "measured_on": measured},
    )
    data = json.loads(
        advise("--answers", answers, "--hardware", report, "--load-test", sweep, "--json")
    )
    assert data["facts"]["hardware"] == "4x NVIDIA H100 SXM 80GB"
    assert data["facts"]["measured_levels"]["ollama"] == 2


def test_it_writes_the_bundle(tmp_path):
    answers = write(tmp_path, "a.json", {"gpu": "l40s", "peak_concurrent_users": 50})
    out = tmp_path / "bundle.zip"
    advise("--answers", answers, "--bundle", str(out))
    names = zipfile.ZipFile(out).namelist()
    assert names and any("vllm" in name for name in names)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({"peak_concurrent_users": 0, "gpu": "h100"}, "peak_concurrent_users: must be at least 1"),
        ({"gpu": "h100", "model": "gpt-17"}, "model: Unknown model"),
        ({"gpu": "h100", "colour": "blue"}, "colour: unknown question"),
        ({}, "gpu: say which GPU"),
        ("{not json", "not valid JSON"),
        ([1, 2], "JSON object"),
    ],
)
def test_it_names_the_field_in_bad_answers(tmp_path, content, fragment):
    answers = write(tmp_path, "a.json", content)
    with pytest.raises(CommandError) as info:
        advise("--answers", answers)
    assert fragment in str(info.value)


def test_it_names_the_field_in_a_bad_hardware_report(tmp_path):
    answers = write(tmp_path, "a.json", {})
    report = write(tmp_path, "hw.json", {**H100_REPORT, "memory": {"total_bytes": -1}})
    with pytest.raises(CommandError) as info:
        advise("--answers", answers, "--hardware", report)
    assert "memory.total_bytes" in str(info.value)


def test_it_rejects_a_missing_file_and_a_load_test_without_kind(tmp_path):
    with pytest.raises(CommandError, match="cannot read answers file"):
        advise("--answers", str(tmp_path / "missing.json"))
    answers = write(tmp_path, "a.json", {"gpu": "h100"})
    sweep = write(tmp_path, "lt.json", {"target": {"kind": "tgi"}, "levels": []})
    with pytest.raises(CommandError, match="target.kind"):
        advise("--answers", answers, "--load-test", sweep)


@pytest.mark.slow
def test_it_exits_non_zero_without_a_traceback(tmp_path):
    answers = write(tmp_path, "a.json", {"peak_concurrent_users": "lots", "gpu": "h100"})
    done = subprocess.run(
        [sys.executable, "manage.py", "advise", "--answers", answers],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "peak_concurrent_users: expected a whole number" in done.stderr
    assert "Traceback" not in done.stderr


def test_it_warns_about_a_result_file_without_the_hardware_it_ran_on(tmp_path):
    """A result without measured_on is unknown hardware: not weighed, and the output says so."""
    answers = write(tmp_path, "a.json", {"gpu": "h100", "peak_concurrent_users": 3})
    sweep = write(tmp_path, "lt.json", load_test("ollama", {1: 2_000, 4: 30_000}))
    data = json.loads(advise("--answers", answers, "--load-test", sweep, "--json"))
    assert data["facts"]["measured_levels"]["ollama"] == 0
    assert "measured_on_other_hardware" in {w["id"] for w in data["warnings"]}
    bad = write(
        tmp_path, "bad.json", {**load_test("ollama", {1: 2_000}), "measured_on": {"gpu": 1}}
    )
    with pytest.raises(CommandError, match="measured_on"):
        advise("--answers", answers, "--load-test", bad)


def test_it_reads_your_vllm_log_into_the_answers_and_sizes_with_your_flags(tmp_path):
    answers = write(
        tmp_path,
        "a.json",
        {
            "model": "llama-3.3-70b",
            "gpu": "a100-sxm-80gb",
            "gpu_count": 4,
            "tensor_parallel_size": 4,
        },
    )
    log = write(
        tmp_path, "vllm.log", "INFO [gpu_worker.py:298] Available KV cache memory: 20.5 GiB\n"
    )
    payload = json.loads(advise("--answers", answers, "--vllm-log", log, "--json"))
    plan = payload["estimate"]["plan"]["vllm"]
    assert (plan["tensor_parallel_size"], plan["data_parallel_size"]) == (4, 1)
    assert plan["kv_source"] == "measured" and plan["kv_budget_bytes"] == int(20.5 * 1024**3)


def test_it_names_the_vllm_flag_vllm_would_refuse(tmp_path):
    answers = write(tmp_path, "a.json", {"gpu": "h100", "gpu_count": 2, "tensor_parallel_size": 3})
    with pytest.raises(CommandError) as error:
        advise("--answers", answers)
    assert "tensor_parallel_size: vLLM cannot split" in str(error.value)


def test_it_names_an_unreadable_server_output_file(tmp_path):
    answers = write(tmp_path, "a.json", {"gpu": "h100"})
    with pytest.raises(CommandError, match="cannot read vllm log file"):
        advise("--answers", answers, "--vllm-log", str(tmp_path / "missing.log"))
