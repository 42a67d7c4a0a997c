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
    assert (
        "Gemma 3 270M" in output
        and "vllm serve google/gemma-3-270m --tensor-parallel-size 1" in output
    )
    assert "OLLAMA_NUM_PARALLEL" in output and "per 1M output tokens" in output


def test_it_prices_both_servers_at_each_level_on_all_the_gpus():
    """Not each server at its own best level, and the hour of all four GPUs, labelled so."""
    output = _run(
        "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "4", "--concurrency", "1,8,64"
    )
    lines = output.splitlines()
    assert any(line.startswith("Cost      $11.96/h for 4x NVIDIA H100") for line in lines)
    start = lines.index("  $ per 1M output tokens, both servers predicted at the same load:")
    rows = [line.split() for line in lines[start + 2 : start + 5]]
    assert [row[0] for row in rows] == ["1", "8", "64"]
    assert all(len(row) == 3 and row[1].startswith("$") and row[2].startswith("$") for row in rows)


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


def test_it_takes_a_pasted_vllm_log_and_metrics_page(tmp_path):
    """A start-up log's "Available KV cache memory" and a /metrics block count become measured
    figures (log lines from LMCache/LMCache issue 1739; the gauge as vLLM 0.26 prints it)."""
    log = tmp_path / "vllm.log"
    log.write_text(
        "INFO 10-03 16:22:17 [gpu_worker.py:298] Available KV cache memory: 6.51 GiB\n"
        "INFO 10-03 16:22:17 [kv_cache_utils.py:864] GPU KV cache size: 42,656 tokens\n"
    )
    data = json.loads(
        _run(
            "--model",
            "qwen3-14b",
            "--gpu",
            "h100",
            "--max-model-len",
            "32768",
            "--vllm-log",
            str(log),
            "--json",
        )
    )
    assert data["vllm"]["kv_budget_source"] == "measured"
    assert data["vllm"]["kv_cache_tokens"] == 42656
    assert data["vllm"]["kv_budget_error_pct"] is not None
    metrics = tmp_path / "metrics.txt"
    metrics.write_text(
        'vllm:cache_config_info{block_size="16",cache_dtype="auto",'
        'gpu_memory_utilization="0.45",num_gpu_blocks="24978"} 1.0\n'
    )
    data = json.loads(
        _run("--model", "llama-3.1-8b", "--gpu", "h100", "--vllm-metrics", str(metrics), "--json")
    )
    assert data["vllm"]["num_gpu_blocks"] == 24978
    assert data["vllm"]["gpu_memory_utilization"] == 0.45


def test_it_takes_vllm_flags():
    data = json.loads(
        _run(
            "--model",
            "llama-3.1-70b",
            "--gpu",
            "h100",
            "--gpus",
            "8",
            "--tensor-parallel-size",
            "4",
            "--data-parallel-size",
            "2",
            "--max-num-seqs",
            "128",
            "--max-num-batched-tokens",
            "4096",
            "--vllm-version",
            "0.11.0",
            "--json",
        )
    )
    assert data["vllm"]["tensor_parallel_size"] == 4 and data["vllm"]["max_num_seqs"] == 128
    assert data["vllm"]["vllm_version"] == "0.11.0"


def test_it_fails_cleanly_on_a_log_that_is_not_one(tmp_path):
    log = tmp_path / "other.log"
    log.write_text("hello\n")
    with pytest.raises(CommandError, match="--vllm-log"):
        _run("--model", "llama-3.1-8b", "--gpu", "h100", "--vllm-log", str(log))
