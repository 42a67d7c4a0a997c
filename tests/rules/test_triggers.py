"""Switch triggers: every verdict says what would change it, and each listed change really does."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.facts import metric
from advisor.rules.questions import Platform
from advisor.rules.recommend import recommend
from advisor.rules.verdict import decide
from probes.kinds import Backend
from tests.rules.factories import answers, estimate, facts, level, load_test
from tests.rules.test_properties import PROPERTY_SETTINGS, cases

TEAM = {
    "use_case": "production",
    "team_skills": ["python", "docker"],
    "deployment_target": "server",
}
HARDWARE_ANSWERS = {"gpu", "gpu_count", "platform", "model", "quantization"}


def _parse(data: dict) -> Answers:
    return Answers.parse({k: v for k, v in data.items() if v is not None})


def _applied(base: dict, trigger: dict) -> dict:
    """The questionnaire with the trigger's what-if applied (None clears an answer)."""
    return {**base, **trigger["what_if"]}


def _rerun(data: dict) -> Backend:
    """The verdict on those answers from scratch: new facts, new capacity estimate."""
    return recommend(facts_build(_parse(data))).backend


# ---- the reported cases: vLLM verdicts that listed nothing ---------------------------------------

REPORTED = {
    "200 users on an H100": {"gpu": "h100", "peak_concurrent_users": 200, **TEAM},
    "100 users on an MI300X with a 70B model":
        {"gpu": "mi300x", "model": "llama-3.1-70b", "peak_concurrent_users": 100, "slo_ttft_ms": 1_000,
         **TEAM},
    "multi-LoRA on an A100":
        {"gpu": "a100-sxm-80gb", "features": ["multi_lora"], "peak_concurrent_users": 3, **TEAM},
}  # fmt: skip


@pytest.mark.parametrize("data", REPORTED.values(), ids=REPORTED.keys())
def test_it_says_what_would_make_a_vllm_verdict_ollama(data):
    rec = recommend(facts_build(_parse(data)))
    assert rec.backend is Backend.VLLM
    toward_ollama = [t for t in rec.switch_triggers if t["becomes"] == "ollama"]
    assert toward_ollama
    counted = [t for t in toward_ollama if "threshold" in t]
    assert counted and all(isinstance(t["threshold"], int) for t in counted)
    assert any(t["id"] == "mac" for t in toward_ollama)
    for trigger in toward_ollama:
        assert _rerun(_applied(data, trigger)) is Backend.OLLAMA, trigger["condition"]


def test_it_names_the_change_that_must_come_with_fewer_users():
    """vLLM wins even at one user (multi-LoRA): the count comes with the change it needs."""
    data = {**REPORTED["multi-LoRA on an A100"], "use_case": "internal", "deployment_target": None}
    rec = recommend(facts_build(_parse(data)))
    combined = next(t for t in rec.switch_triggers if t["id"] == "users+no_feature:multi_lora")
    assert combined["condition"].startswith("peak concurrent users of 4 or fewer and ")
    assert combined["what_if"] == {"peak_concurrent_users": 4, "features": [], "lora_adapters": 0}
    one_more = {**_applied(data, combined), "peak_concurrent_users": combined["threshold"] + 1}
    assert _rerun(one_more) is Backend.VLLM  # the count is the flip point, not a bound


def test_it_combines_several_changes_when_no_single_one_is_enough():
    data = REPORTED["multi-LoRA on an A100"]  # in production on a server: one change is not enough
    rec = recommend(facts_build(_parse(data)))
    combined = [t for t in rec.switch_triggers if t["id"].startswith("users+")]
    assert [t["id"] for t in combined] == ["users+no_feature:multi_lora+use_case:prototype"]
    for trigger in combined:
        assert _rerun(_applied(data, trigger)) is Backend.OLLAMA


# ---- hardware what-ifs, checked through the capacity model ---------------------------------------


def test_it_names_the_format_that_lifts_tensor_parallelism():
    data = {"model": "llama-3.1-70b", "gpu": "a100-sxm-80gb", "gpu_count": 4, "use_case": "internal",
            "team_skills": ["python", "docker"]}  # fmt: skip
    rec = recommend(facts_build(_parse(data)))
    assert [r.rule_id for r in rec.decisive] == ["constraint.tensor_parallel"]
    one_gpu = next(t for t in rec.switch_triggers if t["id"] == "one_gpu")
    assert one_gpu["what_if"] == {"quantization": "fp8"}
    assert "fp8 weights, which fit one NVIDIA A100" in one_gpu["condition"]
    assert _rerun(_applied(data, one_gpu)) is Backend.OLLAMA


def test_it_counts_the_users_a_smaller_format_needs_when_it_alone_is_not_enough():
    data = {"model": "llama-3.1-70b", "gpu": "a100-sxm-80gb", "gpu_count": 4,
            "peak_concurrent_users": 50, "use_case": "internal"}  # fmt: skip
    rec = recommend(facts_build(_parse(data)))
    trigger = next(t for t in rec.switch_triggers if t["id"] == "users+one_gpu")
    assert trigger["what_if"]["quantization"] == "fp8" and trigger["threshold"] >= 1
    assert _rerun(_applied(data, trigger)) is Backend.OLLAMA


@pytest.mark.parametrize(
    "data",
    [
        {"gpu": "apple-m3-max", "deployment_target": "laptop"},
        {"gpu_count": 0, "model": "qwen2.5:3b"},
    ],
    ids=["a Mac", "CPU only"],
)
def test_it_counts_the_users_a_gpu_server_needs_for_a_mac_or_cpu_only(data):
    rec = recommend(facts_build(_parse(data)))
    trigger = next(t for t in rec.switch_triggers if t["id"] == "users+gpu_server")
    assert trigger["becomes"] == "vllm" and trigger["threshold"] == 5
    assert trigger["what_if"]["gpu"] == "h100-sxm-80gb"
    assert _rerun(_applied(data, trigger)) is Backend.VLLM
    fewer = {**_applied(data, trigger), "peak_concurrent_users": trigger["threshold"] - 1}
    assert _rerun(fewer) is Backend.OLLAMA


def test_it_names_the_smallest_mac_that_holds_the_model():
    data = REPORTED["100 users on an MI300X with a 70B model"]
    rec = recommend(facts_build(_parse(data)))
    mac = next(t for t in rec.switch_triggers if t["id"] == "mac")
    held = facts_build(_parse(_applied(data, mac))).ollama_plan()
    assert held["fits_in_vram"]
    smaller = {"apple-m1-max": "apple-m3-pro", "apple-m2-max": "apple-m1-max"}.get(
        mac["what_if"]["gpu"]
    )
    if smaller:  # the next Mac down does not hold it
        below = facts_build(_parse({**_applied(data, mac), "gpu": smaller})).ollama_plan()
        assert not below["fits_in_vram"]


# ---- answer what-ifs on hand-made facts ----------------------------------------------------------

NEUTRAL = {"use_case": "internal", "team_skills": ["python", "docker"], "gpu": "rtx-4090"}


def test_it_names_the_latency_target_whose_removal_flips_it():
    perf = [level(c, 1_500 * c, server="ollama") for c in (1, 2, 3, 4)]
    perf += [level(c, 1_600, server="vllm") for c in (1, 2, 3, 4)]
    ans = answers(peak_concurrent_users=3, slo_e2e_p95_ms=3_000, **NEUTRAL)
    case = facts(ans, gpu="rtx-4090", estimate=estimate(performance=perf))
    rec = recommend(case)
    assert rec.backend is Backend.VLLM
    dropped = next(t for t in rec.switch_triggers if t["id"] == "no_slo:slo_e2e_p95_ms")
    assert dropped["condition"] == "if you drop the E2E target (3.0 s)"
    assert dropped["what_if"] == {"slo_e2e_p95_ms": None}
    assert decide(case.with_answers(slo_e2e_p95_ms=None)).backend is Backend.OLLAMA


def test_it_names_a_measurement_of_ollama_holding_the_peak_for_vllm():
    case = facts(
        answers(peak_concurrent_users=3, features=["multi_lora"], **NEUTRAL), gpu="rtx-4090"
    )
    rec = recommend(case)
    assert rec.backend is Backend.VLLM
    holds = next(t for t in rec.switch_triggers if t["id"] == "measured_holds")
    assert "at 3 concurrent users under 2x single-user" in holds["condition"]
    held = load_test("ollama", {1: 1_000, 3: 1_000 * holds["threshold"] * 0.9})
    assert decide(case.with_load_tests((held,))).backend is Backend.OLLAMA


def _check_trigger(case, rec, base: dict, trigger: dict) -> None:
    """Apply the trigger as the user would and re-decide: it must give the other server, and a
    count must be the exact flip point."""
    becomes = Backend(trigger["becomes"])
    if trigger["id"].startswith("measured_"):
        single = metric(case.predicted(Backend.OLLAMA).single(), "e2el_ms") or 1_000.0
        users, ratio = case.users, trigger["threshold"]
        if trigger["id"] == "measured_failures":
            sweep = load_test("ollama", {1: single, users: single}, failed={users: 1})
        else:
            factor = 0.9 if becomes is Backend.OLLAMA else 1.01
            sweep = load_test("ollama", {1: single, users: single * ratio * factor})
        assert decide(case.with_load_tests((*case.load_tests, sweep))).backend is becomes
        return
    what_if = trigger["what_if"]
    assert not HARDWARE_ANSWERS - {"platform"} & what_if.keys()  # hand-made facts: answers only
    applied = _parse({**base, **what_if})
    changed = dataclasses.replace(case, answers=applied)
    if "platform" in what_if:
        changed = dataclasses.replace(changed, platform=Platform(what_if["platform"]))
    assert decide(changed).backend is becomes, trigger["condition"]
    if "peak_concurrent_users" in what_if:
        past = what_if["peak_concurrent_users"] + (1 if becomes is Backend.OLLAMA else -1)
        assert decide(changed.with_answers(peak_concurrent_users=past)).backend is rec.backend


@PROPERTY_SETTINGS
@given(case=cases(gpu_kind="pc"), users=st.integers(1, 300))
def test_it_lists_only_triggers_that_really_flip_the_verdict(case, users):
    ans, fk = case
    base = {"gpu": "h100-sxm-80gb", **ans, "peak_concurrent_users": users}
    built = facts(_parse(base), **fk)
    rec = recommend(built)
    assert rec.switch_triggers  # every verdict says what would change it
    for trigger in rec.switch_triggers:
        assert trigger["becomes"] == rec.backend.other.value
        assert trigger["message"].startswith(trigger["condition"])
        if trigger.get("what_if", {}).keys() & HARDWARE_ANSWERS - {"platform"}:
            continue  # another model, format or GPU: checked through the capacity model below
        _check_trigger(built, rec, base, trigger)


REAL = {
    "gpu": st.sampled_from(["h100-sxm-80gb", "a100-40gb", "l40s", "rtx-4090", "mi300x",
                            "apple-m3-max", None]),
    "count": st.sampled_from([1, 2, 4]),
    "model": st.sampled_from(["llama-3.1-8b", "qwen2.5-32b", "llama-3.1-70b", "gemma-3-27b"]),
    "users": st.sampled_from([1, 3, 5, 40, 200]),
    "use_case": st.sampled_from(["prototype", "internal", "production"]),
    "features": st.sampled_from([[], ["multi_lora"], ["metrics", "kubernetes"]]),
    "slo": st.sampled_from([None, 3_000.0]),
}  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**REAL)
def test_its_triggers_hold_when_the_answers_are_run_again_from_scratch(
    gpu, count, model, users, use_case, features, slo
):
    """Each what-if, applied to the questionnaire and run again through facts_build (a new
    capacity estimate at the new load), gives the other server.

    The users search builds the facts again at every count it probes (``Facts.rebuild``), so its
    flip points are exact too.
    """
    data = {"gpu": gpu, "gpu_count": 0 if gpu is None else 1 if "apple" in gpu else count,
            "model": model, "peak_concurrent_users": users, "use_case": use_case,
            "features": features, "slo_e2e_p95_ms": slo}  # fmt: skip
    rec = recommend(facts_build(_parse(data)))
    assert rec.switch_triggers
    for trigger in rec.switch_triggers:
        if "what_if" not in trigger:
            continue  # a measurement
        assert _rerun(_applied(data, trigger)).value == trigger["becomes"], trigger


def test_it_shrinks_the_weights_when_no_gpu_server_holds_the_model_as_it_is():
    """405B in bf16 needs more than eight H100s: the GPU server what-if serves it in fp8."""
    data = {"gpu_count": 0, "model": "llama-3.1-405b", "peak_concurrent_users": 200}
    rec = recommend(facts_build(_parse(data)))
    server = next(t for t in rec.switch_triggers if t["id"] == "gpu_server")
    assert server["what_if"] == {"platform": "linux", "gpu": "h100-sxm-80gb", "gpu_count": 8,
                                 "quantization": "fp8"}  # fmt: skip
    assert _rerun(_applied(data, server)) is Backend.VLLM
