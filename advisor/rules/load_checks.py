"""Checks that read load: measured load tests and the $/1M-token cost at the user's load.

Same discipline as ``checks``: evidence for vLLM when it holds at ANY level at your load, for
Ollama only when it holds at ALL of them (``Side.at_your_load``), so more users only move toward vLLM.
"""

from __future__ import annotations

from typing import Any

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


def _cost_evidence(row: dict[str, Any], cheaper: Backend) -> dict[str, Any]:
    cost = row["cost"]
    return {
        "concurrency": row["concurrency"],
        "source": row["source"],
        "vllm_cost": f"${cost[Backend.VLLM]:.2f}",
        "ollama_cost": f"${cost[Backend.OLLAMA]:.2f}",
        "ratio": f"{cost[cheaper.other] / cost[cheaper]:.1f}",
        "vllm_usd_per_million": round(cost[Backend.VLLM], 4),
        "ollama_usd_per_million": round(cost[Backend.OLLAMA], 4),
    }


def vllm_cheaper(f: Facts) -> Evidence:
    for row in reversed(f.cost_rows):  # quote the level nearest your peak
        if row["cost"][Backend.OLLAMA] >= COST_RATIO * row["cost"][Backend.VLLM]:
            return _cost_evidence(row, Backend.VLLM)
    return None


def ollama_cheaper(f: Facts) -> Evidence:
    rows = f.cost_rows
    if rows and all(
        r["cost"][Backend.VLLM] >= COST_RATIO * r["cost"][Backend.OLLAMA] for r in rows
    ):
        return _cost_evidence(rows[-1], Backend.OLLAMA)
    return None
