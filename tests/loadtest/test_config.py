"""Config parsing: form/JSON input to a validated config, or an error naming the field."""

import pytest

from advisor.errors import AdvisorError
from advisor.loadtest import ApiKind, LoadShape, LoadTestConfig
from advisor.loadtest.config import levels_around


def test_it_parses_form_strings():
    config = LoadTestConfig.parse(
        {
            "base_url": "http://127.0.0.1:8000",
            "model": "m",
            "api": "Ollama",
            "concurrency": "8, 1,2,2",
            "requests_per_level": "10",
            "slo_ttft_ms": "500",
            "rate": "",
        }
    )
    assert config.api is ApiKind.OLLAMA
    assert config.concurrency == (1, 2, 8)
    assert config.requests_per_level == 10
    assert config.slos == {"ttft": 500.0}


def test_it_round_trips_through_as_dict_without_the_api_key():
    config = LoadTestConfig(
        base_url="http://127.0.0.1:1",
        model="m",
        api_key="secret",
        rate=2.0,
        shape=LoadShape.POISSON,
    )
    data = config.as_dict()
    assert "api_key" not in data
    assert LoadTestConfig.parse(data) == LoadTestConfig(
        base_url="http://127.0.0.1:1", model="m", rate=2.0, shape=LoadShape.POISSON
    )


def test_it_makes_a_rate_an_open_loop_run():
    config = LoadTestConfig.parse({"base_url": "http://127.0.0.1:1", "model": "m", "rate": 3})
    assert config.shape is LoadShape.POISSON


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"model": "m"}, "base_url"),
        ({"base_url": "127.0.0.1:8000", "model": "m"}, "base_url"),
        ({"base_url": "http://127.0.0.1:1"}, "model"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "concurrency": "1,x"}, "concurrency"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "concurrency": "0"}, "concurrency"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "api": "grpc"}, "api"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "max_tokens": "0"}, "max_tokens"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "max_tokens": 1.5}, "max_tokens"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "rate": "-1"}, "rate"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "slo_tpot_ms": "0"}, "slo_tpot_ms"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "shape": "slo_search"}, "slo_ttft_ms"),
        ({"base_url": "http://127.0.0.1:1", "model": "m", "colour": "red"}, "colour"),
    ],
)
def test_it_names_the_bad_field(data, field):
    with pytest.raises(AdvisorError) as caught:
        LoadTestConfig.parse(data)
    assert caught.value.field == field


def test_levels_bracket_the_peak_within_the_cap():
    assert levels_around(1) == [1, 2]
    assert levels_around(8) == [1, 2, 4, 8, 16]
    assert levels_around(40) == [1, 2, 4, 8, 16, 32, 40, 64]
    assert levels_around(200, cap=256) == [1, 2, 4, 8, 16, 32, 64, 128, 200, 256]
    assert levels_around(5000, cap=1024)[-1] == 1024
