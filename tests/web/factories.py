"""Rows for the view tests, made through the real services (the same paths the pages use)."""

from __future__ import annotations

import copy
import functools

from advisor.models import HardwareSource, LoadTest, LoadTestLevel, LoadTestStatus
from advisor.services.assessments import recommendation_create
from advisor.services.hardware import hardware_report_create

H100 = {
    "vendor": "nvidia",
    "index": 0,
    "name": "NVIDIA H100 80GB HBM3",
    "memory_total_bytes": 85520809984,
}


@functools.cache
def _probed() -> dict:
    from probes import collect_report

    return collect_report(server_urls=[])


def report_data(*, gpus=(H100,), servers=(), hostname: str | None = None) -> dict:
    """A real report of this machine (probed once per run) with the given GPUs and servers."""
    report = copy.deepcopy(_probed())
    report["gpus"] = [dict(g) for g in gpus]
    report["servers"] = [dict(s) for s in servers]
    if hostname:
        report["host"]["hostname"] = hostname
    return report


def make_report(*, source=HardwareSource.LOCAL, **kwargs):
    return hardware_report_create(report=report_data(**kwargs), source=source)


def make_assessment(*, hardware_report=None, title: str = "", **answers):
    """An assessment with its recommendation; answers default to one H100 serving 8B."""
    data = {"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb", "gpu_count": 1} | answers
    return recommendation_create(
        answers=data, hardware_report=hardware_report, title=title
    ).assessment


def stats(p95: float) -> dict:
    return {"mean": p95 * 0.8, "p50": p95 * 0.7, "p90": p95 * 0.9, "p95": p95, "p99": p95 * 1.1}


def make_load_test(*, status=LoadTestStatus.SUCCEEDED, kind="vllm", levels=(1, 4), **fields):
    """A load test row with finished levels (TTFT/E2E growing with concurrency)."""
    load_test = LoadTest.objects.create(
        status=status,
        base_url=fields.pop("base_url", "http://127.0.0.1:8000"),
        api="openai",
        backend_kind=kind,
        model_name=fields.pop("model_name", "test-model"),
        config={"concurrency": list(levels), "requests_per_level": 8, "max_tokens": 32},
        progress=fields.pop("progress", {"levels_done": len(levels), "levels_total": len(levels)}),
        **fields,
    )
    for index, concurrency in enumerate(levels):
        LoadTestLevel.objects.create(
            load_test=load_test,
            index=index,
            concurrency=concurrency,
            requests=8,
            succeeded=8,
            output_token_throughput=100.0 * concurrency,
            request_throughput=2.0 * concurrency,
            metrics={
                "ttft_ms": stats(50.0 * concurrency),
                "itl_ms": stats(10.0),
                "tpot_ms": stats(10.0),
                "e2el_ms": stats(400.0 * concurrency),
                "errors": {},
                "goodput": None,
            },
        )
    return load_test
