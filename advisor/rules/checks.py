"""The conditions behind each rule: ``check(facts) -> evidence dict`` when the rule fires, else None.

Evidence values are what the rule's message quotes (already rounded for people) plus raw numbers
for machines. Load-dependent checks follow one discipline so that more users can only move the
verdict toward vLLM: evidence *for vLLM* fires when it holds at ANY level "at your load" (every
level up to the peak, plus the first level at or above it), evidence *for Ollama* only when it
holds at ALL of them (see ``at_your_load``).
"""

from __future__ import annotations

from advisor.rules.answers import DeploymentTarget, Feature, Platform, Skill, UseCase
from advisor.rules.facts import Backend, Facts, Side, failure_rate, metric, throughput
from advisor.rules.thresholds import (
    COLLAPSE_P95_RATIO,
    COST_RATIO,
    DEGRADED_P95_RATIO,
    HANDFUL_USERS,
    MANY_USERS,
    MAX_FAILURE_RATE,
    MULTI_LORA_ADAPTERS,
    OLLAMA_CONCURRENCY_LIMIT,
    SINGLE_STREAM_GAP,
)

Evidence = dict | None
GIB = 1024**3
SLO_METRICS = {"slo_ttft_ms": "ttft_ms", "slo_tpot_ms": "tpot_ms", "slo_e2e_p95_ms": "e2el_ms"}
SLO_LABELS = {"slo_ttft_ms": "TTFT", "slo_tpot_ms": "TPOT", "slo_e2e_p95_ms": "E2E"}


def ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 3_600_000:
        return f"{value / 3_600_000:.1f} h"
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms"


def gib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / GIB:.1f} GiB"


def at_your_load(side: Side, peak: int) -> list[dict]:
    """Levels at or below ``peak`` plus the first level at or above it (the set only grows with peak)."""
    levels = side.up_to(peak)
    above = sorted(
        (lvl for lvl in side.levels if (lvl.get("concurrency") or 0) >= peak),
        key=lambda lvl: lvl["concurrency"],
    )
    if above and above[0] not in levels:
        levels.append(above[0])
    return levels


# ---- constraints ---------------------------------------------------------------------------------


def macos(f: Facts) -> Evidence:
    if f.platform != Platform.MACOS and not f.apple:
        return None
    return {"platform": "macOS", "hardware": f.gpu_name}


def cpu_only(f: Facts) -> Evidence:
    if not f.cpu_only:
        return None
    ram = ((f.hardware or {}).get("memory") or {}).get("total_bytes")
    return {"hardware": "no GPU", "ram": gib(ram) if ram else "not reported"}


def tensor_parallel(f: Facts) -> Evidence:
    vllm = f.vllm_estimate()
    tp = vllm.get("tensor_parallel_size") or 1
    if f.cpu_only or f.gpu_count < 2 or tp < 2 or not vllm.get("fits"):
        return None
    weights = (f.estimate or {}).get("weights_bytes")
    return {
        "tp": tp,
        "gpus": f.gpu_count,
        "gpu": f.gpu_name,
        "weights": gib(weights),
        "gpu_memory": gib((f.gpu or {}).get("memory_bytes")),
        "model": f.model_label,
    }


def server_gpu(f: Facts) -> Evidence:
    if f.cpu_only or f.apple or not f.gpu or not f.gpu.get("datacenter"):
        return None
    return {"gpu": f.gpu_name, "vendor": str(f.gpu.get("vendor", "")).upper()}


def consumer_gpu(f: Facts) -> Evidence:
    if f.cpu_only or f.apple or not f.gpu or f.gpu.get("datacenter"):
        return None
    return {"gpu": f.gpu_name, "memory": gib(f.gpu.get("memory_bytes"))}


def vllm_does_not_fit(f: Facts) -> Evidence:
    """vLLM cannot load the model as asked on this hardware, while Ollama (GGUF) fits in VRAM."""
    vllm, ollama = f.vllm_estimate(), f.ollama_estimate()
    if f.cpu_only or f.apple or not vllm or vllm.get("fits") or not ollama.get("fits_in_vram"):
        return None
    return {
        "model": f.model_label,
        "hardware": f.hardware_label,
        "weights": gib((f.estimate or {}).get("weights_bytes")),
        "ollama_memory": gib(ollama.get("memory_bytes")),
    }


def ollama_spills(f: Facts) -> Evidence:
    """Ollama would keep only part of the layers on the GPU while vLLM fits."""
    vllm, ollama = f.vllm_estimate(), f.ollama_estimate()
    total, on_gpu = ollama.get("total_layers"), ollama.get("gpu_layers")
    if f.cpu_only or f.apple or not vllm.get("fits") or not total or on_gpu is None:
        return None
    if on_gpu >= total:
        return None
    return {"gpu_layers": on_gpu, "total_layers": total, "hardware": f.hardware_label}


def windows(f: Facts) -> Evidence:
    return {"platform": "Windows"} if f.platform == Platform.WINDOWS else None


# ---- workload ------------------------------------------------------------------------------------


def _predicted_p95(f: Facts, backend: Backend) -> str:
    level = f.predicted(backend).at(f.users)
    return ms(metric(level, "e2el_ms"))


def users_above_handful(f: Facts) -> Evidence:
    if f.users <= HANDFUL_USERS:
        return None
    return {
        "users": f.users,
        "threshold": HANDFUL_USERS,
        "queued": f.users - 1,
        "ollama_p95": _predicted_p95(f, Backend.OLLAMA),
        "vllm_p95": _predicted_p95(f, Backend.VLLM),
        "prediction": _prediction_text(f),
    }


def _prediction_text(f: Facts) -> str:
    ollama, vllm = _predicted_p95(f, Backend.OLLAMA), _predicted_p95(f, Backend.VLLM)
    if ollama == "n/a" and vllm == "n/a":
        return ""
    if vllm == "n/a":
        return f" (predicted p95 on Ollama: {ollama})"
    if ollama == "n/a":
        return f" (predicted p95 on vLLM: {vllm})"
    return f" (predicted p95 {ollama} on Ollama vs {vllm} on vLLM)"


def users_many(f: Facts) -> Evidence:
    return {"users": f.users, "threshold": MANY_USERS} if f.users > MANY_USERS else None


def users_beyond_ollama(f: Facts) -> Evidence:
    if f.users <= OLLAMA_CONCURRENCY_LIMIT:
        return None
    return {"users": f.users, "threshold": OLLAMA_CONCURRENCY_LIMIT}


def single_user(f: Facts) -> Evidence:
    if f.users != 1:
        return None
    return {"users": 1, "gap": f"{SINGLE_STREAM_GAP:.0%}"}


def few_users(f: Facts) -> Evidence:
    if not 1 < f.users <= HANDFUL_USERS:
        return None
    return {"users": f.users, "threshold": HANDFUL_USERS}


def prototype(f: Facts) -> Evidence:
    return {"use_case": "prototype"} if f.answers.use_case == UseCase.PROTOTYPE else None


def production(f: Facts) -> Evidence:
    return {"use_case": "production"} if f.answers.use_case == UseCase.PRODUCTION else None


def production_slos(f: Facts) -> Evidence:
    slos = f.answers.slos
    if f.answers.use_case != UseCase.PRODUCTION or not slos:
        return None
    listed = ", ".join(f"{SLO_LABELS[k]} {ms(v)}" for k, v in slos.items())
    return {"slos": listed}


def _slo_misses(level: dict | None, slos: dict[str, float]) -> list[str]:
    misses = []
    for key, target in slos.items():
        value = metric(level, SLO_METRICS[key], "p95")
        if value is not None and value > target:
            misses.append(f"{SLO_LABELS[key]} p95 {ms(value)} > {ms(target)}")
    return misses


def predicted_slo_miss(f: Facts) -> Evidence:
    """The model predicts Ollama misses a target at some load up to the peak where vLLM meets it."""
    slos = f.answers.slos
    ollama, vllm = f.predicted(Backend.OLLAMA), f.predicted(Backend.VLLM)
    if not slos or not ollama or not vllm:
        return None
    for level in reversed(at_your_load(ollama, f.users)):  # quote the level nearest your peak
        concurrency = level["concurrency"]
        misses = _slo_misses(level, slos)
        if misses and not _slo_misses(vllm.at(concurrency), slos) and vllm.at(concurrency):
            return {"concurrency": concurrency, "misses": "; ".join(misses)}
    return None


# ---- features and operations ---------------------------------------------------------------------


def multi_lora(f: Facts) -> Evidence:
    adapters = f.answers.lora_adapters
    if Feature.MULTI_LORA not in f.answers.features and adapters < MULTI_LORA_ADAPTERS:
        return None
    return {"adapters": adapters or "several"}


def _feature(feature: Feature):
    def check(f: Facts) -> Evidence:
        return {"feature": feature.value} if feature in f.answers.features else None

    check.__name__ = f"feature_{feature.value}"
    return check


speculative_decoding = _feature(Feature.SPECULATIVE_DECODING)
metrics_endpoint = _feature(Feature.METRICS)
structured_output = _feature(Feature.STRUCTURED_OUTPUT)


def kubernetes(f: Facts) -> Evidence:
    asked = Feature.KUBERNETES in f.answers.features
    target = f.answers.deployment_target == DeploymentTarget.KUBERNETES
    if not asked and not target:
        return None
    return {"why": "deployment target" if target else "feature"}


def no_python_docker(f: Facts) -> Evidence:
    skills = set(f.answers.team_skills)
    if Skill.PYTHON in skills or Skill.DOCKER in skills:
        return None
    return {"skills": ", ".join(sorted(skills)) or "none listed"}


def team_ready(f: Facts) -> Evidence:
    skills = set(f.answers.team_skills)
    if not {Skill.PYTHON, Skill.DOCKER} <= skills:
        return None
    return {"skills": ", ".join(s.value for s in f.answers.team_skills)}


def _target(target: DeploymentTarget):
    def check(f: Facts) -> Evidence:
        return {"target": target.value} if f.answers.deployment_target == target else None

    check.__name__ = f"target_{target.value}"
    return check


laptop = _target(DeploymentTarget.LAPTOP)
workstation = _target(DeploymentTarget.WORKSTATION)
server = _target(DeploymentTarget.SERVER)


# ---- measured ------------------------------------------------------------------------------------


def _ratio_levels(side: Side, peak: int) -> tuple[float | None, list[tuple[dict, float]]]:
    """Single-user p95 E2E and, for each level at your load above 1, its p95 / single-user ratio."""
    base = metric(side.single(), "e2el_ms")
    if base is None:
        return None, []
    rows = []
    for level in at_your_load(side, peak):
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
    for level in at_your_load(f.measured(Backend.OLLAMA), f.users):
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
    if not slos or not side or _slo_misses(side.single(), slos):
        return None
    for level in at_your_load(side, f.users):
        misses = _slo_misses(level, slos)
        if level["concurrency"] > 1 and misses:
            return {"concurrency": level["concurrency"], "misses": "; ".join(misses)}
    return None


def measured_ollama_holds(f: Facts) -> Evidence:
    """Measured at (or above) the peak, Ollama's p95 stays under 2x single-user, no failures, SLOs met."""
    side = f.measured(Backend.OLLAMA)
    levels = at_your_load(side, f.users)
    if not levels or (levels[-1].get("concurrency") or 0) < f.users:
        return None
    base, rows = _ratio_levels(side, f.users)
    if base is None or any(ratio >= DEGRADED_P95_RATIO for _, ratio in rows):
        return None
    if any(
        failure_rate(lvl) > MAX_FAILURE_RATE or _slo_misses(lvl, f.answers.slos) for lvl in levels
    ):
        return None
    worst = max((ratio for _, ratio in rows), default=1.0)
    return {"concurrency": levels[-1]["concurrency"], "ratio": f"{worst:.1f}", "single": ms(base)}


def measured_vllm_failures(f: Facts) -> Evidence:
    for level in at_your_load(f.measured(Backend.VLLM), f.users):
        if failure_rate(level) > MAX_FAILURE_RATE:
            return {"concurrency": level["concurrency"], "rate": f"{failure_rate(level):.0%}"}
    return None


# ---- cost ----------------------------------------------------------------------------------------


def hourly_cost(f: Facts) -> float | None:
    """Dollars per hour for the serving hardware (the user's price, else the catalog's)."""
    if f.cpu_only or not f.gpu:
        return None
    price = f.answers.gpu_hourly_cost_usd
    if price is None:
        price = f.gpu.get("hourly_usd")
    return float(price) * max(f.gpu_count, 1) if price is not None else None


def cost_per_million(hourly: float, tokens_per_s: float) -> float:
    return hourly / (tokens_per_s * 3600) * 1_000_000


def cost_rows(f: Facts) -> list[dict]:
    """Per level at your load where both servers have a throughput: $/1M output tokens each."""
    hourly = hourly_cost(f)
    if hourly is None:
        return []
    rows = []
    measured = {b: f.measured(b) for b in Backend}
    predicted = {b: f.predicted(b) for b in Backend}
    levels = {lvl["concurrency"] for lvl in at_your_load(predicted[Backend.OLLAMA], f.users)}
    levels |= {lvl["concurrency"] for lvl in at_your_load(measured[Backend.OLLAMA], f.users)}
    for c in sorted(levels):
        both_measured = all(throughput(measured[b].at(c)) for b in Backend)
        source = measured if both_measured else predicted
        tput = {b: throughput(source[b].at(c)) for b in Backend}
        if all(tput.values()):
            cost = {b: cost_per_million(hourly, tput[b]) for b in Backend}
            kind = "measured" if both_measured else "predicted"
            rows.append({"concurrency": c, "source": kind, "cost": cost})
    return rows


def _cost_evidence(row: dict, cheaper: Backend) -> dict:
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
    for row in reversed(cost_rows(f)):  # quote the level nearest your peak
        if row["cost"][Backend.OLLAMA] >= COST_RATIO * row["cost"][Backend.VLLM]:
            return _cost_evidence(row, Backend.VLLM)
    return None


def ollama_cheaper(f: Facts) -> Evidence:
    rows = cost_rows(f)
    if rows and all(
        r["cost"][Backend.VLLM] >= COST_RATIO * r["cost"][Backend.OLLAMA] for r in rows
    ):
        return _cost_evidence(rows[-1], Backend.OLLAMA)
    return None
