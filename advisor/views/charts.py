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
    # The questionnaire answer and the load-test setting that set this metric's p95 target.
    target_answer: str | None = None
    target_setting: str | None = None
    target_label: str = ""

    @property
    def is_latency(self) -> bool:
        """Latencies span milliseconds to minutes across servers: they get a logarithmic axis."""
        return self.unit == "ms"


METRICS: tuple[Metric, ...] = (
    Metric(
        "ttft_ms",
        "p95 time to first token vs concurrency",
        "ms",
        "p95",
        target_answer="slo_ttft_ms",
        target_setting="slo_ttft_ms",
        target_label="TTFT target",
    ),
    Metric(
        "e2el_ms",
        "p95 end-to-end latency vs concurrency",
        "ms",
        "p95",
        target_answer="slo_e2e_p95_ms",
        target_setting="slo_e2e_ms",
        target_label="End-to-end target",
    ),
    Metric("output_token_throughput", "Output tokens/s vs concurrency", "tokens/s", None),
)
CAPACITY_CHART_ID = "chart-users-at-target"
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


def _targets(values: Mapping, names: Iterable[tuple[str, str | None]]) -> dict[str, float]:
    targets = {}
    for key, name in names:
        value = values.get(name) if name else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            targets[key] = float(value)
    return targets


def targets_from_answers(answers: Mapping | None) -> dict[str, float]:
    """The latency targets a questionnaire set, keyed by the metric they bound (``ttft_ms``...)."""
    return _targets(answers or {}, ((m.key, m.target_answer) for m in METRICS))


def targets_from_config(config: Mapping | None) -> dict[str, float]:
    """The latency targets a load test ran against (its ``slo_*`` settings), keyed by metric."""
    return _targets(config or {}, ((m.key, m.target_setting) for m in METRICS))


def users_within(points: list[list[float]], target: float) -> float | None:
    """The highest concurrency of ``points`` (sorted by concurrency) whose value meets ``target``,
    counting only up to the first level that misses it; None when even the first level misses."""
    held = None
    for concurrency, value in points:
        if value > target:
            break
        held = concurrency
    return held


def _series(run: Run, source: str, points: list[list[float]], target: float | None) -> dict:
    series = {"label": run.label, "server": run.server, "source": source, "points": points}
    if target is not None:
        series["users_within_target"] = users_within(points, target)
    return series


def _capacity_chart(
    runs: list[tuple[Run, str]],
    points: list[dict[str, list[list[float]]]],
    targets: Mapping[str, float],
) -> dict | None:
    """ "How many users each server holds at your targets": per run, the highest concurrency whose
    p95 meets every target given, from the same points the latency charts draw (``points[i]`` is
    run i's points by metric key)."""
    bounded = [metric for metric in METRICS if metric.key in targets]
    if not bounded:
        return None
    bars = []
    for (run, source), run_points in zip(runs, points, strict=True):
        held: list[float] = []
        for metric in bounded:
            metric_points = run_points[metric.key]
            if not metric_points:
                break
            held.append(users_within(metric_points, targets[metric.key]) or 0)
        else:
            bars.append(
                {
                    "label": run.label,
                    "server": run.server,
                    "source": source,
                    "users": min(held),
                    "tested_up_to": max(level.get("concurrency") or 0 for level in run.levels),
                }
            )
    if not bars:
        return None
    names = " and ".join(
        f"{metric.target_label} {targets[metric.key]:,.0f} ms" for metric in bounded
    )
    return {
        "id": CAPACITY_CHART_ID,
        "data_id": f"{CAPACITY_CHART_ID}-data",
        "kind": "bar",
        "title": "Users each server holds at your targets",
        "subtitle": f"{names}, p95",
        "x_label": "",
        "y_label": "Concurrent users within target",
        "bars": bars,
        "series": [],
    }


def chart_specs(
    measured: Iterable[Run],
    estimate: Mapping | None = None,
    targets: Mapping[str, float] | None = None,
) -> list[dict]:
    """One chart spec per metric: ``{id, data_id, kind, title, x_label, y_label, y_scale, target,
    series: [...]}``, after the users-at-target bar chart when ``targets`` bound a latency.

    Each series is ``{label, server, source, points: [[concurrency, value], ...]}`` (plus
    ``users_within_target`` on a chart with a target); empty series are dropped, and a chart with
    no series at all is left out. Latency charts use a logarithmic y axis; ``target`` is
    ``{value, label}`` or None.
    """
    targets = targets or {}
    runs = [(run, SOURCE_MEASURED) for run in measured]
    runs += [(run, SOURCE_MODEL) for run in prediction_runs(estimate)]
    points = [{metric.key: _points(run.levels, metric) for metric in METRICS} for run, _ in runs]
    charts = []
    for metric in METRICS:
        target = targets.get(metric.key)
        series = [
            _series(run, source, run_points[metric.key], target)
            for (run, source), run_points in zip(runs, points, strict=True)
            if run_points[metric.key]
        ]
        if series:
            charts.append(
                {
                    "id": f"chart-{metric.key}",
                    "data_id": f"chart-{metric.key}-data",
                    "kind": "line",
                    "title": metric.title,
                    "x_label": "Concurrent requests",
                    "y_label": metric.unit,
                    "y_scale": "logarithmic" if metric.is_latency else "linear",
                    "target": (
                        {"value": target, "label": f"{metric.target_label} {target:,.0f} ms"}
                        if target is not None
                        else None
                    ),
                    "series": series,
                }
            )
    # The chart people look for first: how many users each server holds at the targets.
    capacity = _capacity_chart(runs, points, targets)
    return [capacity, *charts] if capacity else charts
