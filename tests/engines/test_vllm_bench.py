"""Our load test and `vllm bench serve` measure the same vLLM alike.

Same engine, same shape: 16 requests of ~64 prompt tokens and exactly 32 output tokens
(ignore_eos), 8 at a time, one after the other. `vllm bench serve` runs from the vLLM virtualenv
(engines/vllm_bench_serve.py). The tolerance allows for the noise of a shared 2-core machine; the
figures of a run are recorded in docs/engines.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.loadtest import LoadTestConfig, run_load_test
from tests.engines.conftest import CACHE, MODEL, VLLM

pytestmark = pytest.mark.engines

ENGINES_DIR = Path(__file__).resolve().parents[2] / "engines"
PROMPTS, USERS, PROMPT_TOKENS, OUTPUT_TOKENS = 16, 8, 64, 32
BENCH_TIMEOUT_S = 240


def vllm_bench_serve(result_dir: Path) -> dict:
    python = CACHE / "vllm-venv" / "bin" / "python"
    if not python.exists():
        pytest.fail(f"no vLLM virtualenv at {python.parent.parent} (make engines installs it)")
    command = [
        str(python),
        str(ENGINES_DIR / "vllm_bench_serve.py"),
        "--backend", "openai-chat",
        "--base-url", VLLM.url,
        "--endpoint", "/v1/chat/completions",
        "--model", MODEL,
        "--tokenizer", str(CACHE / "model" / "gemma3-270m-hf-bf16"),
        "--dataset-name", "random",
        "--random-input-len", str(PROMPT_TOKENS),
        "--random-output-len", str(OUTPUT_TOKENS),
        "--num-prompts", str(PROMPTS),
        "--max-concurrency", str(USERS),
        "--num-warmups", "1",
        "--ignore-eos",
        "--temperature", "0",
        "--disable-tqdm",
        "--save-result",
        "--result-dir", str(result_dir),
        "--result-filename", "bench.json",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}
    run = subprocess.run(command, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S, env=env)
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-3000:] + run.stderr[-3000:])
        pytest.fail(f"vllm bench serve failed with exit code {run.returncode}")
    return json.loads((result_dir / "bench.json").read_text())


def ours() -> dict:
    result = run_load_test(
        LoadTestConfig(
            base_url=VLLM.url,
            model=MODEL,
            concurrency=(USERS,),
            requests_per_level=PROMPTS,
            warmup=1,
            max_tokens=OUTPUT_TOKENS,
            prompt_tokens=PROMPT_TOKENS,
        )
    )
    return result.levels[0].as_dict()


def averaged(a: dict, b: dict) -> dict:
    """Our two runs (before and after vllm bench serve) averaged, so drift hits both sides."""
    out = dict(a)
    for name in ("ttft_ms", "tpot_ms", "itl_ms"):
        out[name] = {"mean": (a[name]["mean"] + b[name]["mean"]) / 2}
    out["output_token_throughput"] = (
        a["output_token_throughput"] + b["output_token_throughput"]
    ) / 2
    return out


def test_it_agrees_with_vllm_bench_serve_on_ttft_tpot_and_throughput(engines, tmp_path):
    before = ours()
    theirs = vllm_bench_serve(tmp_path)
    mine = averaged(before, ours())
    print(
        f"ours: ttft {mine['ttft_ms']['mean']:.0f} ms, tpot {mine['tpot_ms']['mean']:.1f} ms, "
        f"itl {mine['itl_ms']['mean']:.1f} ms, {mine['output_token_throughput']:.1f} tok/s; "
        f"vllm bench serve: ttft {theirs['mean_ttft_ms']:.0f} ms, "
        f"tpot {theirs['mean_tpot_ms']:.1f} ms, itl {theirs['mean_itl_ms']:.1f} ms, "
        f"{theirs['output_throughput']:.1f} tok/s"
    )
    assert theirs["completed"] == mine["succeeded"] == PROMPTS
    assert theirs["total_output_tokens"] == mine["total_output_tokens"] == PROMPTS * OUTPUT_TOKENS
    # Decode pace is the steadiest figure: within 30% run to run on shared cores.
    assert mine["tpot_ms"]["mean"] == pytest.approx(theirs["mean_tpot_ms"], rel=0.3)
    assert mine["itl_ms"]["mean"] == pytest.approx(theirs["mean_itl_ms"], rel=0.3)
    assert mine["output_token_throughput"] == pytest.approx(theirs["output_throughput"], rel=0.3)
    # TTFT is a few hundred ms of prefill and scheduling: same order of magnitude.
    assert theirs["mean_ttft_ms"] / 2.5 < mine["ttft_ms"]["mean"] < theirs["mean_ttft_ms"] * 2.5
