"""Properties that hold for every input (hypothesis), on facts with hand-made evidence."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.rules.answers import DeploymentTarget, Feature, Skill, UseCase
from advisor.rules.recommend import recommend
from probes.kinds import Backend
from tests.rules.factories import answers, estimate, facts, level, load_test

PC_GPUS = (
    "h100-sxm-80gb",
    "a100-sxm-80gb",
    "l40s",
    "rtx-4090",
    "rtx-3060-12gb",
    "mi300x",
    "rx-7900-xtx",
)
LEVELS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def cases(draw, *, gpu_kind: str = "any"):
    """(answers kwargs, facts kwargs) for a random team; users are varied by the tests."""
    kind = draw(st.sampled_from(["pc", "mac", "cpu"])) if gpu_kind == "any" else gpu_kind
    ans = {
        "use_case": draw(st.sampled_from(list(UseCase))).value,
        "features": sorted(f.value for f in draw(st.sets(st.sampled_from(list(Feature))))),
        "team_skills": sorted(s.value for s in draw(st.sets(st.sampled_from(list(Skill))))),
        "deployment_target": draw(st.sampled_from(list(DeploymentTarget))).value,
        "lora_adapters": draw(st.sampled_from([0, 0, 1, 3, 10])),
        "slo_e2e_p95_ms": draw(st.sampled_from([None, 2_000.0, 10_000.0])),
    }
    fk: dict = {}
    if kind == "mac":
        ans.update(gpu="apple-m3-max")
        fk.update(gpu="apple-m3-max", platform="macos")
    elif kind == "cpu":
        ans.update(gpu=None, gpu_count=0)
        fk.update(gpu=None)
    else:
        gpu = draw(st.sampled_from(PC_GPUS))
        count = draw(st.sampled_from([1, 1, 2, 4, 8]))
        ans.update(
            gpu=gpu, gpu_count=count, platform=draw(st.sampled_from(["linux", "windows", "auto"]))
        )
        tp = draw(st.sampled_from([1, count])) if count > 1 else 1
        per_user = draw(st.sampled_from([1_000.0, 3_000.0]))
        perf = [level(c, per_user * c, server="ollama", tput=100) for c in LEVELS]
        perf += [level(c, per_user * (1 + c / 64), server="vllm", tput=90 * c) for c in LEVELS]
        est = estimate(tp=tp, vllm_fits=draw(st.booleans()) or tp > 1, performance=perf)
        fk.update(
            gpu=gpu,
            platform="linux" if ans["platform"] == "auto" else ans["platform"],
            estimate=est,
        )
    if kind != "cpu" and draw(st.booleans()):
        sweep = {1: 2_000.0, 4: draw(st.sampled_from([2_500.0, 9_000.0, 30_000.0])), 16: 60_000.0}
        fk["load_tests"] = [load_test("ollama", sweep)]
    return ans, fk


def verdict(ans: dict, fk: dict, users: int):
    return recommend(facts(answers(**ans, peak_concurrent_users=users), **fk))


@PROPERTY_SETTINGS
@given(case=cases(), users=st.integers(1, 300), more=st.integers(1, 5_000))
def test_it_never_flips_vllm_to_ollama_when_users_rise(case, users, more):
    ans, fk = case
    if verdict(ans, fk, users).backend is Backend.VLLM:
        assert verdict(ans, fk, users + more).backend is Backend.VLLM


@PROPERTY_SETTINGS
@given(case=cases(gpu_kind="mac"), users=st.integers(1, 100_000))
def test_it_never_gives_vllm_on_macos(case, users):
    ans, fk = case
    rec = verdict(ans, fk, users)
    assert rec.backend is Backend.OLLAMA
    assert [r.rule_id for r in rec.decisive] == ["constraint.macos"]


@PROPERTY_SETTINGS
@given(case=cases(gpu_kind="pc"), users=st.integers(1, 100_000))
def test_it_never_gives_ollama_when_tensor_parallelism_is_needed(case, users):
    ans, fk = case
    count = ans["gpu_count"]
    if count < 2:
        return
    fk = {
        **fk,
        "estimate": {
            **fk["estimate"],
            "vllm": {**fk["estimate"]["vllm"], "tensor_parallel_size": count, "fits": True},
        },
    }
    assert verdict(ans, fk, users).backend is Backend.VLLM


@PROPERTY_SETTINGS
@given(case=cases(), users=st.integers(1, 100_000))
def test_it_always_gives_a_decisive_reason_with_evidence(case, users):
    ans, fk = case
    rec = verdict(ans, fk, users)
    assert rec.decisive
    assert all(r.evidence and r.message and r.backend == rec.backend.value for r in rec.decisive)
    assert 0.5 <= rec.confidence <= 1.0


@PROPERTY_SETTINGS
@given(case=cases(gpu_kind="pc"), users=st.integers(1, 2_000))
def test_it_puts_the_users_trigger_where_the_verdict_really_flips(case, users):
    ans, fk = case
    rec = verdict(ans, fk, users)
    trigger = next((t for t in rec.switch_triggers if t["id"] == "users"), None)
    if trigger is None:
        return
    flipped = verdict(ans, fk, trigger["threshold"]).backend
    if rec.backend is Backend.OLLAMA:
        assert flipped is Backend.VLLM
        assert verdict(ans, fk, trigger["threshold"] - 1).backend is Backend.OLLAMA
    else:
        assert flipped is Backend.OLLAMA
        assert verdict(ans, fk, trigger["threshold"] + 1).backend is Backend.VLLM


REAL_GPUS = ("h100-sxm-80gb", "a100-40gb", "l40s", "rtx-4090", "rtx-3060-12gb", "mi300x")
REAL_MODELS = ("llama-3.1-8b", "qwen2.5-32b", "llama-3.1-70b", "mixtral-8x7b", "gemma-3-27b")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gpu=st.sampled_from(REAL_GPUS),
    count=st.sampled_from([1, 2, 4]),
    model=st.sampled_from(REAL_MODELS),
    use_case=st.sampled_from(list(UseCase)),
    slo=st.sampled_from([None, 3_000.0, 20_000.0]),
    users=st.integers(1, 64),
    more=st.integers(1, 2_000),
)
def test_it_never_flips_vllm_to_ollama_through_the_real_capacity_model(
    gpu, count, model, use_case, slo, users, more
):
    """Facts are rebuilt for each user count: new prediction levels, Ollama sized per user."""
    from advisor.rules.answers import Answers
    from advisor.rules.assemble import facts_build

    def backend(n: int) -> Backend:
        data = {"gpu": gpu, "gpu_count": count, "model": model, "use_case": use_case.value,
                "peak_concurrent_users": n, "slo_e2e_p95_ms": slo}  # fmt: skip
        ans = Answers.parse({k: v for k, v in data.items() if v is not None})
        rec = recommend(facts_build(ans))
        assert rec.decisive and all(r.evidence for r in rec.decisive)
        return rec.backend

    if backend(users) is Backend.VLLM:
        assert backend(users + more) is Backend.VLLM


def _catalog_ids():
    from advisor.capacity import catalog

    return [m.id for m in catalog.list_models()], [g.id for g in catalog.list_gpus()]


MODEL_IDS, GPU_IDS = _catalog_ids()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(MODEL_IDS),
    gpu=st.sampled_from(GPU_IDS),
    count=st.sampled_from([0, 1, 2, 8]),
    quantization=st.sampled_from(["auto", "fp8", "awq-int4", "Q4_K_M", "Q8_0"]),
    users=st.sampled_from([1, 3, 5, 50, 5_000]),
    context=st.sampled_from([2_048, 8_192, 32_768]),
    price=st.sampled_from([None, 0, 0.01, 900]),
    slo=st.sampled_from([None, 0.001, 50.0, 600_000]),
)
def test_it_gives_any_catalog_combination_a_verdict_or_a_field_error(
    model, gpu, count, quantization, users, context, price, slo
):
    """Never a crash: every model x GPU x format gives a JSON-safe verdict (or an AdvisorError)."""
    import json

    from advisor.errors import AdvisorError
    from advisor.rules.answers import Answers
    from advisor.rules.assemble import facts_build

    data = {"model": model, "gpu": gpu, "gpu_count": count, "quantization": quantization,
            "peak_concurrent_users": users, "context_length": context, "avg_prompt_tokens": 256,
            "gpu_hourly_cost_usd": price, "slo_ttft_ms": slo, "slo_tpot_ms": slo, "slo_e2e_p95_ms": slo}  # fmt: skip
    data = {k: v for k, v in data.items() if v is not None}
    try:
        answers = Answers.parse(data)
    except AdvisorError as exc:
        assert exc.field in {"gpu_count", "context_length"}  # a Mac with 2 GPUs, a short model
        return
    rec = recommend(facts_build(answers))
    json.dumps(rec.as_dict())
    assert rec.decisive and rec.fit


@pytest.mark.parametrize("gpu", ["rtx-3060-12gb", "rtx-4090", "l40s", "h100-sxm-80gb", "mi300x"])
def test_it_is_monotone_across_the_handful_where_ollama_sizing_changes(gpu):
    """Users 1..8 through the real model: Ollama's slots grow with users up to 4, so its predicted
    levels change; weighing every sizing up to the user's keeps the verdict monotone."""
    from advisor.rules.answers import Answers
    from advisor.rules.assemble import facts_build

    for model in ("llama-3.1-8b", "qwen2.5-7b", "qwen2.5-32b", "gemma-3-27b"):
        for extra in ({}, {"slo_e2e_p95_ms": 8_000}, {"use_case": "production"}, TEAM_READY):
            seen_vllm = False
            for users in range(1, 9):
                ans = Answers.parse(
                    {"gpu": gpu, "model": model, "peak_concurrent_users": users, **extra}
                )
                backend = recommend(facts_build(ans)).backend
                assert not (seen_vllm and backend is Backend.OLLAMA), (model, extra, users)
                seen_vllm = seen_vllm or backend is Backend.VLLM


TEAM_READY = {
    "use_case": "internal",
    "team_skills": ["python", "docker"],
    "deployment_target": "server",
}
