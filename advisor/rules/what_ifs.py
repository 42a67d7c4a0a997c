"""The what-ifs the switch triggers try (``triggers.py``): each a change said in words, with the
answers it changes and the facts it gives.

Answer what-ifs change only answers and reuse the facts' capacity estimate (``Facts.with_answers``);
hardware what-ifs (a Mac, a Linux GPU server, one GPU instead of tensor parallelism) are checked
with the capacity model, a bounded number of runs each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from advisor.capacity import catalog
from advisor.errors import AdvisorError
from advisor.rules.alternatives import VLLM_SMALLER_FORMATS, reference_server
from advisor.rules.answers import custom_model_spec
from advisor.rules.assemble import facts_build
from advisor.rules.checks import SLO_LABELS, ms
from advisor.rules.facts import Facts
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
    MULTI_LORA_ADAPTERS,
    PREDICTION_LEVELS,
    REFERENCE_GPU,
)

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
        # Every standard level: the users search asks this server at counts far from the
        # user's own, and the cost rules price only loads the estimate predicts around.
        levels = tuple(sorted({*PREDICTION_LEVELS, *prediction_levels(facts.users)}))
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
                a.on_other_setup(**changes),
                hardware_report=facts.hardware,
                load_tests=facts.load_tests,
            )
        except AdvisorError:
            continue
        return WhatIf("one_gpu", text, changes, changed)
    return None


def merge(facts: Facts, what_ifs: list[WhatIf]) -> WhatIf | None:
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
