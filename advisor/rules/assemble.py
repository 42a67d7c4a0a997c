"""Assemble ``Facts`` from answers, a hardware report and load-test results (pure, no Django).

``facts_build(answers, *, hardware_report=None, load_tests=())`` decides the effective hardware (the
answers win over the report; the report fills what they leave out), runs the capacity model at the
user's load, and — only when the model does not fit — searches what would (a smaller
quantization, more GPUs, a bigger GPU, a smaller model of the same family). For Mac and CPU-only
users with many users it also estimates vLLM on a reference Linux GPU server, for the warning that
says what they are missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import Any

from advisor.capacity import catalog
from advisor.capacity import estimate as capacity
from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.rules.alternatives import find_alternatives, reference_server
from advisor.rules.answers import Answers, custom_model_spec
from advisor.rules.facts import Facts, metric, vllm_served
from advisor.rules.hardware import effective_hardware
from advisor.rules.measured_on import setup_of, split_by_setup
from advisor.rules.questions import SERVER_SETTING_FIELDS, Platform
from advisor.rules.sizing import (
    estimate_request,
    fits,
    prediction_levels,
)
from advisor.rules.thresholds import HANDFUL_USERS
from probes.kinds import backend_for_kind


def measured_single_stream_tps(load_tests: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Single-user decode speed per server (1000 / TPOT p50 at concurrency 1) from load tests."""
    speeds: dict[str, float] = {}
    for result in load_tests:
        backend = backend_for_kind(((result or {}).get("target") or {}).get("kind"))
        for level in (result or {}).get("levels") or ():
            tpot = metric(level, "tpot_ms", "p50")
            if backend is not None and level.get("concurrency") == 1 and tpot:
                speeds[backend.value] = round(1000.0 / tpot, 3)
    return speeds


def facts_build(
    answers: Answers,
    *,
    hardware_report: dict[str, Any] | None = None,
    load_tests: Iterable[dict[str, Any]] = (),
    verdict_only: bool = False,
) -> Facts:
    """Everything ``recommend`` needs. Raises ``AdvisorError`` only for unusable answers.

    ``verdict_only`` skips what only the explanation reads ("what would fit", the reference
    server): the facts a what-if re-run decides on.
    """
    gpu, count, platform, notes = effective_hardware(answers, hardware_report)
    model = _model_spec(answers)
    levels = prediction_levels(answers.peak_concurrent_users)
    estimate = alternatives = reference = None
    # Only measurements of this very setup are evidence about it: they calibrate the speed and
    # feed the measured rules; the others are listed and warned about, never used.
    setup = setup_of(
        gpu=gpu.id if gpu is not None else None,
        gpu_count=count,
        model=model.id if model is not None else answers.model,
        quantization=answers.quantization,
    )
    attached = tuple(load_tests)
    load_tests, other_hardware = split_by_setup(attached, setup)
    ram = ((hardware_report or {}).get("memory") or {}).get("total_bytes")
    measured_tps = measured_single_stream_tps(load_tests)
    request = None
    if model is not None:
        try:
            request = estimate_request(
                answers,
                model,
                gpu,
                count,
                answers.quantization,
                levels,
                ram_bytes=ram,
                measured_tps=measured_tps,
                platform=None if platform == Platform.AUTO else platform.value,
                vllm_measured_on_cpu=count == 0 and vllm_served(load_tests),
                own_setup=True,
            )
            estimate = capacity.estimate(request).as_dict()
        except AdvisorError as exc:
            if exc.field in SERVER_SETTING_FIELDS:
                # A flag or reading the answers give that this hardware refuses (a hardware report
                # with fewer GPUs than --tensor-parallel-size): the answer is wrong, say which.
                raise AdvisorValidationError({exc.field: [exc.message]}) from None
            notes.append(f"no capacity estimate: {exc.message}")
    sizings: list[dict[str, Any]] = []
    if estimate is not None and request is not None:
        # Ollama predicted with fewer slots too (1 .. yours - 1): the rules weigh every sizing up
        # to the user's, so a larger team can only look worse for Ollama, never better.
        for slots in range(1, estimate["plan"]["ollama"]["num_parallel"]):
            fewer = replace(request, num_parallel=slots)
            levels_only = capacity.estimate(fewer, predict=("ollama",)).performance
            sizings += [{**row, "num_parallel": slots} for row in levels_only]
    fits_both = estimate is not None and fits(estimate, "vllm") and fits(estimate, "ollama")
    if estimate is not None and not fits_both and not verdict_only:
        alternatives = find_alternatives(answers, model, gpu, count, estimate)
    mac_or_cpu = gpu is None or gpu.unified_memory or platform == Platform.MACOS
    many = answers.peak_concurrent_users > HANDFUL_USERS
    if model is not None and mac_or_cpu and many and not verdict_only:
        reference = reference_server(answers, model, levels)
    return Facts(
        answers=answers,
        platform=platform,
        gpu=gpu.as_dict() if gpu is not None else None,
        gpu_count=count,
        model=model.as_dict() if model is not None else None,
        hardware=hardware_report,
        estimate=estimate,
        load_tests=load_tests,
        other_hardware=other_hardware,
        setup=setup,
        alternatives=tuple(alternatives or ()),
        reference=reference,
        notes=tuple(notes),
        ollama_sizings=tuple(sizings),
        rebuild=partial(
            facts_build, hardware_report=hardware_report, load_tests=attached, verdict_only=True
        ),
    )


def _model_spec(answers: Answers) -> Any:
    if answers.custom_model is not None:
        return custom_model_spec(answers.custom_model, answers.model)
    return catalog.resolve_model(answers.model)
