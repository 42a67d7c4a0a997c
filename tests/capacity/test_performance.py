"""Predicted performance against published data points (REFERENCE.md) and its own invariants."""

import pytest

from advisor.capacity.catalog import resolve_gpu, resolve_model
from advisor.capacity.estimate import EstimateRequest, estimate
from advisor.capacity.performance import (
    Engine,
    decode_step_seconds,
    predict_level,
    weights_read_per_step,
)
from probes.kinds import Backend

METRICS = ("ttft_ms", "itl_ms", "tpot_ms", "e2el_ms")


def _levels(server, **kwargs):
    result = estimate(EstimateRequest(**kwargs)).as_dict()
    return {p["concurrency"]: p for p in result["performance"] if p["server"] == server}


def test_it_matches_the_published_h100_vllm_decode_speed():
    """H100 80GB, vLLM, Llama-3.1-8B fp16: TPOT 6.5 ms at 1 user (REFERENCE.md)."""
    levels = _levels(
        "vllm",
        model="llama-3.1-8b",
        gpu="h100",
        gpu_count=1,
        quantization="fp16",
        concurrency=(1, 16),
    )
    assert levels[1]["tpot_ms"]["mean"] == pytest.approx(6.5, rel=0.1)


def test_it_lands_near_the_published_h100_vllm_throughput_at_16_users():
    """Published: 1,384 tok/s at 16 users and 122 tok/s at 1 (an 11.3x gain). The published
    workload is not stated, so the check allows 25% on the level and a band on the gain."""
    levels = _levels(
        "vllm",
        model="llama-3.1-8b",
        gpu="h100",
        gpu_count=1,
        quantization="fp16",
        concurrency=(1, 16),
    )
    assert levels[16]["output_token_throughput"] == pytest.approx(1384, rel=0.25)
    gain = levels[16]["output_token_throughput"] / levels[1]["output_token_throughput"]
    assert 8 <= gain <= 14


def test_it_reproduces_the_a100_gap_between_vllm_and_default_ollama():
    """Red Hat (2025-08-08), one A100-PCIE-40GB, Llama-3.1-8B unquantised: Ollama peaks at 41 tok/s,
    vLLM at 793 (19x). Our Ollama default (one request at a time) gives 57.6 tok/s with the llama.cpp
    constants fitted on public llama-bench tables (data-centre family: an A100 at 0.92 of its
    bandwidth plus 172 us per layer), 40% over the blog, whose prompt lengths are not published (a
    longer prompt lowers its figure); the check is that Ollama lands within 45%, vLLM clears the
    published peak and the gap is at least 10x."""
    kwargs = {
        "model": "llama-3.1-8b",
        "gpu": "NVIDIA A100-PCIE-40GB",
        "gpu_count": 1,
        "quantization": "fp16",
        "concurrency": (1, 16, 64, 256),
        "num_parallel": 1,  # Ollama as installed
    }
    ollama_peak = max(p["output_token_throughput"] for p in _levels("ollama", **kwargs).values())
    vllm_peak = max(p["output_token_throughput"] for p in _levels("vllm", **kwargs).values())
    assert ollama_peak == pytest.approx(41, rel=0.45)
    assert vllm_peak >= 793
    assert vllm_peak / ollama_peak >= 10


def test_it_queues_ollama_requests_one_at_a_time_by_default():
    levels = _levels(
        "ollama",
        model="llama-3.1-8b",
        gpu="rtx-4090",
        gpu_count=1,
        concurrency=(1, 4, 16),
        num_parallel=1,  # Ollama as installed
    )
    assert levels[1]["output_token_throughput"] == levels[16]["output_token_throughput"]
    assert levels[16]["queued"] == 15 and levels[16]["running"] == 1
    # A user at 16 waits for the 15 ahead: TTFT grows about 15 service times.
    assert levels[16]["ttft_ms"]["mean"] > 10 * levels[1]["e2el_ms"]["mean"]
    assert levels[16]["tpot_ms"] == levels[1]["tpot_ms"]


def test_it_batches_vllm_requests_up_to_its_capacity():
    levels = _levels("vllm", model="llama-3.1-8b", gpu="h100", gpu_count=1, concurrency=(1, 8, 64))
    throughputs = [levels[c]["output_token_throughput"] for c in (1, 8, 64)]
    assert throughputs == sorted(throughputs) and throughputs[2] > 5 * throughputs[0]
    assert levels[64]["queued"] == 0
    assert levels[64]["tpot_ms"]["mean"] > levels[1]["tpot_ms"]["mean"]


def test_it_queues_vllm_past_max_num_seqs():
    levels = _levels(
        "vllm", model="llama-3.2-1b", gpu="l4", gpu_count=1, max_num_seqs=4, concurrency=(4, 16)
    )
    assert levels[16]["running"] == 4 and levels[16]["queued"] == 12
    assert levels[16]["ttft_ms"]["mean"] > levels[4]["ttft_ms"]["mean"]


def test_it_uses_the_load_test_field_names_and_marks_the_source():
    levels = _levels("vllm", model="qwen2.5-7b", gpu="l40s", gpu_count=1, concurrency=(2,))
    level = levels[2]
    assert level["source"] == "model"
    for metric in METRICS:
        stats = level[metric]
        assert set(stats) == {"mean", "p50", "p90", "p95", "p99"}
        assert stats["p50"] <= stats["p90"] <= stats["p95"] <= stats["p99"]
    assert level["output_token_throughput"] == pytest.approx(
        level["request_throughput"] * 256, rel=1e-3
    )


def test_it_reads_only_the_routed_experts_for_a_moe_decode_step():
    """Qwen3-30B-A3B at batch 1 reads its 3.3B active parameters; a large batch touches every expert."""
    model = resolve_model("qwen3-30b-a3b")
    weights = int(model.params_total * 2)
    assert weights_read_per_step(model, weights, 1) == pytest.approx(
        model.params_active * 2, rel=1e-6
    )
    assert weights_read_per_step(model, weights, 4096) == pytest.approx(weights, rel=1e-3)
    dense = resolve_model("llama-3.1-8b")
    assert weights_read_per_step(dense, 100, 64) == 100


def test_it_is_compute_bound_on_a_cpu_at_high_batch():
    engine = Engine(Backend.VLLM, 16 * 10**9, 2, 60, 1.0, 0.3, 0.5, 0.0001, 256)
    level = predict_level(resolve_model("llama-3.1-8b"), engine, 64, 512, 128)
    assert level["bound"] == "compute"


def test_it_hits_the_step_floor_on_a_tiny_model():
    """Gemma 3 270M on a 4090 is faster than any framework step: the floor sets the pace."""
    levels = _levels("vllm", model="gemma3:270m", gpu="rtx-4090", gpu_count=1, concurrency=(1,))
    assert levels[1]["bound"] == "overhead"
    assert levels[1]["tpot_ms"]["mean"] == pytest.approx(3.0, rel=0.01)


def test_it_adds_two_all_reduces_per_layer_under_tensor_parallelism():
    model = resolve_model("llama-3.1-70b")
    single = Engine(Backend.VLLM, 10**11, 2, 3350, 989, 0.74, 0.5, 0.0, 256)
    sharded = Engine(
        Backend.VLLM, 10**11, 2, 3350, 989, 0.74, 0.5, 0.0, 256, tensor_parallel_size=4
    )
    one, _ = decode_step_seconds(model, single, 1, 512)
    four, _ = decode_step_seconds(model, sharded, 1, 512)
    assert four - one == pytest.approx(80 * 2 * 10e-6)


@pytest.mark.parametrize("gpu", ["h100", "h200", "a100-sxm-80gb", "l40s", "mi300x", "rtx-4090"])
def test_it_keeps_batch_1_vllm_decode_within_60_to_80_percent_of_the_bandwidth_bound(gpu):
    """REFERENCE.md: batch-1 decode reaches about 60-80% of weights bytes / bandwidth."""
    data = estimate(
        EstimateRequest(
            model="qwen2.5-7b", gpu=gpu, gpu_count=1, max_model_len=8192, concurrency=(1,)
        )
    ).as_dict()
    level = next(p for p in data["performance"] if p["server"] == "vllm")
    bound_tps = resolve_gpu(gpu).bandwidth_gbps * 1e9 / data["weights_bytes"]
    assert 0.6 <= (1000 / level["tpot_ms"]["mean"]) / bound_tps <= 0.8


def test_it_charges_pcie_all_reduces_more_than_nvlink_ones():
    """Without NVLink, each of the two all-reduces per layer goes through NCCL over PCIe (tens of
    microseconds), so an 8-way L40S step costs more than an 8-way H100 step for the same work."""
    model = resolve_model("llama-3.1-70b")
    nvlink = Engine(Backend.VLLM, 10**11, 2, 3350, 989, 0.74, 0.5, 0.0, 256, tensor_parallel_size=8)
    pcie = Engine(
        Backend.VLLM,
        10**11,
        2,
        3350,
        989,
        0.74,
        0.5,
        0.0,
        256,
        tensor_parallel_size=8,
        allreduce_latency_s=40e-6,
    )
    fast, _ = decode_step_seconds(model, nvlink, 1, 512)
    slow, _ = decode_step_seconds(model, pcie, 1, 512)
    assert slow - fast == pytest.approx(80 * 2 * 30e-6)
    data = estimate(
        EstimateRequest(model="llama-3.1-70b", gpu="l40s", gpu_count=8, concurrency=(1,))
    ).as_dict()
    assert data["vllm"]["tensor_parallel_size"] > 1
