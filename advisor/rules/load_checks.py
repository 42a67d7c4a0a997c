"""Checks that read load: measured load tests and the $/1M-token cost at the user's load.

Same discipline as ``checks`` for the measured levels: evidence for vLLM when it holds at ANY level
at your load, for Ollama only when it holds at ALL of them (``Side.at_your_load``), so more users
only move toward vLLM. Cost is judged at your peak alone (``Facts.cost``): the figure the reason
quotes is the one the table shows.
"""

from __future__ import annotations

from typing import Any

from advisor.capacity.cost import usd_text
from advisor.rules.checks import Evidence, ms, slo_misses
from advisor.rules.facts import Facts, Side, failure_rate, metric
from advisor.rules.thresholds import (
    COLLAPSE_P95_RATIO,
    COST_RATIO,
    DEGRADED_P95_RATIO,
    MAX_FAILURE_RATE,
)
from probes.kinds import Backend

# ---- measured ------------------------------------------------------------------------------------


def _ratio_levels(side: Side, peak: int) -> tuple[float | None, list[tuple[dict[str, Any], float]]]:
    """Single-user p95 E2E and, for each level at your load above 1, its p95 / single-user ratio."""
    base = metric(side.single(), "e2el_ms")
    if base is None:
        return None, []
    rows = []
    for level in side.at_your_load(peak):
        p95 = metric(level, "e2el_ms")
        if level["concurrency"] > 1 and p95 is not None:
            rows.append((level, p95 / base))
    return base, rows


def _measured_ratio(f: Facts, minimum: float) -> Evidence:
    side = f.measured(Backend.OLLAMA)
    base, rows = _ratio_levels(side, f.users)
    for level, ratio in rows:
        if ratio >= minimum:
            return {
                "concurrency": level["concurrency"],
                "p95": ms(metric(level, "e2el_ms")),
                "single": ms(base),
                "ratio": f"{ratio:.1f}",
                "limit": f"{minimum:g}",
                "p95_ms": metric(level, "e2el_ms"),
                "single_ms": base,
            }
    return None


def measured_degraded(f: Facts) -> Evidence:
    return _measured_ratio(f, DEGRADED_P95_RATIO)


def measured_collapse(f: Facts) -> Evidence:
    return _measured_ratio(f, COLLAPSE_P95_RATIO)


def measured_failures(f: Facts) -> Evidence:
    for level in f.measured(Backend.OLLAMA).at_your_load(f.users):
        rate = failure_rate(level)
        if rate > MAX_FAILURE_RATE:
            return {
                "concurrency": level["concurrency"],
                "failed": level.get("failed", 0),
                "requests": level.get("requests", 0),
                "rate": f"{rate:.0%}",
            }
    return None


def measured_slo_miss(f: Facts) -> Evidence:
    """Ollama meets the targets alone but misses them under load: queueing, not the model."""
    slos, side = f.answers.slos, f.measured(Backend.OLLAMA)
    if not slos or not side or slo_misses(side.single(), slos):
        return None
    for level in side.at_your_load(f.users):
        misses = slo_misses(level, slos)
        if level["concurrency"] > 1 and misses:
            return {"concurrency": level["concurrency"], "misses": "; ".join(misses)}
    return None


def measured_ollama_holds(f: Facts) -> Evidence:
    """Measured at (or above) the peak, Ollama's p95 stays under 2x single-user, no failures, SLOs met."""
    side = f.measured(Backend.OLLAMA)
    levels = side.at_your_load(f.users)
    if not levels or (levels[-1].get("concurrency") or 0) < f.users:
        return None
    base, rows = _ratio_levels(side, f.users)
    if base is None or any(ratio >= DEGRADED_P95_RATIO for _, ratio in rows):
        return None
    if any(
        failure_rate(lvl) > MAX_FAILURE_RATE or slo_misses(lvl, f.answers.slos) for lvl in levels
    ):
        return None
    worst = max((ratio for _, ratio in rows), default=1.0)
    return {"concurrency": levels[-1]["concurrency"], "ratio": f"{worst:.1f}", "single": ms(base)}


def measured_vllm_failures(f: Facts) -> Evidence:
    for level in f.measured(Backend.VLLM).at_your_load(f.users):
        if failure_rate(level) > MAX_FAILURE_RATE:
            return {"concurrency": level["concurrency"], "rate": f"{failure_rate(level):.0%}"}
    return None


# ---- cost ----------------------------------------------------------------------------------------


def _cost_evidence(f: Facts, cheaper: Backend) -> Evidence:
    """The cost at your peak (``Facts.cost``) when ``cheaper`` is at least COST_RATIO x cheaper there."""
    cost = f.cost
    if cost is None:
        return None
    vllm, ollama = cost.usd(Backend.VLLM), cost.usd(Backend.OLLAMA)
    if not vllm or not ollama:
        return None  # a server without a figure at your load, or hardware priced at $0
    usd = {Backend.VLLM: vllm, Backend.OLLAMA: ollama}
    if usd[cheaper.other] < COST_RATIO * usd[cheaper]:
        return None
    return {
        "concurrency": cost.concurrency,
        "source": cost.basis.value,
        "load": cost.label,
        "price": cost.price.label,
        "vllm_cost": usd_text(vllm),
        "ollama_cost": usd_text(ollama),
        "ratio": f"{usd[cheaper.other] / usd[cheaper]:.1f}",
        "vllm_usd_per_million": vllm,
        "ollama_usd_per_million": ollama,
    }


def vllm_cheaper(f: Facts) -> Evidence:
    return _cost_evidence(f, Backend.VLLM)


def ollama_cheaper(f: Facts) -> Evidence:
    return _cost_evidence(f, Backend.OLLAMA)
