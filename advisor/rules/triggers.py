"""Switch triggers: what would change the verdict, each a what-if re-decided by ``verdict.decide``.

Every verdict gets them, toward the other server, and a trigger is listed only when ``decide`` on
the changed facts really gives the other server (nothing here is a hand-written claim):

- **users**: the exact peak-user count where the verdict flips (a search: the verdict is monotone
  in users, docs/rules.md). When fewer users alone never flip a vLLM verdict (or more users an
  Ollama one), the count together with one other answer that must change with it ("at most 4
  peak concurrent users and you no longer need several LoRA adapters"), each re-decided.
- **hardware**, checked with the capacity model: serving from a Mac (vLLM -> Ollama; the smallest
  catalog Mac whose memory holds the model on Ollama); a Linux server with the reference GPU
  (Mac or CPU only -> vLLM, with the users it takes); a smaller format or a smaller model of the
  same family that fits one GPU (tensor parallelism -> Ollama, with the users it takes).
- **answers**: each latency target dropped, each feature removed or added, another use case,
  deployment target, team skills or OS. A requirement (Mac, CPU only, tensor parallelism) is not
  moved by weighed answers, so these are tried only for a weighed verdict.
- **measured**: for Ollama, the mildest load test at the peak that would flip it; for vLLM, a load
  test showing Ollama holding the peak.

Each trigger is ``{id, condition, becomes, message, threshold?, what_if?}``: ``threshold`` is the
numeric flip point, ``what_if`` the answers to change (JSON; None clears an answer), absent for a
measurement. Cost: answer-only what-ifs reuse the facts' capacity estimate (``Facts.with_answers``,
no re-estimate); the hardware what-ifs run the capacity model a bounded number of times
(``MAX_MAC_ESTIMATES``; ``MAX_ONE_GPU_CANDIDATES`` and one ``facts_build`` of the chosen one;
the reference server's 1-4 per weight format, ``MAX_GPU_SERVER_ESTIMATES``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from advisor.capacity import catalog
from advisor.errors import AdvisorError
from advisor.rules.alternatives import VLLM_SMALLER_FORMATS, reference_server
from advisor.rules.answers import custom_model_spec
from advisor.rules.assemble import facts_build
from advisor.rules.checks import SLO_LABELS, ms
from advisor.rules.facts import Facts, metric
from advisor.rules.questions import (
    AUTO,
    DeploymentTarget,
    Feature,
    Platform,
    Skill,
    UseCase,
)
from advisor.rules.sizing import fits, prediction_levels, run_estimate
from advisor.rules.thresholds import (
    COLLAPSE_P95_RATIO,
    DEGRADED_P95_RATIO,
    MAX_FAILURE_RATE,
    MULTI_LORA_ADAPTERS,
    REFERENCE_GPU,
)
from advisor.rules.verdict import Verdict, decide
from probes.kinds import Backend

MAX_USERS_SEARCHED = 100_000  # the questionnaire's bound on peak_concurrent_users
MAX_COMBINED = 2  # "users and another change" triggers listed when users alone never flip
MAX_ONE_GPU_CANDIDATES = 4  # capacity estimates for "fits one GPU": smaller formats, then models
MAX_MAC_ESTIMATES = 5  # a bisection over the catalog's Mac memory sizes (10 distinct today)
MAX_GPU_SERVER_ESTIMATES = 4 * (1 + len(VLLM_SMALLER_FORMATS))  # 1, 2, 4, 8 GPUs per format

# What each feature is, said after "you need" / "you no longer need" (structured output is a
# note on both servers, so it can never flip a verdict and is not tried).
FEATURE_TEXTS = {
    Feature.MULTI_LORA: "several LoRA adapters on one base model",
    Feature.METRICS: "Prometheus metrics",
    Feature.KUBERNETES: "Kubernetes",
    Feature.SPECULATIVE_DECODING: "speculative decoding",
}
USE_CASE_TEXTS = {
    UseCase.PROTOTYPE: "it stays a prototype",
    UseCase.INTERNAL: "it is an internal tool for a team",
    UseCase.PRODUCTION: "it becomes user-facing production",
}
TARGET_TEXTS = {
    DeploymentTarget.LAPTOP: "it must run on a laptop",
    DeploymentTarget.WORKSTATION: "it runs on a workstation",
    DeploymentTarget.SERVER: "it moves to a server",
    DeploymentTarget.KUBERNETES: "it deploys to Kubernetes",
}
SKILLS_READY = (Skill.PYTHON, Skill.DOCKER)


@dataclass(frozen=True)
class WhatIf:
    """One change, said in words, with the answers it changes and the facts it gives."""

    id: str
    text: str  # completes "if ...": "you drop the TTFT target (500 ms)"
    changes: dict[str, Any]  # answer field -> new value (None clears it)
    facts: Facts

    def answers_json(self) -> dict[str, Any]:
        """The answers to change, JSON-safe as ``Answers.as_dict`` writes them."""
        return {name: _json(value) for name, value in self.changes.items()}


def _json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [str(v) for v in value]
    return value.value if isinstance(value, StrEnum) else value


def _answers_what_if(facts: Facts, wid: str, text: str, **changes: Any) -> WhatIf | None:
    """The what-if that changes only answers (the estimate is reused); None when nothing changes.
    An OS change also changes the effective platform the rules read."""
    if all(getattr(facts.answers, name) == value for name, value in changes.items()):
        return None
    changed = facts.with_answers(**changes)
    if "platform" in changes:
        changed = dataclasses.replace(changed, platform=changes["platform"])
    return WhatIf(wid, text, changes, changed)


def _with_users(what_if: WhatIf, users: int) -> Facts:
    return what_if.facts.with_answers(peak_concurrent_users=users)


# ---- the users search ----------------------------------------------------------------------------


def backend_at(facts: Facts, users: int) -> Backend:
    return decide(facts.with_answers(peak_concurrent_users=users)).backend


def first_vllm_count(facts: Facts, ollama_at: int, vllm_at: int | None = None) -> int | None:
    """The smallest peak-user count above ``ollama_at`` (which gives Ollama) that gives vLLM.

    Searches up to ``vllm_at`` when it is known to give vLLM, else up to ``MAX_USERS_SEARCHED``
    (None when even that gives Ollama). It gallops up from ``ollama_at`` (+1, +2, +4...) before
    bisecting, because the flip is usually a few users away: ~5 re-decisions instead of ~17 for a
    bisection up to the bound (both find the same count, the verdict being monotone in users).
    """
    high = vllm_at
    if high is None:
        if backend_at(facts, MAX_USERS_SEARCHED) is Backend.OLLAMA:
            return None
        high = MAX_USERS_SEARCHED
    low, step = ollama_at, 1
    while low + step < high:
        probe = low + step
        if backend_at(facts, probe) is Backend.VLLM:
            high = probe
            break
        low, step = probe, step * 2
    while high - low > 1:  # invariant: Ollama at low, vLLM at high
        mid = (low + high) // 2
        low, high = (mid, high) if backend_at(facts, mid) is Backend.OLLAMA else (low, mid)
    return high


def users_flip_point(facts: Facts, verdict: Verdict) -> int | None:
    """The peak-user count at which the answer changes, all else equal; None if it never does.

    For Ollama, the smallest count that gives vLLM; for vLLM, the largest count that gives Ollama
    (None when vLLM wins even at one user). A requirement is not moved by users: None.
    """
    if verdict.required:
        return None
    if verdict.backend is Backend.OLLAMA:
        return first_vllm_count(facts, facts.users)
    if backend_at(facts, 1) is Backend.VLLM:
        return None
    first = first_vllm_count(facts, 1, facts.users)
    return None if first is None else first - 1


def _users_text(backend: Backend, count: int) -> str:
    """The users part of a condition, toward the other server of ``backend``."""
    if backend is Backend.OLLAMA:
        return f"peak concurrent users of {count} or more"
    if count == 1:
        return "a single user at a time"
    return f"peak concurrent users of {count} or fewer"


def _users_with(what_if: WhatIf, backend: Backend, users: int) -> int | None:
    """The flip count under ``what_if`` for a verdict on ``backend`` that users alone never flip:
    for vLLM the most users that still give Ollama, for Ollama the fewest that give vLLM. None
    when the change does not need users (it flips at any load) or users cannot help."""
    if backend is Backend.VLLM:
        if backend_at(what_if.facts, 1) is Backend.VLLM:
            return None
        first = first_vllm_count(what_if.facts, 1)
        return None if first is None else first - 1
    if backend_at(what_if.facts, users) is Backend.VLLM:
        return None  # the change alone flips it: listed on its own
    return first_vllm_count(what_if.facts, users)


def _combined(what_if: WhatIf, backend: Backend, count: int) -> dict[str, Any]:
    return _trigger(
        f"users+{what_if.id}",
        f"{_users_text(backend, count)} and {what_if.text}",
        backend.other,
        threshold=count,
        what_if={"peak_concurrent_users": count, **what_if.answers_json()},
    )


def _trigger(wid: str, condition: str, becomes: Backend, **extra: Any) -> dict[str, Any]:
    return {"id": wid, "condition": condition, "becomes": becomes.value, **extra}


# ---- what-ifs over the answers -------------------------------------------------------------------


def answer_what_ifs(facts: Facts) -> list[WhatIf]:
    """Every one-answer change worth trying: each latency target dropped (and all of them), each
    feature removed or added, the other use cases, deployment targets, team skills and OS."""
    a = facts.answers
    out: list[WhatIf | None] = []
    for key, slo in a.slos.items():
        text = f"you drop the {SLO_LABELS[key]} target ({ms(slo)})"
        out.append(_answers_what_if(facts, f"no_slo:{key}", text, **{key: None}))
    if len(a.slos) > 1:
        text = "you drop every latency target"
        out.append(_answers_what_if(facts, "no_slos", text, **dict.fromkeys(a.slos)))
    order = list(Feature)
    for feature, said in FEATURE_TEXTS.items():
        lora = feature is Feature.MULTI_LORA and a.lora_adapters >= MULTI_LORA_ADAPTERS
        if feature in a.features or lora:
            changes: dict[str, Any] = {"features": tuple(f for f in a.features if f is not feature)}
            if feature is Feature.MULTI_LORA:
                changes["lora_adapters"] = min(a.lora_adapters, 1)
            wid, text = f"no_feature:{feature.value}", f"you no longer need {said}"
        else:
            changes = {"features": tuple(sorted((*a.features, feature), key=order.index))}
            wid, text = f"features:{feature.value}", f"you need {said}"
        out.append(_answers_what_if(facts, wid, text, **changes))
    for use_case, text in USE_CASE_TEXTS.items():
        out.append(_answers_what_if(facts, f"use_case:{use_case.value}", text, use_case=use_case))
    for target, text in TARGET_TEXTS.items():
        wid = f"deployment_target:{target.value}"
        out.append(_answers_what_if(facts, wid, text, deployment_target=target))
    ready = "your team is comfortable with Python and Docker"
    out.append(
        _answers_what_if(facts, "team_skills:python+docker", ready, team_skills=SKILLS_READY)
    )
    nobody = "nobody on the team knows Python or Docker"
    out.append(_answers_what_if(facts, "team_skills:", nobody, team_skills=()))
    if not facts.apple and facts.platform != Platform.MACOS:
        if facts.platform == Platform.WINDOWS:
            os_text, os_to = "you serve from Linux", Platform.LINUX
        else:
            os_text, os_to = "you serve from Windows", Platform.WINDOWS
        out.append(_answers_what_if(facts, f"platform:{os_to.value}", os_text, platform=os_to))
    return [w for w in out if w is not None]


# ---- what-ifs over the hardware (checked with the capacity model) --------------------------------


def _model_spec(facts: Facts) -> Any:
    """The model's capacity spec, None when it cannot be resolved (then no hardware what-if)."""
    a = facts.answers
    try:
        if a.custom_model is not None:
            return custom_model_spec(a.custom_model, a.model)
        return catalog.resolve_model(a.model)
    except AdvisorError:
        return None


def _estimate(facts: Facts, model: Any, gpu: Any, count: int, quant: str, levels: Any) -> Any:
    try:
        return run_estimate(facts.answers, model, gpu, count, quant, levels)
    except AdvisorError:
        return None


def _hardware_what_if(
    facts: Facts, wid: str, text: str, changes: dict[str, Any], **facts_changes: Any
) -> WhatIf:
    """Answers and hardware changed together; the estimate given is the one for the new hardware
    (the smaller Ollama sizings and "what would fit" belong to the old one and are dropped)."""
    changed = dataclasses.replace(
        facts.with_answers(**changes),
        ollama_sizings=(),
        alternatives=(),
        reference=None,
        **facts_changes,
    )
    return WhatIf(wid, text, changes, changed)


def mac_what_if(facts: Facts) -> WhatIf | None:
    """Serving from the smallest catalog Mac whose memory holds the model on Ollama (bisection
    over the distinct memory sizes, at most ``MAX_MAC_ESTIMATES`` estimates)."""
    model = _model_spec(facts)
    if model is None:
        return None
    sizes: dict[int, Any] = {}
    for gpu in sorted(catalog.list_gpus(), key=lambda g: (g.memory_bytes, g.id)):
        if gpu.unified_memory:
            sizes.setdefault(gpu.memory_bytes, gpu)
    macs = list(sizes.values())
    found: tuple[Any, Any] | None = None
    low, high = 0, len(macs) - 1
    for _ in range(MAX_MAC_ESTIMATES):
        if low > high:
            break
        mid = (low + high) // 2
        est = _estimate(facts, model, macs[mid], 1, facts.answers.quantization, (1,))
        if est is not None and fits(est, "ollama"):
            found, high = (macs[mid], est), mid - 1
        else:
            low = mid + 1
    if found is None:
        return None
    mac, est = found
    text = f"you serve from a Mac (an {mac.name} holds {facts.model_label} on Ollama)"
    changes = {"platform": Platform.MACOS, "gpu": mac.id, "gpu_count": 1}
    return _hardware_what_if(
        facts, "mac", text, changes,
        platform=Platform.MACOS, gpu=mac.as_dict(), gpu_count=1, estimate=est,
    )  # fmt: skip


def gpu_server_what_if(facts: Facts) -> WhatIf | None:
    """Serving from Linux on the reference GPU (the fewest that hold the model): the estimate
    ``facts_build`` made for the warning when it made one, else made here, with each server's
    usual weights or, for a model too large for eight, a smaller format (4 estimates a format)."""
    reference, quant = facts.reference, AUTO
    if reference is None:
        model = _model_spec(facts)
        if model is None:
            return None
        levels = prediction_levels(facts.users)
        for quant in (AUTO, *VLLM_SMALLER_FORMATS):
            reference = reference_server(facts.answers, model, levels, quantization=quant)
            if reference is not None:
                break
        else:
            return None
    gpu = catalog.resolve_gpu(REFERENCE_GPU)
    count = int(reference["gpu_count"])
    est = {k: v for k, v in reference.items() if k not in ("gpu_name", "gpu_count")}
    where = gpu.name if count == 1 else f"{count}x {gpu.name}"
    if quant != AUTO:
        where += f" and {quant} weights"
    changes: dict[str, Any] = {"platform": Platform.LINUX, "gpu": gpu.id, "gpu_count": count}
    if facts.answers.quantization != quant:
        changes["quantization"] = quant
    return _hardware_what_if(
        facts, "gpu_server", f"you serve from a Linux server with {where}", changes,
        platform=Platform.LINUX, gpu=gpu.as_dict(), gpu_count=count, estimate=est,
    )  # fmt: skip


def one_gpu_what_if(facts: Facts) -> WhatIf | None:
    """A smaller weight format, else a smaller catalog model of the same family, that vLLM serves
    on one of these GPUs (no tensor parallelism) and Ollama holds in VRAM: the first of at most
    ``MAX_ONE_GPU_CANDIDATES`` the capacity model fits (one estimate at one user each). Its facts
    are built as a re-run with that answer would build them (``facts_build``: the estimate at the
    user's load and Ollama's smaller sizings; no "what would fit" search, everything fitting)."""
    model = _model_spec(facts)
    if model is None or not facts.gpu:
        return None
    gpu = catalog.resolve_gpu(facts.gpu["id"])
    a = facts.answers
    current = catalog.resolve_quantization(
        model.native_quantization if a.quantization == AUTO else a.quantization
    )
    candidates: list[tuple[Any, str]] = []
    for name in VLLM_SMALLER_FORMATS:
        if catalog.resolve_quantization(name).bits_per_weight < current.bits_per_weight:
            candidates.append((model, name))
    family = [
        m for m in catalog.list_models()
        if a.custom_model is None and m.family == model.family
        and m.params_total < model.params_total and m.max_context >= a.context_length
    ]  # fmt: skip
    family.sort(key=lambda m: (-m.params_total, m.id))
    candidates += [(m, a.quantization) for m in family]
    for candidate, quant in candidates[:MAX_ONE_GPU_CANDIDATES]:
        est = _estimate(facts, candidate, gpu, facts.gpu_count, quant, (1,))
        vllm = (est or {}).get("vllm") or {}
        one_gpu = vllm.get("fits") and (vllm.get("tensor_parallel_size") or 1) == 1
        if not one_gpu or not fits(est, "ollama"):
            continue
        if candidate is model:
            text = f"you serve {facts.model_label} with {quant} weights, which fit one {gpu.name}"
            changes: dict[str, Any] = {"quantization": quant}
        else:
            text = f"you serve {candidate.name} instead, which fits one {gpu.name}"
            changes = {"model": candidate.id}
        try:
            changed = facts_build(
                dataclasses.replace(a, **changes),
                hardware_report=facts.hardware,
                load_tests=facts.load_tests,
            )
        except AdvisorError:
            continue
        return WhatIf("one_gpu", text, changes, changed)
    return None


# ---- measurements --------------------------------------------------------------------------------


def _hypothetical_sweep(single_ms: float, users: int, ratio: float, failed: int) -> dict[str, Any]:
    """An Ollama load-test result with one user at ``single_ms`` and the peak at ``ratio`` x that."""

    def level(concurrency: int, p95: float, failures: int) -> dict[str, Any]:
        requests = 100
        return {"concurrency": concurrency, "requests": requests, "succeeded": requests - failures,
                "failed": failures, "e2el_ms": {"p50": p95, "p95": p95}}  # fmt: skip

    return {
        "target": {"kind": "ollama", "base_url": "hypothetical", "model": ""},
        "levels": [level(1, single_ms, 0), level(users, single_ms * ratio, failed * 2)],
    }


def _measured_triggers(facts: Facts, backend: Backend) -> list[dict[str, Any]]:
    """For Ollama, the mildest measurement at the peak that would flip it to vLLM; for vLLM, a
    measurement of Ollama holding the peak. Each checked by re-deciding with a load test showing
    exactly that (a what-if, not a promise)."""
    single = metric(facts.predicted(Backend.OLLAMA).single(), "e2el_ms") or 1_000.0
    users = facts.users
    at = f"at {users} concurrent users"
    if backend is Backend.VLLM:
        tries = [("measured_holds", 1.0, 0,
                  f"Ollama's p95 {at} under {DEGRADED_P95_RATIO:g}x single-user "
                  f"({ms(single * DEGRADED_P95_RATIO)}), with no failures and your targets met",
                  DEGRADED_P95_RATIO)]  # fmt: skip
    elif users > 1:
        tries = [
            ("measured_p95", DEGRADED_P95_RATIO * 1.01, 0,
             f"Ollama's p95 {at} above {DEGRADED_P95_RATIO:g}x single-user ({ms(single * DEGRADED_P95_RATIO)})",
             DEGRADED_P95_RATIO),
            ("measured_collapse", COLLAPSE_P95_RATIO * 1.01, 0,
             f"Ollama's p95 {at} above {COLLAPSE_P95_RATIO:g}x single-user ({ms(single * COLLAPSE_P95_RATIO)})",
             COLLAPSE_P95_RATIO),
            ("measured_failures", 1.0, 1,
             f"more than {MAX_FAILURE_RATE:.0%} failed requests on Ollama {at}", MAX_FAILURE_RATE),
        ]  # fmt: skip
    else:
        return []
    for wid, ratio, failed, text, threshold in tries:
        hypothetical = _hypothetical_sweep(single, users, ratio, failed)
        changed = facts.with_load_tests((*facts.load_tests, hypothetical))
        if decide(changed).backend is backend.other:
            condition = f"a load test shows {text}"
            return [_trigger(wid, condition, backend.other, threshold=threshold)]
    return []  # the mildest measurement that flips it is the one to watch


# ---- all together --------------------------------------------------------------------------------


def switch_triggers(facts: Facts, verdict: Verdict, flip: int | None) -> tuple[dict[str, Any], ...]:
    """What would change ``verdict`` (``flip``: its ``users_flip_point``), each re-decided: the
    users first, then the counts with another change, the single changes, the measurements."""
    backend, other = verdict.backend, verdict.backend.other
    users: list[dict[str, Any]] = []
    if flip is not None:
        fewer = {"peak_concurrent_users": flip}
        users.append(
            _trigger("users", _users_text(backend, flip), other, threshold=flip, what_if=fewer)
        )
    combined: list[dict[str, Any]] = []
    single: list[dict[str, Any]] = []
    for what_if in _hardware_what_ifs(facts, verdict):
        if decide(what_if.facts).backend is other:
            single.append(_single(what_if, other))
        elif verdict.required:  # a weighed verdict's users are searched with the answers below
            count = _users_with(what_if, backend, facts.users)
            if count is not None:
                combined.append(_combined(what_if, backend, count))
    measured: list[dict[str, Any]] = []
    if not verdict.required:
        what_ifs = answer_what_ifs(facts)
        if flip is None:
            combined += _combined_triggers(facts, backend, what_ifs)
        single += [_single(w, other) for w in what_ifs if decide(w.facts).backend is other]
        measured = _measured_triggers(facts, backend)
    out = users + combined + single + measured
    for trigger in out:
        trigger["message"] = f"{trigger['condition']}: {other.label}"
    return tuple(out)


def _hardware_what_ifs(facts: Facts, verdict: Verdict) -> list[WhatIf]:
    """vLLM: one GPU instead of tensor parallelism (when it is required), a Mac. Ollama required
    by a Mac or CPU only: a Linux GPU server. A weighed Ollama verdict: none (its hardware
    already runs vLLM)."""
    ids = {r.rule_id for r in verdict.required}
    makers: list[Callable[[Facts], WhatIf | None]] = []
    if verdict.backend is Backend.VLLM:
        if "constraint.tensor_parallel" in ids:
            makers.append(one_gpu_what_if)
        makers.append(mac_what_if)
    elif ids & {"constraint.macos", "constraint.cpu_only"}:
        makers.append(gpu_server_what_if)
    return [w for w in (make(facts) for make in makers) if w is not None]


def _single(what_if: WhatIf, becomes: Backend) -> dict[str, Any]:
    return _trigger(what_if.id, f"if {what_if.text}", becomes, what_if=what_if.answers_json())


def _combined_triggers(
    facts: Facts, backend: Backend, what_ifs: list[WhatIf]
) -> list[dict[str, Any]]:
    """Users alone never flip it: the answer changes that, with the right number of users, do.

    The first ``MAX_COMBINED`` changes that do on their own (the one with the most room first);
    when none does, the changes that each narrow the margin, added greedily (narrowest first)
    until together they do. Probed at one user for vLLM, at the most users searched for Ollama,
    where the users are most on the other server's side.
    """
    other = backend.other
    probe = 1 if backend is Backend.VLLM else MAX_USERS_SEARCHED

    def at_probe(f: Facts) -> tuple[Backend, float]:
        v = decide(f.with_answers(peak_concurrent_users=probe))
        return v.backend, v.scores[backend.value] - v.scores[other.value]

    base = at_probe(facts)[1]
    found: list[tuple[int, int, WhatIf]] = []
    narrowing: list[tuple[float, int, WhatIf]] = []
    for index, what_if in enumerate(what_ifs):
        flipped, margin = at_probe(what_if.facts)
        if flipped is other:
            count = _users_with(what_if, backend, facts.users)
            if count is not None:
                found.append((count, index, what_if))
                if len(found) == MAX_COMBINED:
                    break
        elif margin < base:
            narrowing.append((margin, index, what_if))
    if not found:
        chosen: list[WhatIf] = []
        for _, _, what_if in sorted(narrowing, key=lambda row: row[:2]):
            merged = _merge(facts, [*chosen, what_if])
            if merged is None:
                continue  # it changes an answer a chosen change already sets
            chosen.append(what_if)
            if at_probe(merged.facts)[0] is other:
                count = _users_with(merged, backend, facts.users)
                if count is not None:
                    found.append((count, 0, merged))
                break
    most_room = -1 if backend is Backend.VLLM else 1  # vLLM: most users first; Ollama: fewest
    found.sort(key=lambda row: (most_room * row[0], row[1]))
    return [_combined(what_if, backend, count) for count, _, what_if in found[:MAX_COMBINED]]


def _merge(facts: Facts, what_ifs: list[WhatIf]) -> WhatIf | None:
    """The answer what-ifs applied together (features added and removed, the fewest LoRA
    adapters); None when two of them set the same answer."""
    a = facts.answers
    features = set(a.features)
    changes: dict[str, Any] = {}
    for what_if in what_ifs:
        for name, value in what_if.changes.items():
            if name == "features":
                features -= set(a.features) - set(value)
                features |= set(value) - set(a.features)
            elif name == "lora_adapters":
                changes[name] = min(changes.get(name, value), value)
            elif name in changes:
                return None
            else:
                changes[name] = value
    if features != set(a.features):
        changes["features"] = tuple(f for f in Feature if f in features)
    texts = [w.text for w in what_ifs]
    text = texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} and {texts[-1]}"
    return _answers_what_if(facts, "+".join(w.id for w in what_ifs), text, **changes)
