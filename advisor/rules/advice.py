"""The explanation around a verdict: one-line summary, whether it fits, warnings.

The switch triggers (what would change the verdict, each re-decided) are in ``triggers.py``.
"""

from __future__ import annotations

import math
from typing import Any

from advisor.capacity.vllm import HeldLimit
from advisor.rules.checks import GIB, ms
from advisor.rules.facts import Facts, metric, vllm_unavailable
from advisor.rules.hardware import answers_override_report
from advisor.rules.measured_on import other_hardware_label
from advisor.rules.questions import DeploymentTarget, Feature, Platform, Skill
from advisor.rules.thresholds import (
    HANDFUL_USERS,
)
from advisor.rules.verdict import Reason, Verdict
from probes.kinds import Backend, backend_for_kind

# The rules size vLLM's KV cache at --kv-cache-dtype auto (16-bit for every catalog model); fp8
# stores one byte per element (vLLM docs, "Quantized KV Cache"), so it holds about twice the tokens.
KV_FP8_NAME = "an fp8 KV cache (--kv-cache-dtype fp8)"


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
    vllm, ollama = facts.vllm_estimate(), facts.ollama_plan()
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
        # vLLM cannot run on this hardware at all: no capacity box, no next steps for it.
        "vllm_unavailable": vllm_unavailable(facts),
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
    tuned = (facts.plan or {}).get("ollama")
    if backend is Backend.OLLAMA and facts.users > 1 and tuned and tuned["num_parallel"] > 1:
        out.append(
            _warning(
                "ollama_num_parallel",
                f"Set OLLAMA_NUM_PARALLEL={tuned['num_parallel']} (Ollama as installed serves one request at a time); each parallel slot reserves a full context of KV memory, num_ctx x num_parallel ({tuned['num_ctx']:,} x {tuned['num_parallel']}).",
                "info",
            )
        )
    ollama = facts.ollama_plan()
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
    if backend is Backend.VLLM and facts.estimate is not None:
        held = vllm_held_warning(facts)
        if held is not None:
            out.append(held)
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
    if facts.other_hardware:
        out.append(_warning("measured_on_other_hardware", _other_hardware_text(facts)))
    if not facts.load_tests and label != "high":
        which = "of this hardware " if facts.other_hardware else ""
        out.append(
            _warning(
                "unmeasured",
                f"No load test {which}is attached: the latency figures are the capacity model's predictions.",
                "info",
            )
        )
    return tuple(out)


def vllm_held_warning(facts: Facts) -> dict[str, Any] | None:
    """A warning when vLLM cannot run the user's peak of requests at once, else None.

    Sized at the workload's own requests (prompt + output, ``requests_held`` in the estimate):
    vLLM pages its KV cache, so ``max_model_len`` matters only when it is itself the limit.
    """
    vllm, plan = facts.vllm_estimate(), (facts.plan or {}).get("vllm")
    if not plan:
        return None
    held, users = plan["requests_held"], facts.users
    limit, tokens = HeldLimit(held["limit"]), held["request_tokens"]
    size = f"{tokens:,} tokens ({facts.answers.avg_prompt_tokens:,} prompt + {facts.answers.avg_output_tokens:,} output)"
    if limit is HeldLimit.DOES_NOT_START:
        return None  # the fit warnings say why vLLM does not start
    if limit is HeldLimit.MAX_MODEL_LEN:
        length = vllm["max_model_len"]
        if tokens > length:
            text = f"Your requests of {size} are longer than --max-model-len {length:,}: vLLM refuses them. Raise --max-model-len to at least {tokens:,}."
        else:
            longest = vllm["max_model_len_that_fits"]
            text = f"--max-model-len is the limit: vLLM refuses to start with {length}, because its KV cache cannot hold one request that long (at most {longest:,} tokens)."
            if held["slots_per_replica"]:
                shorter = max(tokens, longest // 1024 * 1024)  # whole k, as the estimate picks
                could = held["slots_per_replica"] * held["replicas"]
                text += f" Your requests are {size}: with --max-model-len {shorter} it starts and holds about {could:,} of them at once."
            fp8 = f" or {KV_FP8_NAME} (about twice the tokens)" if 2 * longest >= length else ""
            text += f" To keep {length:,} tokens: more GPUs{fp8}."
        return _warning("vllm_max_model_len", text)
    if held["held"] >= users:
        return None
    waiting = users - held["held"]
    over = f" over {held['replicas']} replicas" if held["replicas"] > 1 else ""
    queue = f"{waiting:,} ({waiting / users:.0%}) wait in its queue at your peak"
    room = math.floor(held["per_replica"])  # requests one engine's KV cache holds
    if limit is HeldLimit.MAX_NUM_SEQS:
        per_replica = math.ceil(users / held["replicas"])
        if room >= per_replica:
            remedy = f"raise --max-num-seqs to {per_replica:,}"
        else:
            remedy = f"raise --max-num-seqs and {_more_kv_cache(facts, room)}"
        text = f"vLLM runs at most {held['max_num_seqs']:,} requests at once per replica (max_num_seqs){over}: {held['held']:,} of your {users:,}; the other {queue}. Its KV cache has room for {room:,} requests of {size} per replica: to hold {users:,}, {remedy}."
        return _warning("vllm_max_num_seqs", text)
    remedy = _more_kv_cache(facts, room)
    if not facts.cpu_only:
        fp8_held = min(2 * room, held["max_num_seqs"]) * held["replicas"]
        fp8 = f"{KV_FP8_NAME} holds about twice as many ({fp8_held:,})"
        remedy = f"{fp8}, or {remedy}" if fp8_held >= users else f"{remedy}; {fp8}"
    text = f"vLLM's KV cache holds {held['held']:,} requests of {size} at once{over}: your {users:,} need about {held['kv_tokens_per_request'] * users:,} KV tokens, it has {held['kv_cache_tokens']:,}. The other {queue}. To hold {users:,}: {remedy}."
    return _warning("vllm_kv_capacity", text)


def _more_kv_cache(facts: Facts, room: int) -> str:
    """What holds the user's peak when one engine's KV cache has ``room`` of their requests: more
    GPUs (whole replicas), or on vLLM's CPU build more RAM for VLLM_CPU_KVCACHE_SPACE."""
    vllm, users = facts.vllm_estimate(), facts.users
    if facts.cpu_only:
        space = vllm["kv_cache_bytes"] / GIB
        wanted = math.ceil(space * users / max(room, 1))
        return f"set VLLM_CPU_KVCACHE_SPACE to about {wanted:,} (GiB of RAM; {space:g} here)"
    tp = int(vllm["tensor_parallel_size"])
    replicas = math.ceil(users / max(room, 1))
    split = f" ({replicas:,} replicas of tensor parallel {tp})" if tp > 1 else ""
    return f"use {replicas * tp:,} GPUs in all{split}"


def _other_hardware_text(facts: Facts) -> str:
    """Names each load test not used because it ran on other (or unknown) hardware."""
    named = []
    for result in facts.other_hardware:
        target = result.get("target") or {}  # hand-made results may lack it
        backend = backend_for_kind(target.get("kind"))
        server = backend.label if backend is not None else str(target.get("kind") or "a server")
        where = f" at {target['base_url']}" if target.get("base_url") else ""
        named.append(f"{server}{where}, {other_hardware_label(result)}")
    count = len(named)
    tests = "load test ran" if count == 1 else f"{count} load tests ran"
    setup = f" ({facts.setup.label})" if facts.setup is not None else ""
    return (
        f"Not used: {'this' if count == 1 else 'these'} {tests} on other hardware than this "
        f"recommendation's{setup}: {'; '.join(named)}. Measurements calibrate the predictions "
        "only on the same GPU model, GPU count, model and quantization; run the load test "
        "against a server on this hardware to measure it."
    )


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
