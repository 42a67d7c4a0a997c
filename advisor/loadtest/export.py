"""Results as ``vllm bench serve --save-result`` writes them, and as a plain-text table.

The vLLM file holds one run; ours has levels, so ``vllm_bench_json`` returns one dict per level
with vLLM's keys (``mean_ttft_ms``, ``p99_itl_ms``, ``ttfts``, ``itls`` ...). Source of the key
names: vllm/benchmarks/serve.py (``result_json`` in ``benchmark``/``main``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from advisor.loadtest.metrics import LevelResult, Stats
from advisor.loadtest.result import LoadTestResult

_METRICS = (("ttft", "ttft_ms"), ("tpot", "tpot_ms"), ("itl", "itl_ms"), ("e2el", "e2el_ms"))


def _std_ms(values: list[float]) -> float:
    if not values:
        return 0.0
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values)) * 1000.0


def vllm_bench_level(result: LoadTestResult, level: LevelResult) -> dict[str, Any]:
    """One level in ``vllm bench serve``'s saved-result format."""
    outcomes = list(level.outcomes)
    ok = [o for o in outcomes if o.success]
    raw = {
        "ttft": [o.ttft for o in ok],
        "e2el": [o.latency for o in ok],
        "itl": [g for o in ok for g in o.itl],
        "tpot": [(o.latency - o.ttft) / (o.output_tokens - 1) for o in ok if o.output_tokens > 1],
    }
    data = {
        "date": datetime.fromtimestamp(result.started_at, UTC).strftime("%Y%m%d-%H%M%S"),
        "endpoint_type": result.target.api,
        "backend": str(result.target.kind),
        "label": None,
        "model_id": result.model,
        "tokenizer_id": None,
        "num_prompts": level.requests,
        "request_rate": level.request_rate if level.request_rate is not None else "inf",
        "burstiness": 1.0,
        "max_concurrency": level.concurrency,
        "duration": level.duration_s,
        "completed": level.succeeded,
        "failed": level.failed,
        "total_input_tokens": level.total_input_tokens,
        "total_output_tokens": level.total_output_tokens,
        "request_throughput": level.request_throughput,
        "request_goodput": level.goodput,
        "output_throughput": level.output_token_throughput,
        "total_token_throughput": (level.total_input_tokens + level.total_output_tokens)
        / level.duration_s
        if level.duration_s
        else 0.0,
        "input_lens": [o.prompt_tokens or 0 for o in outcomes],
        "output_lens": [o.output_tokens if o.success else 0 for o in outcomes],
        "ttfts": [o.ttft for o in outcomes],
        "itls": [list(o.itl) for o in outcomes],
        "latencies": [o.latency for o in outcomes],
        "start_times": [o.start for o in outcomes],
        "errors": [o.error for o in outcomes],
        "output_tokens_source": level.tokens_source,
    }
    for name, attr in _METRICS:
        stats: Stats = getattr(level, attr)
        data[f"mean_{name}_ms"] = stats.mean
        data[f"median_{name}_ms"] = stats.p50
        data[f"std_{name}_ms"] = _std_ms(raw[name])
        for pct in (50, 90, 95, 99):
            data[f"p{pct}_{name}_ms"] = getattr(stats, f"p{pct}")
    return data


def vllm_bench_json(result: LoadTestResult) -> list[dict[str, Any]]:
    return [vllm_bench_level(result, level) for level in result.levels]


def vllm_bench_summary(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """From a stored ``LoadTestResult.as_dict()`` (a row's ``result``): vLLM's summary keys per
    level. Rows keep no per-request samples, so ``ttfts``/``itls``/``std_*`` are left out."""
    target = stored.get("target") or {}
    rows = []
    for level in stored.get("levels") or []:
        rate = level.get("request_rate")
        data = {
            "date": datetime.fromtimestamp(stored.get("started_at") or 0, UTC).strftime(
                "%Y%m%d-%H%M%S"
            ),
            "endpoint_type": target.get("api"),
            "backend": target.get("kind"),
            "model_id": target.get("model"),
            "num_prompts": level.get("requests"),
            "request_rate": rate if rate is not None else "inf",
            "burstiness": 1.0,
            "max_concurrency": level.get("concurrency"),
            "duration": level.get("duration_s"),
            "completed": level.get("succeeded"),
            "failed": level.get("failed"),
            "total_input_tokens": level.get("total_input_tokens"),
            "total_output_tokens": level.get("total_output_tokens"),
            "request_throughput": level.get("request_throughput"),
            "request_goodput": level.get("goodput"),
            "output_throughput": level.get("output_token_throughput"),
            "output_tokens_source": level.get("tokens_source"),
        }
        for name, attr in _METRICS:
            stats = level.get(attr) or {}
            data[f"mean_{name}_ms"] = stats.get("mean")
            data[f"median_{name}_ms"] = stats.get("p50")
            for pct in (50, 90, 95, 99):
                data[f"p{pct}_{name}_ms"] = stats.get(f"p{pct}")
        rows.append(data)
    return rows


def format_table(result: LoadTestResult) -> str:
    """A fixed-width table of the levels, for terminals."""
    head = (
        f"{'level':>8} {'ok/req':>9} {'req/s':>7} {'tok/s':>9} {'TTFT p50':>9} {'TTFT p95':>9} "
        f"{'TPOT p50':>9} {'ITL p95':>8} {'E2E p95':>9} {'goodput':>8}  errors"
    )
    lines = [head, "-" * len(head)]
    for level in result.levels:
        name = f"c={level.concurrency}" if level.concurrency else f"{level.request_rate:g}/s"
        errors = ", ".join(f"{k}={v}" for k, v in level.errors.items()) or "-"
        goodput = "-" if level.goodput is None else f"{level.goodput:.2f}"
        lines.append(
            f"{name:>8} {level.succeeded:>4}/{level.requests:<4} {level.request_throughput:>7.2f} "
            f"{level.output_token_throughput:>9.1f} {level.ttft_ms.p50:>9.1f} "
            f"{level.ttft_ms.p95:>9.1f} {level.tpot_ms.p50:>9.2f} {level.itl_ms.p95:>8.2f} "
            f"{level.e2el_ms.p95:>9.1f} {goodput:>8}  {errors}"
        )
    lines.append("")
    lines.append(f"target: {result.target.kind} {result.target.base_url} model {result.model}")
    lines.append(f"stopped: {result.stopped_reason}")
    if result.max_concurrency_meeting_slos is not None:
        lines.append(f"highest concurrency meeting the SLOs: {result.max_concurrency_meeting_slos}")
    sources = {level.tokens_source for level in result.levels}
    if sources - {"usage"}:
        lines.append("note: some output tokens were counted as chunks (the server sent no usage)")
    return "\n".join(lines)
