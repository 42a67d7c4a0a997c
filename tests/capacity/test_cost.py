"""Dollars per million output tokens."""

import pytest

from advisor.capacity.cost import cost_summary, usd_per_million_tokens
from advisor.capacity.estimate import EstimateRequest, estimate


def test_it_prices_a_million_tokens_from_an_hourly_rate():
    """$2.99/h at 1,000 tok/s = 3.6M tokens/h -> $0.8306 per million."""
    assert usd_per_million_tokens(2.99, 1000) == pytest.approx(0.8306, abs=1e-4)
    assert usd_per_million_tokens(2.99, 0) is None


def test_it_summarises_each_server_at_its_best_level():
    levels = [
        {"server": "vllm", "concurrency": 1, "output_token_throughput": 100.0},
        {"server": "vllm", "concurrency": 8, "output_token_throughput": 800.0},
        {"server": "ollama", "concurrency": 1, "output_token_throughput": 50.0},
    ]
    summary = cost_summary(1.0, levels, price_source="test")
    assert summary["servers"]["vllm"]["best"]["concurrency"] == 8
    assert summary["servers"]["vllm"]["usd_per_million_output_tokens"] == pytest.approx(
        1e6 / (800 * 3600), abs=1e-4
    )
    assert summary["servers"]["ollama"]["usd_per_million_output_tokens"] == pytest.approx(
        5.5556, abs=1e-4
    )


def test_it_multiplies_the_gpu_price_by_the_count_and_honours_an_override():
    base = {"model": "llama-3.1-70b", "gpu": "h100", "gpu_count": 4, "concurrency": (8,)}
    catalog = estimate(EstimateRequest(**base)).as_dict()["cost"]
    assert catalog["hourly_usd"] == pytest.approx(4 * 2.99)
    custom = estimate(EstimateRequest(**base, gpu_hourly_cost_usd=1.5)).as_dict()["cost"]
    assert custom["hourly_usd"] == pytest.approx(6.0) and custom["price_source"] == "user"


def test_it_prices_a_cpu_only_host():
    cost = estimate(EstimateRequest(model="llama-3.2-1b", gpu_count=0, concurrency=(1,))).as_dict()[
        "cost"
    ]
    assert cost["hourly_usd"] == pytest.approx(0.40)
    assert cost["servers"]["ollama"]["usd_per_million_output_tokens"] > 0
