"""The demo: sweep llama.cpp and vLLM (from `make engines`), compare them, ask the advisor.

Usage (the app's virtualenv, from the repository root; `engines/demo.sh` does it all):
    .venv/bin/python engines/demo.py [--concurrency 1,4,8] [--requests 8] [--max-tokens 32]

Each sweep is stored as a load test (the same service the web UI and the task use, run here
in-process so no worker is needed), the two are printed side by side, and an assessment for a team
with that many users on this CPU gets a recommendation from the rules with both runs as evidence.
Prints the pages to open once `make run` serves the app.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")

HOST = os.environ.get("ADVISOR_ENGINES_HOST", "127.0.0.1")
ENGINES = {
    "llamacpp": f"http://{HOST}:{os.environ.get('ADVISOR_LLAMACPP_PORT', '11435')}",
    "vllm": f"http://{HOST}:{os.environ.get('ADVISOR_VLLM_PORT', '8001')}",
}
MODEL = os.environ.get("ADVISOR_ENGINES_MODEL", "gemma3-270m")
CATALOG_MODEL = "gemma-3-270m"  # the capacity catalog's id for the same model
APP_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8765')}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,4,8", help="user levels, e.g. 1,4,8")
    parser.add_argument("--requests", type=int, default=8, help="requests per level")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    return parser.parse_args(argv)


def sweep(name: str, url: str, args: argparse.Namespace):
    from advisor.services.loadtests import loadtest_create, loadtest_run

    print(f"sweeping {name} at {url} (users {args.concurrency}) ...", flush=True)
    row = loadtest_create(
        config={
            "base_url": url,
            "model": MODEL,
            "concurrency": args.concurrency,
            "requests_per_level": args.requests,
            "max_tokens": args.max_tokens,
            "prompt_tokens": args.prompt_tokens,
            "early_stop": False,  # show the whole curve, however bad it gets
        },
        enqueue=False,
    )
    row = loadtest_run(load_test_id=row.pk)
    if row.status != "succeeded":
        raise SystemExit(f"{name}: the load test {row.status}: {row.error or row.stopped_reason}")
    return row


def comparison(rows: dict) -> str:
    """One line per level: tokens/s, TTFT and TPOT of each engine, and vLLM's throughput ratio."""
    levels = {
        name: {lvl.concurrency: lvl for lvl in row.levels.all()} for name, row in rows.items()
    }
    lines = [
        f"{'users':>5} | {'llama.cpp tok/s':>15} {'TTFT p50':>9} {'TPOT':>7} | "
        f"{'vLLM tok/s':>10} {'TTFT p50':>9} {'TPOT':>7} | vLLM/llama.cpp"
    ]
    for users in sorted(levels["llamacpp"]):
        llama, vllm = levels["llamacpp"][users], levels["vllm"].get(users)
        if vllm is None:
            continue
        ratio = vllm.output_token_throughput / max(llama.output_token_throughput, 1e-9)
        lines.append(
            f"{users:>5} | {llama.output_token_throughput:>15.1f} "
            f"{llama.metrics['ttft_ms']['p50']:>7.0f}ms {llama.metrics['tpot_ms']['p50']:>5.0f}ms | "
            f"{vllm.output_token_throughput:>10.1f} "
            f"{vllm.metrics['ttft_ms']['p50']:>7.0f}ms {vllm.metrics['tpot_ms']['p50']:>5.0f}ms | "
            f"{ratio:.1f}x"
        )
    return "\n".join(lines)


def code_path() -> str:
    """The CPU code path the engines run on, as engines/start.sh recorded it."""
    cache = Path(
        os.environ.get(
            "ADVISOR_ENGINES_CACHE", Path.home() / ".cache" / "llm-serving-advisor" / "engines"
        )
    )
    paths = {(cache / "run" / f"{name}.isa") for name in ENGINES}
    found = {p.read_text().strip() for p in paths if p.exists()}
    return "/".join(sorted(found)) or "unknown"


def what_holds(rows: dict, isa: str) -> str:
    """Says plainly what this CPU showed: vLLM's throughput lead under load, or only its TTFT."""
    levels = {
        name: {lvl.concurrency: lvl for lvl in row.levels.all()} for name, row in rows.items()
    }
    users = sorted(set(levels["llamacpp"]) & set(levels["vllm"]))
    one, peak = users[0], users[-1]
    llama, vllm = levels["llamacpp"], levels["vllm"]
    ratio = vllm[peak].output_token_throughput / max(llama[peak].output_token_throughput, 1e-9)
    grow = {
        name: lv[peak].metrics["ttft_ms"]["p50"] / max(lv[one].metrics["ttft_ms"]["p50"], 1e-9)
        for name, lv in (("llama.cpp", llama), ("vLLM", vllm))
    }
    ttft = (
        f"TTFT p50 from {one} to {peak} users: llama.cpp's grew {grow['llama.cpp']:.1f}x (each "
        f"request queues behind whole answers), vLLM's {grow['vLLM']:.1f}x."
    )
    sooner = vllm[peak].metrics["ttft_ms"]["p50"] < 0.5 * llama[peak].metrics["ttft_ms"]["p50"]
    if ratio >= 1.5:
        lead = (
            f"On this CPU ({isa} code path) vLLM's batching shows in throughput: "
            f"{ratio:.1f}x llama.cpp's tokens/s at {peak} users."
        )
    else:
        lead = (
            f"On this CPU ({isa} code path) vLLM's batching does NOT show in throughput: "
            f"{ratio:.1f}x llama.cpp's tokens/s at {peak} users (docs/engines.md, 'Which CPUs')."
        )
        if sooner:
            lead += " What holds is the queueing: vLLM's first tokens still come much sooner."
        else:
            lead += (
                " Nor does its TTFT: each vLLM step is as slow as a whole queue here"
                " (on AVX2, run vLLM in float32: ADVISOR_VLLM_DTYPE)."
            )
    return f"{lead}\n{ttft}"


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from advisor.services.assessments import recommendation_create

    args = parse_args(argv)
    rows = {name: sweep(name, url, args) for name, url in ENGINES.items()}
    print()
    print(comparison(rows))
    print()
    print(what_holds(rows, code_path()))
    peak = max(int(c) for c in args.concurrency.split(","))
    recommendation = recommendation_create(
        answers={
            "peak_concurrent_users": peak,
            "model": CATALOG_MODEL,
            "gpu_count": 0,
            "platform": "linux",
            "avg_prompt_tokens": args.prompt_tokens,
            "avg_output_tokens": args.max_tokens,
        },
        load_tests=list(rows.values()),
        title=f"Demo: {peak} users, llama.cpp vs vLLM on this CPU",
    )
    assessment = recommendation.assessment
    result = recommendation.result
    print(f"\nThe advisor says: {result['summary']}")
    ids = "&".join(f"id={row.pk}" for row in rows.values())
    print("\nOpen these once `make run` serves the app:")
    print(f"  the recommendation:  {APP_URL}/assessments/{assessment.pk}/")
    print(f"  the measured curves: {APP_URL}/loadtests/compare/?{ids}&assessment={assessment.pk}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
