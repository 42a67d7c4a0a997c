"""Dollars per million output tokens: one price for the hardware, both servers at one load."""

import pytest

from advisor.capacity.cost import (
    CostBasis,
    cost_at_load,
    hourly_price,
    usd_per_million_tokens,
    usd_text,
)
from advisor.capacity.estimate import EstimateRequest, estimate
from probes.kinds import Backend

H100 = {"gpu_name": "NVIDIA H100", "catalog_gpu_usd": 2.99, "catalog_source": "catalog"}


def test_it_prices_a_million_tokens_from_an_hourly_rate():
    """$2.99/h at 1,000 tok/s = 3.6M tokens/h -> $0.8306 per million."""
    assert usd_per_million_tokens(2.99, 1000) == pytest.approx(0.8306, abs=1e-4)
    assert usd_per_million_tokens(2.99, 0) is None


def test_it_labels_the_hour_of_all_the_gpus_with_their_count():
    price = hourly_price(gpu_count=4, **H100)
    assert price is not None and price.usd == pytest.approx(4 * 2.99)
    assert price.label == "$11.96/h for 4x NVIDIA H100"
    assert "per GPU-hour" not in price.label
    assert price.detail.startswith("4 x $2.99/GPU-hour")


def test_it_prefers_the_users_price_and_prices_a_cpu_host():
    user = hourly_price(gpu_count=2, user_gpu_usd=1.5, **H100)
    assert user is not None and user.usd == pytest.approx(3.0) and user.source == "user"
    host = hourly_price(gpu_name=None, gpu_count=0, catalog_gpu_usd=None, catalog_source="")
    assert host is not None and host.usd == pytest.approx(0.40) and host.gpu_count == 0
    assert host.label == "$0.40/h for a CPU-only host"


def test_it_prices_both_servers_at_the_same_load_on_the_same_hardware():
    price = hourly_price(gpu_count=1, **H100)
    assert price is not None
    cost = cost_at_load(price, 8, predicted={Backend.VLLM: 800.0, Backend.OLLAMA: 50.0})
    assert cost.concurrency == 8 and cost.basis is CostBasis.PREDICTED
    assert cost.usd(Backend.VLLM) == usd_per_million_tokens(2.99, 800.0)
    assert cost.usd(Backend.OLLAMA) == usd_per_million_tokens(2.99, 50.0)
    assert cost.text(Backend.OLLAMA) == "$16.61 (predicted)"  # $2.99/h at 50 tok/s


def test_it_uses_measurements_only_when_every_server_was_measured_at_that_load():
    price = hourly_price(gpu_count=1, **H100)
    assert price is not None
    predicted = {Backend.VLLM: 800.0, Backend.OLLAMA: 50.0}
    half = cost_at_load(price, 8, predicted=predicted, measured={Backend.OLLAMA: 40.0})
    assert half.basis is CostBasis.PREDICTED
    assert half.usd(Backend.OLLAMA) == usd_per_million_tokens(2.99, 50.0)
    both = cost_at_load(
        price, 8, predicted=predicted, measured={Backend.OLLAMA: 40.0, Backend.VLLM: 700.0}
    )
    assert both.basis is CostBasis.MEASURED
    assert both.usd(Backend.OLLAMA) == usd_per_million_tokens(2.99, 40.0)


def test_it_says_why_a_server_has_no_figure_at_the_load_instead_of_picking_another():
    price = hourly_price(gpu_count=1, **H100)
    assert price is not None
    cost = cost_at_load(price, 200, predicted={Backend.OLLAMA: 50.0})
    assert cost.usd(Backend.VLLM) is None
    assert cost.text(Backend.VLLM) == "no predicted throughput at 200 concurrent users"


def test_it_gives_a_server_that_cannot_run_here_no_cost_only_the_reason():
    price = hourly_price(gpu_count=0, gpu_name=None, catalog_gpu_usd=None, catalog_source="")
    assert price is not None
    cost = cost_at_load(
        price,
        1,
        predicted={Backend.VLLM: 30.0, Backend.OLLAMA: 20.0},
        not_viable={Backend.VLLM: "not available without a GPU"},
    )
    assert [s.backend for s in cost.servers] == [Backend.OLLAMA]
    assert cost.usd(Backend.VLLM) is None
    assert cost.text(Backend.VLLM) == "not available without a GPU"
    assert cost.as_dict()["not_viable"] == [
        {"server": "vllm", "reason": "not available without a GPU"}
    ]


def test_it_shows_a_fraction_of_a_cent_rather_than_zero():
    assert usd_text(0.19) == "$0.19" and usd_text(0.0042) == "$0.0042" and usd_text(0) == "$0.00"


def test_the_estimate_prices_every_level_for_both_servers_at_that_level():
    """Not each server at its own best level: vLLM at 64 users beside Ollama at 1 compared nothing."""
    base = {"model": "llama-3.1-70b", "gpu": "h100", "gpu_count": 4, "concurrency": (1, 8, 64)}
    cost = estimate(EstimateRequest(**base)).as_dict()["cost"]
    assert cost["price"]["usd_per_hour"] == pytest.approx(4 * 2.99)
    assert cost["price"]["label"].startswith("$11.96/h for 4x ")
    assert [level["concurrency"] for level in cost["levels"]] == [1, 8, 64]
    for level in cost["levels"]:
        assert {s["server"] for s in level["servers"]} == {"vllm", "ollama"}
    custom = estimate(EstimateRequest(**base, gpu_hourly_cost_usd=1.5)).as_dict()["cost"]
    assert custom["price"]["usd_per_hour"] == pytest.approx(6.0)
    assert custom["price"]["source"] == "user"


def test_it_prices_a_cpu_only_host():
    cost = estimate(EstimateRequest(model="llama-3.2-1b", gpu_count=0, concurrency=(1,))).as_dict()[
        "cost"
    ]
    assert cost["price"]["usd_per_hour"] == pytest.approx(0.40)
    ollama = next(s for s in cost["levels"][0]["servers"] if s["server"] == "ollama")
    assert ollama["usd_per_million_output_tokens"] > 0
