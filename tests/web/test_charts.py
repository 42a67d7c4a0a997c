"""Chart data: measured levels and the capacity model's prediction per metric."""

from __future__ import annotations

from advisor.views.charts import (
    Run,
    chart_specs,
    targets_from_answers,
    targets_from_config,
    users_within,
)

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


def test_it_draws_latency_on_a_logarithmic_axis_and_throughput_on_a_linear_one():
    charts = {c["id"]: c for c in chart_specs([Run("vLLM measured", "vllm", LEVELS)])}
    assert charts["chart-ttft_ms"]["y_scale"] == "logarithmic"
    assert charts["chart-e2el_ms"]["y_scale"] == "logarithmic"
    assert charts["chart-output_token_throughput"]["y_scale"] == "linear"


def test_it_draws_the_users_targets_and_where_each_series_last_meets_them():
    targets = targets_from_answers({"slo_ttft_ms": 50, "slo_e2e_p95_ms": 2000, "slo_tpot_ms": 9})
    assert targets == {"ttft_ms": 50.0, "e2el_ms": 2000.0}
    capacity, ttft, e2el, throughput = chart_specs(
        [Run("vLLM measured", "vllm", LEVELS)], ESTIMATE, targets
    )
    assert ttft["target"] == {"value": 50.0, "label": "TTFT target 50 ms"}
    measured, ollama, vllm = ttft["series"]
    # 20 ms at 1 user meets 50 ms, 80 ms at 4 users does not.
    assert measured["users_within_target"] == 1
    assert ollama["users_within_target"] == 1
    assert e2el["series"][0]["users_within_target"] == 4
    assert throughput["target"] is None
    assert "users_within_target" not in throughput["series"][0]
    # The bar chart: the lower of the two bounds per run; predictions without E2E are left out.
    assert capacity["kind"] == "bar"
    assert [(b["label"], b["users"], b["source"]) for b in capacity["bars"]] == [
        ("vLLM measured", 1, "measured")
    ]


def test_it_reads_a_load_tests_own_targets():
    assert targets_from_config({"slo_ttft_ms": 200, "slo_e2e_ms": 5000}) == {
        "ttft_ms": 200.0,
        "e2el_ms": 5000.0,
    }
    assert targets_from_config({"slo_ttft_ms": None, "slo_e2e_ms": True}) == {}


def test_it_counts_users_only_up_to_the_first_level_that_misses():
    assert users_within([[1, 10.0], [2, 60.0], [4, 40.0]], 50) == 1
    assert users_within([[1, 60.0]], 50) is None
    assert users_within([[1, 10.0], [8, 50.0]], 50) == 8


def test_it_leaves_out_the_capacity_chart_without_targets():
    charts = chart_specs([Run("vLLM measured", "vllm", LEVELS)], ESTIMATE, {})
    assert all(chart["kind"] == "line" for chart in charts)
