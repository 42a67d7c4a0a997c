"""`manage.py estimate`: a thin shell that prints text or JSON and fails cleanly."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    out = StringIO()
    call_command("estimate", *args, stdout=out)
    return out.getvalue()


def test_it_prints_json_with_the_issue_10517_numbers():
    output = _run(
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "NVIDIA H100 80GB HBM3",
        "--gpus",
        "1",
        "--max-model-len",
        "20000",
        "--kv-cache-budget-gib",
        "3.81",
        "--json",
    )
    data = json.loads(output)
    assert data["vllm"]["num_gpu_blocks"] == 1950
    assert data["vllm"]["max_concurrency"] == 1.56


def test_it_prints_a_readable_report():
    output = _run(
        "--model", "gemma3:270m", "--gpu", "rtx-4090", "--gpus", "1", "--concurrency", "1,4"
    )
    assert "Gemma 3 270M" in output and "vllm serve --tensor-parallel-size 1" in output
    assert "OLLAMA_NUM_PARALLEL" in output and "per 1M output tokens" in output


def test_it_calibrates_from_a_measurement():
    data = json.loads(
        _run(
            "--model",
            "llama3.1:8b",
            "--gpu",
            "h100",
            "--measured-decode-tps",
            "ollama=120",
            "--json",
        )
    )
    assert data["calibration"][0]["server"] == "ollama"


def test_it_reads_a_config_file(tmp_path):
    config = {
        "model_type": "llama",
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
        "max_position_embeddings": 8192,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    data = json.loads(_run("--config", str(path), "--gpu", "l4", "--json"))
    assert data["kv_bytes_per_token"] == 2 * 8 * 64 * 2 * 16


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "llama3.1:9b", "--gpu", "h100"],
            "--model: Unknown model 'llama3.1:9b'. Close matches: llama-3.1-8b",
        ),
        (["--model", "llama3.1:8b", "--gpu", "H101"], "--gpu: Unknown GPU"),
        (["--model", "llama3.1:8b", "--gpu", "h100", "--concurrency", "a,b"], "--concurrency:"),
        (
            ["--model", "llama3.1:8b", "--gpu", "h100", "--measured-decode-tps", "vllm"],
            "--measured-decode-tps:",
        ),
    ],
)
def test_it_reports_bad_input_as_a_command_error(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(".", r"\.")):
        _run(*args)


def test_it_exits_non_zero_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "manage.py", "estimate", "--model", "no-such-model", "--gpu", "h100"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Unknown model" in result.stderr and "Traceback" not in result.stderr


def test_it_renders_cpu_only_and_non_fitting_reports():
    cpu = _run("--model", "llama3.2:1b", "--gpus", "0", "--concurrency", "1")
    assert "CPU only" in cpu and "does NOT fit in VRAM" in cpu
    mac = _run("--model", "qwen3:30b", "--gpu", "Apple M3 Max", "--concurrency", "1")
    assert "vLLM      does NOT fit" in mac and "No vLLM performance prediction" in mac
