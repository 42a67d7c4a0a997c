"""Per-level statistics, computed exactly as ``vllm bench serve``'s ``calculate_metrics`` does.

Source: vllm/benchmarks/serve.py. Failed requests are left out of every latency figure and counted
by kind. TPOT per request = (E2EL - TTFT) / (output_tokens - 1), only when output_tokens > 1. ITL
pools every gap of every request. Percentiles interpolate linearly (numpy's default). Goodput =
successful requests meeting every given SLO (a TPOT of 0 for 1-token answers, as vLLM), per second.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from advisor.loadtest.client import RequestOutcome, TokensSource

PERCENTILES = (50, 90, 95, 99)
MS = 1000.0


@dataclass(frozen=True)
class Stats:
    """mean, p50, p90, p95, p99 in milliseconds; all zero when there were no samples."""

    mean: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    p95: float = 0.0
    p99: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def percentile(sorted_values: list[float], pct: float) -> float:
    """numpy.percentile's default (linear) on an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = (len(sorted_values) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def stats_ms(values_s: list[float]) -> Stats:
    if not values_s:
        return Stats()
    ordered = sorted(values_s)
    mean = math.fsum(ordered) / len(ordered)
    p50, p90, p95, p99 = (percentile(ordered, p) * MS for p in PERCENTILES)
    return Stats(mean * MS, p50, p90, p95, p99)


@dataclass(frozen=True)
class LevelResult:
    """One level of a run. ``concurrency`` is None for an open-loop (rate) level."""

    concurrency: int | None
    request_rate: float | None
    requests: int
    succeeded: int
    failed: int
    errors: dict[str, int]
    duration_s: float
    request_throughput: float
    output_token_throughput: float
    total_output_tokens: int
    total_input_tokens: int
    ttft_ms: Stats
    itl_ms: Stats
    tpot_ms: Stats
    e2el_ms: Stats
    goodput: float | None  # good requests per second; None without SLOs
    good_requests: int | None
    tokens_source: str  # usage | counted | mixed
    error_samples: list[str] = field(default_factory=list)
    server: dict[str, float | bool] = field(
        default_factory=dict
    )  # server-side signals sampled during the level
    partial: bool = False  # cut off by a cancel or the time budget before all requests finished
    # The raw requests (for the vllm-bench-serve export); never stored in the database.
    outcomes: tuple[RequestOutcome, ...] = field(default=(), repr=False, compare=False)

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.requests if self.requests else 0.0

    @property
    def slo_attainment(self) -> float | None:
        """Share of all requests (failed ones count as misses) that met every SLO."""
        if self.good_requests is None or not self.requests:
            return None
        return self.good_requests / self.requests

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "concurrency": self.concurrency,
            "request_rate": self.request_rate,
            "requests": self.requests,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "errors": dict(self.errors),
            "duration_s": self.duration_s,
            "request_throughput": self.request_throughput,
            "output_token_throughput": self.output_token_throughput,
            "total_output_tokens": self.total_output_tokens,
            "total_input_tokens": self.total_input_tokens,
            "success_rate": self.success_rate,
            "goodput": self.goodput,
            "good_requests": self.good_requests,
            "slo_attainment": self.slo_attainment,
            "tokens_source": self.tokens_source,
            "error_samples": list(self.error_samples),
            "server": dict(self.server),
            "partial": self.partial,
        }
        for name in ("ttft_ms", "itl_ms", "tpot_ms", "e2el_ms"):
            data[name] = getattr(self, name).as_dict()
        return data


MAX_ERROR_SAMPLES = 5


def summarize(
    outcomes: list[RequestOutcome],
    *,
    duration_s: float,
    slos: dict[str, float],
    concurrency: int | None = None,
    request_rate: float | None = None,
    server: dict[str, float | bool] | None = None,
    partial: bool = False,
) -> LevelResult:
    """Statistics for one level from its finished requests (``slos`` in ms, vLLM key names)."""
    ok = [o for o in outcomes if o.success]
    failed = [o for o in outcomes if not o.success]
    ttfts = [o.ttft for o in ok]
    e2els = [o.latency for o in ok]
    itls = [gap for o in ok for gap in o.itl]
    tpots: list[float] = []
    all_tpots: list[float] = []
    for o in ok:
        tpot = 0.0
        if o.output_tokens > 1:
            tpot = (o.latency - o.ttft) / (o.output_tokens - 1)
            tpots.append(tpot)
        all_tpots.append(tpot)
    total_output = sum(o.output_tokens for o in ok)
    total_input = sum(o.prompt_tokens or 0 for o in ok)
    good = None
    goodput = None
    if slos:
        limits = [
            (slos[k] / MS, v)
            for k, v in (("ttft", ttfts), ("tpot", all_tpots), ("e2el", e2els))
            if k in slos
        ]
        good = sum(1 for i in range(len(ok)) if all(values[i] <= limit for limit, values in limits))
        goodput = good / duration_s if duration_s > 0 else 0.0
    sources = {o.tokens_source for o in ok}
    if len(sources) == 1:
        tokens_source = str(next(iter(sources)))
    elif sources:
        tokens_source = "mixed"
    else:
        tokens_source = str(TokensSource.COUNTED)
    errors = Counter(o.error_kind for o in failed)
    samples = []
    for o in failed:
        text = f"{o.error_kind}: {o.error}"[:300]
        if text not in samples:
            samples.append(text)
        if len(samples) >= MAX_ERROR_SAMPLES:
            break
    return LevelResult(
        concurrency=concurrency,
        request_rate=request_rate,
        requests=len(outcomes),
        succeeded=len(ok),
        failed=len(failed),
        errors=dict(sorted(errors.items())),
        duration_s=duration_s,
        request_throughput=len(ok) / duration_s if duration_s > 0 else 0.0,
        output_token_throughput=total_output / duration_s if duration_s > 0 else 0.0,
        total_output_tokens=total_output,
        total_input_tokens=total_input,
        ttft_ms=stats_ms(ttfts),
        itl_ms=stats_ms(itls),
        tpot_ms=stats_ms(tpots),
        e2el_ms=stats_ms(e2els),
        goodput=goodput,
        good_requests=good,
        tokens_source=tokens_source,
        error_samples=samples,
        server=dict(server or {}),
        partial=partial,
        outcomes=tuple(outcomes),
    )
