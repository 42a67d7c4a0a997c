"""The explanation around a verdict: one-line summary, whether it fits, warnings.

The switch triggers (what would change the verdict, each re-decided) are in ``triggers.py``.
"""

from __future__ import annotations

from typing import Any

from advisor.rules.checks import ms
from advisor.rules.facts import Facts, metric
from advisor.rules.hardware import answers_override_report
from advisor.rules.questions import DeploymentTarget, Feature, Platform, Skill
from advisor.rules.thresholds import HANDFUL_USERS
from advisor.rules.verdict import Reason, Verdict
from probes.kinds import Backend


def summary(facts: Facts, backend: Backend, decisive: tuple[Reason, ...], label: str) -> str:
    lead = decisive[0].message if decisive else ""
    return f"{backend.label} ({label}). {lead}".strip()


def fit_summary(facts: Facts, backend: Backend) -> dict[str, Any]:
    """Does the model fit the hardware on each server, and if not, what would."""
    if facts.estimate is None:
        return {
            "known": False,
            "fits": None,
            "message": "No capacity estimate for this model and hardware.",
        }
    vllm, ollama = facts.vllm_estimate(), facts.ollama_estimate()
    vllm_fits = bool(vllm.get("fits")) and not facts.vllm_unavailable_on_cpu and not facts.apple
    ollama_in_vram = bool(ollama.get("fits_in_vram"))
    if facts.cpu_only:
        ram, need = facts.ram_bytes, ollama.get("memory_bytes")
        ollama_in_vram = ram is None or need is None or need <= ram
    fits = {Backend.VLLM: vllm_fits, Backend.OLLAMA: ollama_in_vram}
    hardware = "RAM" if facts.cpu_only else facts.hardware_label
    if fits[backend]:
        message = f"{facts.model_label} fits {hardware} on {backend.label}."
    elif any(fits.values()):
        message = (
            f"As asked, {facts.model_label} does not fit {backend.label} on {hardware}; "
            f"it fits {backend.other.label}."
        )
    else:
        message = f"{facts.model_label} does not fit {hardware} on either server."
    return {
        "known": True,
        "fits": fits[backend],
        "fits_at_all": any(fits.values()),
        "vllm_fits": vllm_fits,
        "ollama_fits": ollama_in_vram,
        "ollama_gpu_layers": ollama.get("gpu_layers"),
        "ollama_total_layers": ollama.get("total_layers"),
        "weights_bytes": (facts.estimate or {}).get("weights_bytes"),
        "message": message,
        "alternatives": [{**a, "message": a.get("description")} for a in facts.alternatives],
    }


def _alternatives_text(facts: Facts, server: Backend | None = None) -> str:
    options = [a for a in facts.alternatives if server is None or a.get("server") == server.value]
    if not options:
        return "no catalog alternative fits; a larger GPU or more GPUs are needed"
    return "; ".join(a["description"] for a in options[:4])


def _warning(wid: str, message: str, level: str = "warning") -> dict[str, Any]:
    return {"id": wid, "level": level, "message": message}


def warnings(
    facts: Facts, verdict: Verdict, fit: dict[str, Any], label: str, flip: int | None
) -> tuple[Any, ...]:
    backend, out = verdict.backend, []
    overridden = answers_override_report(facts.answers, facts.hardware)
    if overridden:
        out.append(_warning("answers_override_report", overridden))
    if verdict.conflict:
        rules = ", ".join(r.rule_id for r in verdict.required)
        out.append(
            _warning(
                "conflict",
                f"Your answers contradict each other ({rules}); {backend.label} wins because {verdict.required[0].message}",
            )
        )
    if not fit.get("known", True) and facts.estimate is None:
        out.append(
            _warning(
                "no_estimate", fit["message"] + " The verdict rests on your answers alone.", "info"
            )
        )
    elif fit.get("known") and not fit.get("fits_at_all"):
        out.append(
            _warning(
                "does_not_fit",
                f"{fit['message']} What would: {_alternatives_text(facts)}.",
                "error",
            )
        )
    elif fit.get("known") and not fit.get("fits"):
        out.append(
            _warning(
                "chosen_does_not_fit",
                f"{fit['message']} To serve it on {backend.label}: {_alternatives_text(facts, backend)}.",
            )
        )
    sole_option = facts.platform == Platform.MACOS or facts.apple or facts.vllm_unavailable_on_cpu
    if sole_option and facts.users > HANDFUL_USERS and backend is Backend.OLLAMA:
        out.append(_warning("sole_option_many_users", _sole_option_text(facts)))
    if backend is Backend.OLLAMA and facts.users > 1:
        out.append(
            _warning(
                "ollama_num_parallel",
                f"Set OLLAMA_NUM_PARALLEL={min(facts.users, HANDFUL_USERS)} (the default 1 serves one request at a time); each parallel slot reserves a full context of KV memory, num_ctx x num_parallel.",
                "info",
            )
        )
    ollama = facts.ollama_estimate()
    spilled = (
        ollama.get("total_layers") and (ollama.get("gpu_layers") or 0) < ollama["total_layers"]
    )
    if backend is Backend.OLLAMA and spilled and not facts.cpu_only and fit.get("fits_at_all"):
        out.append(
            _warning(
                "ollama_cpu_spill",
                f"Ollama keeps {ollama.get('gpu_layers')} of {ollama['total_layers']} layers on the GPU; the rest run on the CPU, several times slower.",
            )
        )
    max_conc = facts.vllm_estimate().get("max_concurrency")
    if (
        backend is Backend.VLLM
        and fit.get("fits")
        and max_conc is not None
        and max_conc < facts.users
    ):
        out.append(
            _warning(
                "vllm_kv_capacity",
                f"vLLM's KV cache holds about {max_conc:.1f} requests of {facts.answers.context_length} tokens at once; beyond that requests queue. Lower --max-model-len, use an fp8 KV cache or add GPUs to hold {facts.users}.",
            )
        )
    if backend is Backend.VLLM and facts.platform == Platform.WINDOWS:
        out.append(
            _warning(
                "vllm_windows",
                "vLLM has no native Windows build: run it under WSL2 or in a Linux container.",
            )
        )
    kube = (
        facts.answers.deployment_target == DeploymentTarget.KUBERNETES
        or Feature.KUBERNETES in facts.answers.features
    )
    if kube and Skill.KUBERNETES not in facts.answers.team_skills:
        out.append(
            _warning(
                "kubernetes_skills",
                "Kubernetes is the target but not a listed team skill: budget for learning it or use the compose bundle first.",
                "info",
            )
        )
    if label == "close call":
        where = ""
        if flip:
            side = "or more" if backend is Backend.OLLAMA else "or fewer"
            where = f" At {flip} {side} peak concurrent users it becomes {backend.other.label}."
        out.append(
            _warning(
                "close_call",
                f"Close call ({verdict.scores['vllm']:g} vs {verdict.scores['ollama']:g} for vLLM vs Ollama).{where} A load test at your peak settles it.",
            )
        )
    if not facts.load_tests and label != "high":
        out.append(
            _warning(
                "unmeasured",
                "No load test is attached: the latency figures are the capacity model's predictions.",
                "info",
            )
        )
    return tuple(out)


def _sole_option_text(facts: Facts) -> str:
    where = "a Mac" if facts.platform == Platform.MACOS or facts.apple else "CPU only"
    ollama_p95 = metric(facts.predicted(Backend.OLLAMA).at(facts.users), "e2el_ms")
    text = f"On {where}, Ollama is the only option of the two for {facts.users} concurrent users"
    if ollama_p95:
        text += f": predicted p95 {ms(ollama_p95)}"
    ref = facts.reference or {}
    ref_p95 = None
    for row in ref.get("performance") or ():
        if str(row.get("server")) == "vllm" and row.get("concurrency") == facts.users:
            ref_p95 = metric(row, "e2el_ms")
    if ref_p95:
        gpu = ref.get("gpu_name") or "one data-centre GPU"
        text += f"; a Linux server with {gpu} and vLLM would give about {ms(ref_p95)}"
    return text + "."
