"""The whole estimate: its JSON contract, its choices and its errors."""

import json

import pytest

from advisor.capacity.catalog import resolve_gpu
from advisor.capacity.estimate import EstimateRequest, estimate
from advisor.capacity.specs import GIB
from advisor.errors import AdvisorError


def _estimate(**kwargs):
    kwargs.setdefault("concurrency", (1, 8))
    return estimate(EstimateRequest(**kwargs)).as_dict()


def test_it_returns_the_documented_json_shape():
    data = _estimate(model="llama3.1:8b", gpu="NVIDIA H100 80GB HBM3", gpu_count=1)
    json.dumps(data)  # JSON-safe
    assert {"weights_bytes", "kv_bytes_per_token", "vllm", "ollama", "performance", "cost"} <= set(
        data
    )
    assert {
        "fits",
        "tensor_parallel_size",
        "kv_cache_bytes",
        "kv_cache_tokens",
        "num_gpu_blocks",
        "max_model_len",
        "max_concurrency",
        "max_num_seqs",
    } <= set(data["vllm"])
    assert {
        "fits_in_vram",
        "num_ctx",
        "num_parallel",
        "gpu_layers",
        "total_layers",
        "memory_bytes",
    } <= set(data["ollama"])
    assert {(p["server"], p["concurrency"]) for p in data["performance"]} == {
        ("vllm", 1),
        ("vllm", 8),
        ("ollama", 1),
        ("ollama", 8),
    }
    assert all(p["source"] == "model" for p in data["performance"])


def test_it_reproduces_issue_10517_through_the_estimate():
    data = _estimate(
        model="llama-3.1-8b", gpu="h100", gpu_count=1, max_model_len=20000, kv_cache_budget_gib=3.81
    )
    assert data["kv_bytes_per_token"] == 131072
    assert data["vllm"]["num_gpu_blocks"] == 1950
    assert data["vllm"]["max_concurrency"] == 1.56


def test_it_sizes_the_requests_held_at_the_workloads_prompt_and_output():
    """Beside the worst case at max_model_len: 2 replicas of 1950 blocks hold 40 requests of
    512 + 256 tokens each."""
    request = EstimateRequest(model="llama-3.1-8b", gpu="h100", gpu_count=2, max_model_len=20000,
                              kv_cache_budget_gib=3.81, avg_prompt_tokens=512,
                              avg_output_tokens=256, concurrency=(1, 200))  # fmt: skip
    result = estimate(request)
    held = result.as_dict()["plan"]["vllm"]["requests_held"]
    assert held == {"request_tokens": 768, "kv_tokens_per_request": 768,
                    "kv_cache_tokens": 2 * 1950 * 16, "replicas": 2, "max_num_seqs": 1024,
                    "per_replica": 40.62, "slots_per_replica": 40, "held": 80,
                    "limit": "kv_cache"}  # fmt: skip
    assert result.plan.vllm.requests_held.slots_per_replica == 40


def test_it_picks_the_smallest_tp_size_that_fits():
    """Llama 3.1 70B BF16 (131.5 GiB): its full 131k context fits on 4 H100s, an 8k one on 2."""
    assert (
        _estimate(model="llama-3.1-70b", gpu="h100", gpu_count=4)["vllm"]["tensor_parallel_size"]
        == 4
    )
    short = _estimate(model="llama-3.1-70b", gpu="h100", gpu_count=4, max_model_len=8192)
    plan = short["plan"]["vllm"]
    assert short["vllm"]["tensor_parallel_size"] == plan["tensor_parallel_size"] == 2
    assert plan["data_parallel_size"] == 2 and plan["gpus_used"] == 4
    assert "--data-parallel-size" in plan["serve_args"]


def test_it_shortens_max_model_len_when_the_full_context_cannot_fit():
    data = _estimate(model="llama-3.1-8b", gpu="rtx-4090", gpu_count=1, quantization="bf16")
    assert data["vllm"]["fits"] and data["plan"]["vllm"]["max_model_len_auto"]
    assert 768 <= data["vllm"]["max_model_len"] < 131072
    assert any("--max-model-len" in note for note in data["notes"])


def test_it_keeps_an_explicit_max_model_len_and_says_it_does_not_fit():
    data = _estimate(
        model="llama-3.1-8b", gpu="rtx-4090", gpu_count=1, quantization="bf16", max_model_len=131072
    )
    assert not data["vllm"]["fits"]
    assert [p for p in data["performance"] if p["server"] == "vllm"] == []


def test_it_uses_each_servers_usual_weights_for_auto():
    data = _estimate(model="llama3.1:8b", gpu="rtx-4090", gpu_count=1)
    assert data["vllm"]["quantization"] == "bf16" and data["ollama"]["quantization"] == "Q4_K_M"
    assert data["ollama_weights_bytes"] < data["weights_bytes"] / 3


def test_it_sends_vllm_only_formats_to_vllm_and_ollama_kv_types_to_ollama():
    data = _estimate(model="qwen2.5-7b", gpu="l4", gpu_count=1, quantization="awq")
    assert data["vllm"]["quantization"] == "awq-int4" and data["ollama"]["quantization"] == "Q4_K_M"
    assert any("Ollama cannot load" in note for note in data["notes"])
    q8 = _estimate(model="qwen2.5-7b", gpu="l4", gpu_count=1, kv_cache_dtype="q8_0")
    assert q8["ollama"]["kv_cache_type"] == "q8_0" and q8["ollama"]["flash_attention"]
    fp8 = _estimate(model="qwen2.5-7b", gpu="l4", gpu_count=1, kv_cache_dtype="fp8")
    assert fp8["kv_bytes_per_token"] == 28 * 2 * 4 * 128  # 1 byte per element
    assert "--kv-cache-dtype" in fp8["plan"]["vllm"]["serve_args"]


def test_it_estimates_cpu_only_hosts():
    data = _estimate(model="llama3.2:3b", gpu_count=0, cpu_memory_gib=32)
    assert data["gpu"] is None
    assert data["ollama"]["gpu_layers"] == 0
    assert any("CPU" in note for note in data["vllm"]["notes"])
    ollama_1 = next(
        p for p in data["performance"] if p["server"] == "ollama" and p["concurrency"] == 1
    )
    assert 1 < ollama_1["output_token_throughput"] < 60


def test_it_takes_a_probed_memory_size():
    data = _estimate(model="llama3.1:8b", gpu="Apple M3 Max", gpu_count=1, gpu_memory_gib=36)
    assert data["gpu"]["memory_bytes"] == 36 * GIB
    assert not data["vllm"]["fits"]  # no Metal backend
    assert data["ollama"]["vram_bytes"] == int(36 * GIB * 0.75)


def test_it_accepts_specs_instead_of_names():
    data = _estimate(model="llama-3.2-1b", gpu=resolve_gpu("t4"), gpu_count=1)
    assert data["gpu"]["id"] == "t4"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"model": "no-such-model"}, "model"),
        ({"gpu": "no-such-gpu"}, "gpu"),
        ({"gpu": None}, "gpu"),
        ({"gpu_count": -1}, "gpu_count"),
        ({"gpu_count": "two"}, "gpu_count"),
        ({"quantization": "q3_z"}, "quantization"),
        ({"kv_cache_dtype": "fp4"}, "kv_cache_dtype"),
        ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
        ({"gpu_memory_utilization": 0}, "gpu_memory_utilization"),
        ({"max_model_len": 3}, "max_model_len"),
        ({"kv_cache_budget_gib": -2}, "kv_cache_budget_gib"),
        ({"kv_cache_budget_gib": 0}, "kv_cache_budget_gib"),
        ({"gpu_memory_gib": 0}, "gpu_memory_gib"),
        ({"num_parallel": 0}, "num_parallel"),
        ({"concurrency": "1,x"}, "concurrency"),
        ({"concurrency": []}, "concurrency"),
        ({"avg_prompt_tokens": 0}, "avg_prompt_tokens"),
        ({"gpu_hourly_cost_usd": "cheap"}, "gpu_hourly_cost_usd"),
        ({"measured_decode_tps": {"tgi": 50}}, "measured_decode_tps"),
    ],
)
def test_it_names_the_field_at_fault(changes, field):
    request = {"model": "llama3.1:8b", "gpu": "h100", "gpu_count": 1, **changes}
    with pytest.raises(AdvisorError) as error:
        estimate(EstimateRequest(**request))
    assert error.value.field == field


def test_it_parses_loose_input_and_rejects_unknown_keys():
    request = EstimateRequest.parse(
        {
            "model": "llama3.1:8b",
            "gpu": "h100",
            "gpu_count": "2",
            "concurrency": "32, 1,8",
            "max_model_len": "",
        }
    )
    assert (
        request.gpu_count == 2
        and request.concurrency == (1, 8, 32)
        and request.max_model_len is None
    )
    with pytest.raises(AdvisorError) as error:
        EstimateRequest.parse({"model": "llama3.1:8b", "gpus": 2})
    assert error.value.field == "gpus"


def test_it_warns_when_ollamas_queue_would_overflow():
    data = _estimate(model="llama-3.2-1b", gpu="l4", gpu_count=1, concurrency=(1, 1024))
    assert any("OLLAMA_MAX_QUEUE" in note for note in data["notes"])
    assert not any(
        "OLLAMA_MAX_QUEUE" in note for note in _estimate(model="llama-3.2-1b", gpu="l4")["notes"]
    )


def test_it_plans_ollama_as_installed_with_its_defaults():
    installed = _estimate(model="llama3.1:8b", gpu="l40s", gpu_count=1)["plan"]["ollama_installed"]
    assert installed["label"] == "Ollama as installed" and installed["environment"] == {}
    assert (installed["num_parallel"], installed["kv_cache_type"]) == (1, "f16")
    assert installed["num_ctx"] == 32768  # an L40S shows 44.99 GiB: the 24-48 GiB tier
    assert installed["max_queue"] == 512


def test_it_notes_requests_longer_than_the_models_context():
    data = _estimate(model="gemma-2-2b", gpu="l4", avg_prompt_tokens=8000, avg_output_tokens=1000)
    assert any("exceed the model's 8,192-token context" in note for note in data["notes"])


def test_it_predicts_only_the_servers_asked_for_and_the_same_levels():
    request = EstimateRequest(
        model="llama-3.1-8b", gpu="h100", concurrency=(1, 4, 40), num_parallel=2
    )
    full, ollama_only = estimate(request), estimate(request, predict=("ollama",))
    assert [r for r in full.performance if r["server"] == "ollama"] == list(ollama_only.performance)
    assert {r["server"] for r in ollama_only.performance} == {"ollama"}
    assert ollama_only.vllm == full.vllm and ollama_only.ollama == full.ollama


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"model": "llama-3.1-70b", "gpu": "rtx-4090"},  # offloaded to the CPU
        {"gpu": "apple-m3-max"},
        {"gpu_count": 0, "cpu_memory_gib": 32, "model": "qwen2.5-3b"},
        {"quantization": "awq-int4", "kv_cache_dtype": "fp8"},
        {"measured_decode_tps": {"ollama": 40.0, "vllm": 90.0}},
    ],
)
def test_it_predicts_ollama_alone_exactly_as_the_whole_estimate_does(changes):
    """``predict=("ollama",)`` (the rules' smaller Ollama sizings) leaves vLLM's levels out."""
    request = EstimateRequest(
        **{"model": "llama-3.1-8b", "gpu": "h100", "concurrency": (1, 2, 8), "num_parallel": 2}
        | changes
    )
    whole = [row for row in estimate(request).performance if row["server"] == "ollama"]
    assert list(estimate(request, predict=("ollama",)).performance) == whole


def test_it_replaces_the_budget_with_a_measured_one_and_shows_the_models_error():
    """A budget from the user's vLLM log is labelled measured; the modelled one stays beside it."""
    modelled = _estimate(model="llama-3.1-8b", gpu="h100", gpu_count=1)["vllm"]
    measured = _estimate(model="llama-3.1-8b", gpu="h100", gpu_count=1, kv_cache_budget_gib=50.0)
    vllm = measured["vllm"]
    assert modelled["kv_budget_source"] == "model" and modelled["kv_budget_error_pct"] is None
    assert vllm["kv_budget_source"] == "measured"
    assert vllm["available_kv_cache_bytes"] == 50 * GIB
    assert vllm["modelled_available_kv_cache_bytes"] == modelled["available_kv_cache_bytes"]
    expected = (modelled["available_kv_cache_bytes"] - 50 * GIB) / (50 * GIB) * 100
    assert vllm["kv_budget_error_pct"] == pytest.approx(expected, abs=0.05)


def test_it_sizes_the_cache_from_the_block_count_on_metrics():
    """vllm:cache_config_info num_gpu_blocks: Llama-3.1-8B blocks are 2 MiB (16 tokens x 128 KiB)."""
    vllm = _estimate(model="llama-3.1-8b", gpu="h100", gpu_count=1, num_gpu_blocks=24978)["vllm"]
    assert vllm["kv_budget_source"] == "measured"
    assert vllm["num_gpu_blocks"] == 24978
    assert vllm["kv_cache_tokens"] == 24978 * 16


def test_it_shows_ollamas_measured_size_beside_the_model():
    data = _estimate(
        model="llama3.1:8b", gpu="rtx-4090", gpu_count=1, ollama_measured_size_gib=6.0
    )["plan"]["ollama"]
    assert data["memory_source"] == "measured" and data["memory_bytes"] == 6 * GIB
    error = (data["modelled_memory_bytes"] - 6 * GIB) / (6 * GIB) * 100
    assert data["memory_error_pct"] == pytest.approx(error, abs=0.05)


def test_it_takes_vllms_own_flags():
    """--tensor-parallel-size, --data-parallel-size, --max-num-seqs, --max-num-batched-tokens,
    --gpu-memory-utilization, --kv-cache-dtype, --max-model-len and the release."""
    whole = _estimate(
        model="llama-3.1-70b",
        gpu="h100",
        gpu_count=8,
        tensor_parallel_size=4,
        data_parallel_size=2,
        max_num_seqs=256,
        max_num_batched_tokens=4096,
        gpu_memory_utilization=0.9,
        kv_cache_dtype="fp8",
        max_model_len=32768,
        vllm_version="0.11.0",
    )
    plan, data = whole["plan"]["vllm"], whole["vllm"]
    assert data["tensor_parallel_size"] == 4 and plan["data_parallel_size"] == 2
    assert (data["max_num_seqs"], data["max_num_batched_tokens"]) == (256, 4096)
    assert data["gpu_memory_utilization"] == 0.9 and data["vllm_version"] == "0.11.0"
    assert data["accounting_release"] == "0.11.0"
    assert data["max_model_len"] == 32768
    assert "--max-num-seqs" in plan["serve_args"] and "--kv-cache-dtype" in plan["serve_args"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tensor_parallel_size": 3}, "tensor_parallel_size"),
        ({"tensor_parallel_size": 8, "data_parallel_size": 2}, "tensor_parallel_size"),
        ({"vllm_version": "latest"}, "vllm_version"),
        ({"vllm_version": "0.5.0"}, "vllm_version"),
        ({"max_num_batched_tokens": 0}, "max_num_batched_tokens"),
    ],
)
def test_it_rejects_vllm_flags_vllm_would_reject(changes, field):
    with pytest.raises(AdvisorError) as error:
        _estimate(model="llama-3.1-70b", gpu="h100", gpu_count=8, **changes)
    assert error.value.field == field
