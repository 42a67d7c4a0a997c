"""Chart data: measured levels and the capacity model's prediction per metric."""

from __future__ import annotations

from advisor.views.charts import Run, chart_specs

LEVELS = [
    {
        "concurrency": 4,
        "ttft_ms": {"p95": 80.0},
        "e2el_ms": {"p95": 900.0},
        "output_token_throughput": 400.0,
    },
    {
        "concurrency": 1,
        "ttft_ms": {"p95": 20.0},
        "e2el_ms": {"p95": 300.0},
        "output_token_throughput": 100.0,
    },
]
ESTIMATE = {
    "performance": [
        {"server": "ollama", "source": "model", "concurrency": 1, "ttft_ms": {"p95": 30.0}},
        {"server": "vllm", "source": "model", "concurrency": 1, "ttft_ms": {"p95": 25.0}},
        {"server": "vllm", "source": "measured", "concurrency": 1, "ttft_ms": {"p95": 1.0}},
    ]
}


def test_it_makes_one_chart_per_metric_with_points_sorted_by_concurrency():
    charts = chart_specs([Run("vLLM measured", "vllm", LEVELS)])
    assert [c["id"] for c in charts] == [
        "chart-ttft_ms",
        "chart-e2el_ms",
        "chart-output_token_throughput",
    ]
    assert charts[0]["series"][0]["points"] == [[1, 20.0], [4, 80.0]]
    assert charts[2]["series"][0]["points"] == [[1, 100.0], [4, 400.0]]


def test_it_adds_the_prediction_per_server_marked_as_the_model():
    ttft = chart_specs([Run("vLLM measured", "vllm", LEVELS)], ESTIMATE)[0]
    labels = [(s["label"], s["source"]) for s in ttft["series"]]
    assert labels == [
        ("vLLM measured", "measured"),
        ("Ollama predicted", "model"),
        ("vLLM predicted", "model"),
    ]


def test_it_drops_metrics_and_levels_without_numbers():
    charts = chart_specs(
        [Run("x", "vllm", [{"concurrency": 2, "ttft_ms": {"p95": None}}, {"concurrency": None}])]
    )
    assert charts == []
