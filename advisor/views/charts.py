"""Chart data for the load-test and recommendation pages: measured levels beside the prediction.

Pure presentation (no Django imports): it only reshapes stored JSON into the series that
``static/js/advisor.js`` draws with Chart.js, one chart per metric, concurrency on the x axis.
Every number shown in a chart is also in a table on the same page (the no-JavaScript view).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SOURCE_MEASURED = "measured"
SOURCE_MODEL = "model"  # the capacity model's prediction (docs/CONTRACTS.md: "source": "model")


@dataclass(frozen=True)
class Metric:
    key: str  # the load test's metric name (docs/CONTRACTS.md)
    title: str
    unit: str
    stat: str | None  # which statistic of a {mean, p50, ...} dict; None for a plain number


METRICS: tuple[Metric, ...] = (
    Metric("ttft_ms", "p95 time to first token vs concurrency", "ms", "p95"),
    Metric("e2el_ms", "p95 end-to-end latency vs concurrency", "ms", "p95"),
    Metric("output_token_throughput", "Output tokens/s vs concurrency", "tokens/s", None),
)
SERVER_NAMES = {
    "vllm": "vLLM",
    "ollama": "Ollama",
    "llamacpp": "llama.cpp",
    "openai": "OpenAI-compatible",
}


def metric_value(level: Mapping, metric: Metric) -> float | None:
    """One metric of one level: the statistic of a stats dict, or a plain number; None if absent."""
    value = level.get(metric.key)
    if isinstance(value, Mapping):
        value = value.get(metric.stat or "mean")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def server_name(kind: str | None) -> str:
    return SERVER_NAMES.get(str(kind or "").lower(), str(kind or "server"))


@dataclass(frozen=True)
class Run:
    """Measured levels of one load test: ``server`` is its backend kind, ``levels`` level dicts."""

    label: str
    server: str
    levels: list[Mapping]


def _points(levels: Iterable[Mapping], metric: Metric) -> list[list[float]]:
    points = []
    for level in levels:
        x = level.get("concurrency")
        y = metric_value(level, metric)
        if isinstance(x, int | float) and x > 0 and y is not None:
            points.append([x, round(y, 3)])
    return sorted(points)


def prediction_runs(estimate: Mapping | None) -> list[Run]:
    """The capacity estimate's ``performance`` rows grouped per server (source "model")."""
    rows = (estimate or {}).get("performance") or []
    by_server: dict[str, list[Mapping]] = {}
    for row in rows:
        if not isinstance(row, Mapping) or row.get("source", SOURCE_MODEL) != SOURCE_MODEL:
            continue
        if row.get("fits") is False:
            continue
        server = str(row.get("server") or "")
        by_server.setdefault(server, []).append(row)
    return [
        Run(f"{server_name(server)} predicted", server, levels)
        for server, levels in sorted(by_server.items())
    ]


def chart_specs(measured: Iterable[Run], estimate: Mapping | None = None) -> list[dict]:
    """One chart spec per metric: ``{id, data_id, title, x_label, y_label, series: [...]}``.

    Each series is ``{label, server, source, points: [[concurrency, value], ...]}``; empty series
    are dropped, and a chart with no series at all is left out.
    """
    runs = [(run, SOURCE_MEASURED) for run in measured]
    runs += [(run, SOURCE_MODEL) for run in prediction_runs(estimate)]
    charts = []
    for metric in METRICS:
        series = []
        for run, source in runs:
            points = _points(run.levels, metric)
            if points:
                series.append(
                    {"label": run.label, "server": run.server, "source": source, "points": points}
                )
        if series:
            charts.append(
                {
                    "id": f"chart-{metric.key}",
                    "data_id": f"chart-{metric.key}-data",
                    "title": metric.title,
                    "x_label": "Concurrent requests",
                    "y_label": metric.unit,
                    "series": series,
                }
            )
    return charts
