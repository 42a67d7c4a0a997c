"""Factories for rules tests: answers, facts with hand-made estimates, load-test results."""

from __future__ import annotations

from advisor.capacity import catalog
from advisor.capacity.plan import OllamaPlan, OllamaSetting, ServingPlan, VllmPlan
from advisor.capacity.vllm import HeldLimit, RequestsHeld
from advisor.rules.answers import Answers
from advisor.rules.facts import Facts
from advisor.rules.hardware import effective_hardware
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, Setup, setup_of


def answers(**overrides) -> Answers:
    data = {"gpu": "h100-sxm-80gb", **overrides}
    return Answers.parse({k: v for k, v in data.items() if v is not None})


def level(concurrency: int, p95_ms: float, *, requests: int = 20, failed: int = 0,
          tput: float | None = None, ttft_ms: float | None = None, server: str | None = None) -> dict:  # fmt: skip
    """One level in the LoadTestResult / Estimate performance shape."""
    row = {
        "concurrency": concurrency,
        "requests": requests,
        "succeeded": requests - failed,
        "failed": failed,
        "e2el_ms": {
            "mean": p95_ms * 0.8,
            "p50": p95_ms * 0.7,
            "p90": p95_ms * 0.95,
            "p95": p95_ms,
            "p99": p95_ms * 1.1,
        },  # fmt: skip
        "ttft_ms": {"p95": ttft_ms if ttft_ms is not None else p95_ms / 10},
        "tpot_ms": {"mean": 16.0, "p50": 15.0, "p95": 20.0},
        "output_token_throughput": tput
        if tput is not None
        else concurrency * 256 / (p95_ms / 1000),
    }
    if server:
        row["server"] = server
        row["source"] = "model"
    return row


def load_test(
    kind: str, p95_by_concurrency: dict[int, float], failed: dict[int, int] | None = None
) -> dict:
    failed = failed or {}
    return {
        "target": {"base_url": "http://127.0.0.1:11434", "kind": kind, "model": "llama3.1:8b"},
        "levels": [
            level(c, p95, failed=failed.get(c, 0)) for c, p95 in sorted(p95_by_concurrency.items())
        ],
        "stopped_reason": "",
    }


def setup(ans: Answers, report: dict | None = None) -> Setup:
    """The setup ``facts_build`` sizes ``ans`` for (catalog models only)."""
    gpu, count, _, _ = effective_hardware(ans, report)
    return setup_of(gpu=gpu.id if gpu else None, gpu_count=count, model=ans.model,
                    quantization=ans.quantization)  # fmt: skip


def measured_on(results, where: Setup, source: str = "stated") -> list[dict]:
    """The load-test results, each recorded as measured on ``where``."""
    record = MeasuredOn(where, MeasuredOnSource(source)).as_dict()
    return [{**result, "measured_on": record} for result in results]


def estimate(*, vllm_fits=True, tp=1, max_concurrency=50.0, ollama_fits=True, gpu_layers=33,
             performance=(), weights_gib=15.0, ollama_slots=1) -> dict:  # fmt: skip
    """An ``Estimate.as_dict()`` with the figures the rules read, its plan built by the real
    dataclasses so its shape is the producer's."""
    vllm_plan = VllmPlan(
        runs=True, why_not="", fits=vllm_fits, image="vllm/vllm-openai:v0.33.0",
        model="meta-llama/Llama-3.1-8B-Instruct", quantization="bf16", tensor_parallel_size=tp,
        data_parallel_size=1, gpus_available=tp, gpus_note="", max_model_len=8192,
        max_model_len_auto=False, max_num_seqs=1024, max_num_batched_tokens=8192,
        gpu_memory_utilization=0.92, kv_cache_dtype="auto", kv_cache_bytes=50 * 1024**3,
        kv_cache_tokens=int(max_concurrency * 8192), kv_source="model",
        max_concurrency=max_concurrency,
        requests_held=RequestsHeld(
            request_tokens=768, kv_tokens_per_request=768, kv_cache_tokens=400_000, replicas=1,
            max_num_seqs=1024, per_replica=520.83, slots_per_replica=520, held=520,
            limit=HeldLimit.KV_CACHE,
        ),
    )  # fmt: skip

    def ollama(setting: OllamaSetting, slots: int) -> OllamaPlan:
        return OllamaPlan(
            setting=setting, image="ollama/ollama:0.34.2", model="llama3.1:8b",
            quantization="Q4_K_M", num_ctx=8192, num_parallel=slots, kv_cache_type="f16",
            flash_attention=setting is OllamaSetting.TUNED, gpu_layers=gpu_layers,
            total_layers=33, max_queue=512, memory_bytes=6 * 1024**3, memory_source="model",
            fits_in_vram=ollama_fits, gpus_used=1,
        )  # fmt: skip

    plan = ServingPlan(
        vllm=vllm_plan,
        ollama_installed=ollama(OllamaSetting.INSTALLED, 1),
        ollama=ollama(OllamaSetting.TUNED, ollama_slots),
    )
    return {
        "weights_bytes": int(weights_gib * 1024**3),
        "kv_bytes_per_token": 131072,
        "vllm": {
            "fits": vllm_fits,
            "tensor_parallel_size": tp,
            "max_concurrency": max_concurrency,
            "max_num_seqs": 1024,
            "max_model_len": 8192,
        },  # fmt: skip
        "ollama": {
            "fits_in_vram": ollama_fits,
            "num_ctx": 8192,
            "num_parallel": ollama_slots,
            "gpu_layers": gpu_layers,
            "total_layers": 33,
            "memory_bytes": 6 * 1024**3,
        },  # fmt: skip
        "performance": list(performance),
        "cost": {},
        "plan": plan.as_dict(),
    }


def facts(ans: Answers | None = None, *, gpu: str | None = "h100-sxm-80gb", count: int | None = None,
          platform: str = "linux", estimate: dict | None = None, load_tests=(), alternatives=(),
          hardware: dict | None = None) -> Facts:  # fmt: skip
    ans = ans or answers()
    spec = catalog.resolve_gpu(gpu) if gpu and not ans.cpu_only else None
    if count is None:
        count = 0 if spec is None else (ans.gpu_count or 1)
    return Facts(
        answers=ans,
        platform=platform,
        gpu=spec.as_dict() if spec else None,
        gpu_count=count,
        model=catalog.resolve_model(ans.model).as_dict(),
        hardware=hardware,
        estimate=estimate,
        load_tests=tuple(load_tests),
        alternatives=tuple(alternatives),
    )


# A probes report (schema 1) of a Linux host with four H100s.
H100_REPORT = {
    "schema_version": 1,
    "collected_at": "2026-11-24T10:00:00+00:00",
    "host": {"hostname": "gpu-1", "os": "Linux", "arch": "x86_64"},
    "memory": {"total_bytes": 512 * 1024**3},
    "gpus": [
        {"vendor": "nvidia", "index": i, "name": "NVIDIA H100 80GB HBM3",
         "memory_total_bytes": 85520809984, "catalog_id": "h100-sxm-80gb"}
        for i in range(4)
    ],
}  # fmt: skip
