"""Statistics as vllm bench serve computes them (numpy-linear percentiles, TPOT, goodput)."""

import statistics

from hypothesis import given
from hypothesis import strategies as st

from advisor.loadtest.client import RequestOutcome, TokensSource
from advisor.loadtest.metrics import percentile, stats_ms, summarize


def ok(ttft, latency, tokens, itl=(), source=TokensSource.USAGE):
    return RequestOutcome(
        success=True,
        ttft=ttft,
        latency=latency,
        output_tokens=tokens,
        itl=list(itl),
        tokens_source=source,
    )


def failed(kind):
    return RequestOutcome(success=False, error_kind=kind, error="boom")


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=2, max_size=50))
def test_it_interpolates_percentiles_like_numpy(values):
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")  # numpy's "linear"
    for pct in (50, 90, 95, 99):
        assert abs(percentile(ordered, pct) - cuts[pct - 1]) <= 1e-6 * max(1.0, abs(cuts[pct - 1]))


def test_it_computes_tpot_per_request_and_pools_itl():
    outcomes = [
        ok(0.1, 1.1, 11, itl=[0.1] * 10),  # TPOT 100 ms
        ok(0.2, 0.7, 6, itl=[0.1] * 5),  # TPOT 100 ms
        ok(0.3, 0.3, 1),  # one token: no TPOT sample
        failed("http_500"),
        failed("timeout"),
    ]
    level = summarize(outcomes, duration_s=2.0, slos={}, concurrency=2)
    assert level.succeeded == 3 and level.failed == 2
    assert level.errors == {"http_500": 1, "timeout": 1}
    assert round(level.tpot_ms.mean, 6) == 100.0
    assert round(level.itl_ms.p50, 6) == 100.0
    assert round(level.ttft_ms.mean, 6) == 200.0
    assert level.total_output_tokens == 18
    assert level.output_token_throughput == 9.0
    assert level.request_throughput == 1.5
    assert level.goodput is None


def test_it_counts_goodput_against_every_slo():
    outcomes = [ok(0.1, 1.1, 11), ok(0.5, 1.5, 11), ok(0.1, 3.1, 11), failed("timeout")]
    level = summarize(outcomes, duration_s=2.0, slos={"ttft": 200, "tpot": 150})
    assert level.good_requests == 1
    assert level.goodput == 0.5
    assert level.slo_attainment == 0.25


def test_it_says_where_token_counts_came_from():
    level = summarize(
        [ok(0.1, 0.2, 2), ok(0.1, 0.2, 2, source=TokensSource.COUNTED)], duration_s=1, slos={}
    )
    assert level.tokens_source == "mixed"


def test_it_reports_zeros_without_successes():
    assert stats_ms([]).p99 == 0.0
    level = summarize([failed("refused")], duration_s=1.0, slos={"e2el": 100})
    assert level.success_rate == 0.0 and level.goodput == 0.0
    assert set(level.as_dict()["ttft_ms"]) == {"mean", "p50", "p90", "p95", "p99"}
