"""Dicts in the shapes of Recommendation.as_dict(), Estimate.as_dict() (a real one) and the answers.

Factories take overrides so each test states only what it cares about. ``SCENARIOS`` covers the
flavours a bundle must render: vLLM on NVIDIA (one and four GPUs), vLLM on AMD, Ollama on a Mac,
on a CPU-only box and on an NVIDIA server.
"""

from __future__ import annotations

import copy
import functools

from advisor.bundles import Bundle, build_bundle
from advisor.capacity.estimate import EstimateRequest
from advisor.capacity.estimate import estimate as capacity_estimate

GIB = 1024**3


@functools.cache
def _real_estimate(model: str, gpu: str | None, gpu_count: int) -> dict:
    request = EstimateRequest(
        model=model, gpu=gpu, gpu_count=gpu_count, concurrency=(1, 200), peak_users=200
    )
    return capacity_estimate(request).as_dict()


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


def estimate(
    *, model: str = "llama-3.1-8b", gpu: str | None = "h100", gpu_count: int = 1, **overrides
) -> dict:
    """The capacity model's real ``Estimate.as_dict()`` (at 1 and 200 users) for ``model`` on
    ``gpu_count`` x ``gpu``, with ``overrides`` merged into its sections (a dict updates the
    section of that name): the producer's shape, so a key it renames fails the bundle tests."""
    data = copy.deepcopy(_real_estimate(model, gpu, gpu_count))
    _merge(data, overrides)
    return data


def _merge(data: dict, overrides: dict) -> None:
    """``overrides`` into ``data``: a dict updates the section of that name, at any depth."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            _merge(data[key], value)
        else:
            data[key] = value


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
        estimate(
            model="llama-3.3-70b",
            gpu="a100-sxm-80gb",
            gpu_count=4,
            plan={
                "vllm": {
                    "tensor_parallel_size": 4,
                    "data_parallel_size": 1,
                    "max_num_seqs": 512,
                    "quantization": "fp8",
                }
            },
        ),
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
        estimate(gpu="mi300x"),
        answers(gpu="AMD Instinct MI300X", gpu_count=1),
    ),
    "ollama-mac": (
        recommendation(
            "ollama",
            decisive=[{"rule_id": "platform.macos", "message": "vLLM does not run on macOS"}],
        ),
        estimate(gpu="apple-m3-max"),
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
        estimate(model="llama-3.2-3b", gpu=None, gpu_count=0),
        answers(model="llama3.2:3b", gpu=None, gpu_count=0, peak_concurrent_users=1),
    ),
    "ollama-4090": (
        recommendation("ollama"),
        estimate(
            gpu="rtx-4090", plan={"ollama": {"kv_cache_type": "q8_0", "flash_attention": True}}
        ),
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
