"""POST /estimates/ (the capacity model) and GET /rules/ (the rules table)."""

import pytest

from advisor.rules.table import rules_table

pytestmark = pytest.mark.django_db

URL = "/api/v1/estimates/"


def test_it_estimates_a_model_on_a_gpu(api):
    response = api.post(
        URL,
        {"model": "llama-3.1-8b", "gpu": "h100", "gpu_count": 1, "concurrency": [1, 8]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["vllm"]["fits"] is True and body["weights_bytes"] > 10**10
    assert {p["concurrency"] for p in body["performance"]} == {1, 8}


def test_it_estimates_cpu_only(api):
    body = api.post(URL, {"model": "llama-3.1-8b", "gpu_count": 0}, format="json").json()
    assert body["gpu"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gpu": "h100"}, "model"),
        ({"model": "llama-3.1-8b", "gpu": "no-such-gpu"}, "gpu"),
        ({"model": "llama-3.1-8b"}, "gpu"),  # a GPU count of 1 needs a GPU
        ({"model": "llama-3.1-8b", "gpu": "h100", "gpu_count": 65}, "gpu_count"),
        (
            {"model": "llama-3.1-8b", "gpu": "h100", "gpu_memory_utilization": 1.5},
            "gpu_memory_utilization",
        ),
        ({"model": "llama-3.1-8b", "gpu": "h100", "quantization": "q9_z"}, "quantization"),
        (
            {"model": "llama-3.1-8b", "gpu": "h100", "measured_decode_tps": {"tgi": 5}},
            "measured_decode_tps",
        ),
        ({"model": "llama-3.1-8b", "gpu": "h100", "gpus": 2}, "gpus"),
    ],
)
def test_it_names_the_bad_field(api, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()


def test_it_needs_a_token_to_estimate(anon):
    assert (
        anon.post(URL, {"model": "llama-3.1-8b", "gpu_count": 0}, format="json").status_code == 401
    )


def test_it_lists_the_rules_anonymously(anon):
    response = anon.get("/api/v1/rules/?page_size=200")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(rules_table())
    assert body["results"][0]["id"] == rules_table()[0]["id"]
    assert all(rule["source"] for rule in body["results"])


LLAMA_LIKE_CONFIG = {
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
}


def test_it_estimates_a_model_from_its_config(api):
    body = {"model": "my-finetune", "config": LLAMA_LIKE_CONFIG, "gpu": "h100"}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["kv_bytes_per_token"] == 131072  # 32 layers x 8 heads x 128 x 2 x 2 B


def test_it_names_the_config_when_it_is_unusable(api):
    response = api.post(URL, {"config": {"hidden_size": 1}, "gpu": "h100"}, format="json")
    assert response.status_code == 400 and "config" in response.json()["errors"]
