"""POST /estimates/ with vLLM's own flags and figures from the user's servers."""

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/estimates/"
# LMCache/LMCache issue 1739 (vLLM 0.11, Qwen3-14B).
LOG = (
    "INFO 10-03 16:22:17 [gpu_worker.py:298] Available KV cache memory: 6.51 GiB\n"
    "INFO 10-03 16:22:17 [kv_cache_utils.py:864] GPU KV cache size: 42,656 tokens\n"
)


def test_it_replaces_the_budget_with_a_pasted_start_up_log(api):
    body = {"model": "qwen3-14b", "gpu": "h100", "max_model_len": 32768, "vllm_log": LOG}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200, response.json()
    vllm = response.json()["vllm"]
    assert vllm["kv_budget_source"] == "measured" and vllm["kv_cache_tokens"] == 42656
    assert vllm["kv_budget_error_pct"] is not None


def test_it_takes_vllms_flags(api):
    body = {
        "model": "llama-3.1-70b",
        "gpu": "h100",
        "gpu_count": 8,
        "tensor_parallel_size": 4,
        "data_parallel_size": 2,
        "max_num_seqs": 128,
        "max_num_batched_tokens": 4096,
        "vllm_version": "0.11.0",
    }
    reply = api.post(URL, body, format="json").json()
    vllm = reply["vllm"]
    assert vllm["tensor_parallel_size"] == 4 and reply["plan"]["vllm"]["data_parallel_size"] == 2
    assert vllm["max_num_batched_tokens"] == 4096 and vllm["vllm_version"] == "0.11.0"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"vllm_log": "nothing to see"}, "vllm_log"),
        ({"vllm_metrics": "vllm:num_requests_running 0"}, "vllm_metrics"),
        ({"ollama_ps": "{}"}, "ollama_ps"),
        ({"tensor_parallel_size": 3, "gpu_count": 8}, "tensor_parallel_size"),
        ({"vllm_version": "next"}, "vllm_version"),
    ],
)
def test_it_names_the_bad_field(api, extra, field):
    response = api.post(URL, {"model": "llama-3.1-70b", "gpu": "h100", **extra}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
