"""Dicts in the documented shapes of Recommendation.as_dict(), Estimate.as_dict() and the answers.

Factories take overrides so each test states only what it cares about. ``SCENARIOS`` covers the
flavours a bundle must render: vLLM on NVIDIA (one and four GPUs), vLLM on AMD, Ollama on a Mac,
on a CPU-only box and on an NVIDIA server.
"""

from __future__ import annotations

import copy

from advisor.bundles import Bundle, build_bundle

GIB = 1024**3


def recommendation(backend: str = "vllm", **overrides) -> dict:
    data = {
        "backend": backend,
        "confidence": 0.86,
        "confidence_label": "high",
        "decisive": [
            {
                "rule_id": "workload.concurrency",
                "message": "200 peak concurrent users is far above the 4 a single-stream server holds",
                "evidence": {"peak_concurrent_users": 200},
            }
        ],
        "supporting": [
            {"rule_id": "hardware.datacenter_gpu", "message": "H100 is a data-centre GPU"}
        ],
        "opposing": [{"rule_id": "ops.skills", "message": "The team has no Kubernetes skills"}],
        "warnings": ["Predicted p95 at 200 users is 2.1 s"],
        "switch_triggers": ["peak concurrent users below 4"],
        "migration": {"ollama_tag": "llama3.1:8b", "base_url": "http://HOST:8000/v1"},
    }
    data.update(overrides)
    return data


def estimate(**overrides) -> dict:
    data = {
        "weights_bytes": 16 * GIB,
        "kv_bytes_per_token": 131072,
        "vllm": {
            "fits": True,
            "tensor_parallel_size": 1,
            "kv_cache_bytes": 52 * GIB,
            "kv_cache_tokens": 425_984,
            "num_gpu_blocks": 26_624,
            "max_model_len": 8192,
            "max_concurrency": 52.0,
            "max_num_seqs": 256,
        },
        "ollama": {
            "fits_in_vram": True,
            "num_ctx": 8192,
            "num_parallel": 1,
            "gpu_layers": 33,
            "total_layers": 33,
            "memory_bytes": 6 * GIB,
        },
        "performance": [
            {
                "server": "vllm",
                "concurrency": 1,
                "output_token_throughput": 120.0,
                "ttft_ms": {"p50": 30.0},
                "tpot_ms": {"p50": 8.0},
                "e2el_ms": {"p95": 2100.0},
                "source": "model",
            },
            {
                "server": "ollama",
                "concurrency": 1,
                "output_token_throughput": 100.0,
                "ttft_ms": {"p50": 40.0},
                "tpot_ms": {"p50": 10.0},
                "e2el_ms": {"p95": 2600.0},
                "source": "model",
            },
        ],
        "cost": {},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def answers(**overrides) -> dict:
    data = {
        "use_case": "production",
        "peak_concurrent_users": 200,
        "platform": "linux",
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "quantization": "auto",
        "context_length": 8192,
        "avg_prompt_tokens": 512,
        "avg_output_tokens": 256,
        "slo_ttft_ms": 500.0,
        "gpu": "NVIDIA H100 80GB HBM3",
        "gpu_count": 1,
        "features": [],
        "lora_adapters": 0,
        "team_skills": ["python", "docker"],
        "deployment_target": "server",
    }
    data.update(overrides)
    return data


SCENARIOS: dict[str, tuple[dict, dict, dict]] = {
    "vllm-h100": (recommendation("vllm"), estimate(), answers()),
    "vllm-4xa100-lora-fp8": (
        recommendation("vllm"),
        estimate(weights_bytes=140 * GIB, vllm={"tensor_parallel_size": 4, "max_num_seqs": 512}),
        answers(
            model="meta-llama/Llama-3.3-70B-Instruct",
            gpu="NVIDIA A100 80GB",
            gpu_count=4,
            quantization="fp8",
            features=["multi_lora", "kubernetes", "metrics"],
            lora_adapters=10,
            deployment_target="kubernetes",
        ),
    ),
    "vllm-mi300x": (
        recommendation("vllm"),
        estimate(),
        answers(gpu="AMD Instinct MI300X", gpu_count=1),
    ),
    "ollama-mac": (
        recommendation(
            "ollama",
            decisive=[{"rule_id": "platform.macos", "message": "vLLM does not run on macOS"}],
        ),
        estimate(weights_bytes=5 * GIB),
        answers(
            model="llama3.1:8b",
            platform="macos",
            gpu="Apple M3 Max",
            gpu_count=1,
            peak_concurrent_users=1,
            use_case="prototype",
            deployment_target="laptop",
        ),
    ),
    "ollama-cpu": (
        recommendation("ollama"),
        estimate(weights_bytes=2 * GIB, ollama={"num_ctx": 4096, "fits_in_vram": False}),
        answers(model="llama3.2:3b", gpu=None, gpu_count=0, peak_concurrent_users=1),
    ),
    "ollama-4090": (
        recommendation("ollama"),
        estimate(weights_bytes=5 * GIB, ollama={"num_parallel": 2, "kv_cache_type": "q8_0"}),
        answers(model="llama3.1:8b", gpu="NVIDIA GeForce RTX 4090", peak_concurrent_users=3),
    ),
}


def scenario(name: str) -> tuple[dict, dict, dict]:
    return copy.deepcopy(SCENARIOS[name])


def bundle_for(name: str, **kwargs) -> Bundle:
    rec, est, ans = scenario(name)
    return build_bundle(rec, est, ans, **kwargs)


def all_bundles() -> list[tuple[str, Bundle]]:
    return [(name, bundle_for(name)) for name in SCENARIOS]
