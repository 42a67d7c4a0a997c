"""The conditions behind each rule: ``check(facts) -> evidence dict`` when the rule fires, else None.

Evidence values are what the rule's message quotes (already rounded for people) plus raw numbers
for machines. Load-dependent checks follow one discipline so that more users can only move the
verdict toward vLLM: evidence *for vLLM* fires when it holds at ANY level "at your load" (every
level up to the peak, plus the first level at or above it), evidence *for Ollama* only when it
holds at ALL of them (see ``Side.at_your_load``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.rules.facts import Facts, metric
from advisor.rules.questions import DeploymentTarget, Feature, Platform, Skill, UseCase
from advisor.rules.thresholds import (
    HANDFUL_USERS,
    MANY_USERS,
    MULTI_LORA_ADAPTERS,
    OLLAMA_CONCURRENCY_LIMIT,
    SINGLE_STREAM_GAP,
)
from probes.kinds import Backend

Evidence = dict[str, Any] | None
GIB = 1024**3
SLO_METRICS = {"slo_ttft_ms": "ttft_ms", "slo_tpot_ms": "tpot_ms", "slo_e2e_p95_ms": "e2el_ms"}
SLO_LABELS = {"slo_ttft_ms": "TTFT", "slo_tpot_ms": "TPOT", "slo_e2e_p95_ms": "E2E"}


def ms(value: float | None) -> str:
    """A latency for people: "850 ms", "4.8 s", "1.2 h"."""
    if value is None:
        return "n/a"
    if value >= 3_600_000:
        return f"{value / 3_600_000:.1f} h"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def gib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / GIB:.1f} GiB"


# ---- constraints ---------------------------------------------------------------------------------


def macos(f: Facts) -> Evidence:
    if f.platform != Platform.MACOS and not f.apple:
        return None
    return {"platform": "macOS", "hardware": f.gpu_name}


def cpu_only(f: Facts) -> Evidence:
    if not f.vllm_unavailable_on_cpu:
        return None
    ram = f.ram_bytes
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
    vllm, ollama = f.vllm_estimate(), f.ollama_plan()
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
    vllm, ollama = f.vllm_estimate(), f.ollama_plan()
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
    # Ollama as we set it (the serving plan's slots; without an estimate, as installed: one).
    slots = f.plan["ollama"]["num_parallel"] if f.plan else 1
    return {
        "users": f.users,
        "threshold": HANDFUL_USERS,
        "queued": f.users - 1,
        "slots": slots,
        "queued_tuned": max(0, f.users - slots),
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


def slo_misses(level: dict[str, Any] | None, slos: dict[str, float]) -> list[str]:
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
    for level in reversed(ollama.at_your_load(f.users)):  # quote the level nearest your peak
        concurrency = level["concurrency"]
        misses = slo_misses(level, slos)
        if misses and not slo_misses(vllm.at(concurrency), slos) and vllm.at(concurrency):
            return {"concurrency": concurrency, "misses": "; ".join(misses)}
    return None


# ---- features and operations ---------------------------------------------------------------------


def multi_lora(f: Facts) -> Evidence:
    adapters = f.answers.lora_adapters
    if Feature.MULTI_LORA not in f.answers.features and adapters < MULTI_LORA_ADAPTERS:
        return None
    return {"adapters": adapters or "several"}


def _feature(feature: Feature) -> Callable[[Facts], Evidence]:
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


def _target(target: DeploymentTarget) -> Callable[[Facts], Evidence]:
    def check(f: Facts) -> Evidence:
        return {"target": target.value} if f.answers.deployment_target == target else None

    check.__name__ = f"target_{target.value}"
    return check


laptop = _target(DeploymentTarget.LAPTOP)
workstation = _target(DeploymentTarget.WORKSTATION)
server = _target(DeploymentTarget.SERVER)


def _present(f: Facts, kind: str) -> str | None:
    """How the hardware report shows a server on the host: 'running at URL', 'installed', None."""
    report = f.hardware or {}
    for server in report.get("servers") or ():
        if server.get("kind") == kind:
            return f"running at {server.get('base_url')}"
    tool = (report.get("software") or {}).get(kind) or {}
    if tool.get("installed"):
        return f"installed ({tool.get('version')})" if tool.get("version") else "installed"
    return None


def _only_present(f: Facts, mine: str, other: str) -> Evidence:
    state = _present(f, mine)
    if state is None or _present(f, other) is not None:
        return None
    return {"state": state}


def ollama_present(f: Facts) -> Evidence:
    return _only_present(f, "ollama", "vllm")


def vllm_present(f: Facts) -> Evidence:
    return _only_present(f, "vllm", "ollama")
