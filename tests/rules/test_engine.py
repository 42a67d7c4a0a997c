"""The verdict on hand-made facts: each judgement, how reasons are split, confidence, triggers."""

from __future__ import annotations

import json
import string

import pytest

from advisor.rules.recommend import confidence_label, recommend
from advisor.rules.table import RULES, RULES_BY_ID, Effect, rules_table
from advisor.rules.thresholds import CONSTRAINT_CONFIDENCE, HANDFUL_USERS
from advisor.rules.verdict import decide
from probes.kinds import Backend
from tests.rules.factories import answers, estimate, facts, level, load_test

NEUTRAL = {"use_case": "internal", "team_skills": ["python", "docker"], "gpu": "rtx-4090"}


def ids(reasons) -> list[str]:
    return [r.rule_id for r in reasons]


def test_it_gives_ollama_on_a_mac_whatever_the_load():
    rec = recommend(facts(answers(gpu="apple-m3-max", peak_concurrent_users=300, use_case="production"),
                          gpu="apple-m3-max", platform="macos"))  # fmt: skip
    assert rec.backend is Backend.OLLAMA
    assert ids(rec.decisive) == ["constraint.macos"]
    assert rec.confidence == CONSTRAINT_CONFIDENCE
    assert "workload.users_above_handful" in ids(rec.opposing)
    assert any(w["id"] == "sole_option_many_users" for w in rec.warnings)


def test_it_gives_ollama_for_cpu_only():
    rec = recommend(facts(answers(gpu=None, gpu_count=0), gpu=None))
    assert rec.backend is Backend.OLLAMA
    assert ids(rec.decisive) == ["constraint.cpu_only"]


def test_it_gives_vllm_when_the_model_needs_tensor_parallelism():
    ans = answers(model="llama-3.1-70b", gpu="a100-sxm-80gb", gpu_count=4)
    rec = recommend(facts(ans, gpu="a100-sxm-80gb", estimate=estimate(tp=4, weights_gib=131.4)))
    assert rec.backend is Backend.VLLM
    assert ids(rec.decisive) == ["constraint.tensor_parallel"]
    assert "--tensor-parallel-size 4" in rec.decisive[0].message
    assert rec.serving["tensor_parallel_size"] == 4


def test_it_gives_vllm_above_a_handful_of_users():
    rec = recommend(facts(answers(peak_concurrent_users=200, use_case="production")))
    assert rec.backend is Backend.VLLM
    assert ids(rec.decisive)[0] == "workload.users_above_handful"
    assert "200 peak concurrent users" in rec.decisive[0].message
    assert rec.decisive[0].evidence["users"] == 200


@pytest.mark.parametrize(
    ("users", "backend"), [(HANDFUL_USERS, Backend.OLLAMA), (HANDFUL_USERS + 1, Backend.VLLM)]
)
def test_it_flips_exactly_at_the_handful_threshold(users, backend):
    rec = recommend(facts(answers(peak_concurrent_users=users, **NEUTRAL), gpu="rtx-4090"))
    assert rec.backend is backend
    flip = [t for t in rec.switch_triggers if t["id"] == "users"][0]
    assert flip["threshold"] == (HANDFUL_USERS + 1 if backend is Backend.OLLAMA else HANDFUL_USERS)


def test_it_prefers_ollama_for_one_user_prototyping():
    rec = recommend(facts(answers(gpu="rtx-4090", deployment_target="laptop"), gpu="rtx-4090"))
    assert rec.backend is Backend.OLLAMA
    assert "workload.single_user" in ids(rec.decisive)
    assert "15%" in rec.decisive[0].message or "15%" in " ".join(r.message for r in rec.supporting)


def test_it_picks_the_fewest_decisive_reasons_that_outweigh_the_opposition():
    rec = recommend(facts(answers(peak_concurrent_users=3, features=["multi_lora", "metrics"], **NEUTRAL),
                          gpu="rtx-4090"))  # fmt: skip
    assert rec.backend is Backend.VLLM
    decisive = sum(r.weight for r in rec.decisive)
    assert decisive > sum(r.weight for r in rec.opposing)
    assert decisive - rec.decisive[-1].weight <= sum(r.weight for r in rec.opposing)  # fewest


def test_it_flips_to_vllm_on_measured_latency_collapse():
    sweep = load_test("ollama", {1: 2_000, 2: 4_100, 4: 25_000})
    ans = answers(peak_concurrent_users=4, **NEUTRAL)
    before = recommend(facts(ans, gpu="rtx-4090"))
    after = recommend(facts(ans, gpu="rtx-4090", load_tests=[sweep]))
    assert before.backend is Backend.OLLAMA and after.backend is Backend.VLLM
    assert "measured.collapse" in ids(after.decisive)
    collapse = RULES_BY_ID["measured.collapse"].check(
        facts(ans, gpu="rtx-4090", load_tests=[sweep])
    )
    assert collapse["ratio"] == "12.5" and collapse["concurrency"] == 4


def test_it_counts_llamacpp_as_the_ollama_side_and_cites_failures():
    sweep = load_test("llamacpp", {1: 2_000, 4: 3_000}, failed={4: 5})
    rec = recommend(
        facts(answers(peak_concurrent_users=4, **NEUTRAL), gpu="rtx-4090", load_tests=[sweep])
    )
    assert rec.backend is Backend.VLLM
    assert "measured.failures" in ids(rec.decisive)
    assert "5 of 20 requests (25%)" in rec.decisive[0].message


def test_it_keeps_ollama_when_measurements_show_it_holds_the_load():
    sweep = load_test("ollama", {1: 2_000, 2: 2_400, 4: 3_000})
    rec = recommend(
        facts(answers(peak_concurrent_users=4, **NEUTRAL), gpu="rtx-4090", load_tests=[sweep])
    )
    assert rec.backend is Backend.OLLAMA
    assert "measured.ollama_holds" in ids(rec.decisive) + ids(rec.supporting)


def test_it_does_not_count_a_vllm_load_test_as_ollama_evidence():
    sweep = load_test("vllm", {1: 2_000, 4: 25_000})
    rec = recommend(
        facts(answers(peak_concurrent_users=4, **NEUTRAL), gpu="rtx-4090", load_tests=[sweep])
    )
    assert rec.backend is Backend.OLLAMA


def test_it_weighs_predicted_slo_misses_and_costs():
    perf = [level(c, 2_000 * c, server="ollama", tput=120) for c in (1, 2, 4)]
    perf += [level(c, 2_100, server="vllm", tput=110 * c) for c in (1, 2, 4)]
    ans = answers(peak_concurrent_users=4, slo_e2e_p95_ms=5_000, **NEUTRAL)
    rec = recommend(facts(ans, gpu="rtx-4090", estimate=estimate(performance=perf)))
    fired = ids(rec.decisive + rec.supporting + rec.opposing)
    assert "workload.predicted_slo_miss" in fired
    assert "cost.vllm_cheaper" in fired
    cost_row = [row for row in rec.comparison if row["aspect"] == "$ per 1M output tokens"][0]
    assert cost_row["vllm"].startswith("$") and "predicted" in cost_row["vllm"]


def test_it_says_so_when_the_model_does_not_fit_and_what_would():
    alt = ({"server": "vllm", "kind": "quantization", "quantization": "awq-int4", "gpu_count": 1,
            "description": "vLLM with awq-int4 weights on NVIDIA H100 SXM 80GB"},)  # fmt: skip
    est = estimate(vllm_fits=False, ollama_fits=False, gpu_layers=40, weights_gib=750)
    rec = recommend(facts(answers(model="llama-3.1-405b", peak_concurrent_users=50), estimate=est,
                          alternatives=alt))  # fmt: skip
    assert rec.fit["fits_at_all"] is False
    warning = [w for w in rec.warnings if w["id"] == "does_not_fit"][0]
    assert "does not fit" in warning["message"] and "awq-int4" in warning["message"]
    assert warning["level"] == "error"


def test_it_prefers_ollama_when_only_its_quantized_build_fits():
    est = estimate(vllm_fits=False, ollama_fits=True, weights_gib=131)
    rec = recommend(facts(answers(model="llama-3.1-70b", peak_concurrent_users=2), estimate=est))
    assert rec.backend is Backend.OLLAMA
    assert "hardware.vllm_does_not_fit" in ids(rec.decisive + rec.supporting)


def test_it_fires_every_rule_and_each_template_names_only_keys_its_check_returns():
    """Every rule fires on one of these facts (no rule is dead), and its message template asks
    only for keys its check returned there: a renamed evidence key fails here, not in a request."""
    perf = [level(c, 2_000 * c, server="ollama", tput=400) for c in (1, 2, 4, 8)]
    perf += [level(c, 2_100, server="vllm", tput=110 * c) for c in (1, 2, 4, 8)]
    cases = [
        facts(answers(gpu="apple-m3-max"), gpu="apple-m3-max", platform="macos"),
        facts(answers(gpu=None, gpu_count=0), gpu=None),
        facts(answers(model="llama-3.1-70b", gpu_count=4), estimate=estimate(tp=4)),
        facts(answers(gpu="rtx-4090", platform="windows", features=["structured_output"],
                      deployment_target="laptop"), gpu="rtx-4090", platform="windows"),
        facts(answers(peak_concurrent_users=100, use_case="production", slo_e2e_p95_ms=3000,
                      features=["multi_lora", "speculative_decoding", "kubernetes", "metrics"],
                      team_skills=["python", "docker"], deployment_target="server"),
              estimate=estimate(gpu_layers=20, performance=perf)),
        facts(answers(peak_concurrent_users=2), estimate=estimate(vllm_fits=False)),
        facts(answers(peak_concurrent_users=1, gpu="rtx-4090"), gpu="rtx-4090",
              estimate=estimate(performance=perf)),
        facts(answers(peak_concurrent_users=8, slo_e2e_p95_ms=3000),
              load_tests=[load_test("ollama", {1: 2000, 4: 8000, 8: 40_000}, failed={8: 3}),
                          load_test("vllm", {1: 2000, 8: 2500}, failed={8: 4})]),
        facts(answers(peak_concurrent_users=4), load_tests=[load_test("ollama", {1: 2000, 4: 2500})]),
        facts(answers(), hardware={"servers": [{"kind": "ollama", "base_url": "http://127.0.0.1:11434"}]}),
        facts(answers(), hardware={"software": {"vllm": {"installed": True, "version": "0.11.0"}}}),
    ]  # fmt: skip
    fired = set()
    for case in cases:
        for rule in RULES:
            evidence = rule.check(case)
            if evidence is None:
                continue
            fired.add(rule.id)
            wanted = {name for _, name, _, _ in string.Formatter().parse(rule.message) if name}
            assert wanted <= set(evidence), (rule.id, wanted - set(evidence))
        json.dumps(recommend(case).as_dict())
    assert fired == set(RULES_BY_ID), set(RULES_BY_ID) - fired


def test_it_publishes_the_rules_table_with_a_source_for_each():
    table = rules_table()
    assert len({row["id"] for row in table}) == len(RULES)
    for row in table:
        assert row["source"] and row["condition"] and row["message"]
        assert row["category"] in {
            "constraint",
            "workload",
            "features",
            "measured",
            "operations",
            "cost",
        }
        if row["effect"] != Effect.NOTE:
            assert row["backend"] in {"ollama", "vllm"}
    json.dumps(table)


def test_it_is_deterministic():
    case = facts(answers(peak_concurrent_users=6, **NEUTRAL), gpu="rtx-4090")
    assert recommend(case).as_dict() == recommend(case).as_dict()


def test_it_labels_confidence_and_warns_on_a_close_call():
    assert confidence_label(0.9) == "high" and confidence_label(0.7) == "medium"
    assert confidence_label(0.55) == "close call"
    rec = recommend(facts(answers(peak_concurrent_users=5, deployment_target="laptop", gpu="rtx-4090",
                                  use_case="internal"), gpu="rtx-4090"))  # fmt: skip
    assert rec.confidence_label == "close call"
    assert any(w["id"] == "close_call" for w in rec.warnings)


def test_it_lists_switch_triggers_that_really_flip():
    case = facts(answers(peak_concurrent_users=3, **NEUTRAL), gpu="rtx-4090")
    rec = recommend(case)
    assert rec.backend is Backend.OLLAMA
    triggers = {t["id"]: t for t in rec.switch_triggers}
    assert triggers["users"]["condition"] == "peak concurrent users of 5 or more"
    assert "features:multi_lora" in triggers
    assert all(t["message"] for t in rec.switch_triggers)
    assert decide(case).backend is Backend.OLLAMA


def test_it_maps_the_ollama_tag_to_the_hf_repo_and_the_base_url():
    rec = recommend(facts(answers(peak_concurrent_users=50)))
    assert rec.migration["ollama"]["model"] == "llama3.1:8b"
    assert rec.migration["vllm"]["model"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert rec.migration["ollama"]["base_url"].endswith(":11434/v1")
    assert rec.migration["vllm"]["base_url"].endswith(":8000/v1")
    aspects = [row["aspect"] for row in rec.comparison]
    assert aspects[:6] == ["Built for", "Concurrency", "Apple Silicon", "Multi-GPU", "Setup", "API"]


def test_it_names_a_measured_trigger_that_really_flips_it():
    ans = answers(peak_concurrent_users=3, **NEUTRAL)
    rec = recommend(facts(ans, gpu="rtx-4090"))
    trigger = next(t for t in rec.switch_triggers if t["id"].startswith("measured_"))
    assert "3 concurrent users" in trigger["condition"]
    ratio = trigger["threshold"]
    below = load_test("ollama", {1: 1_000, 3: 1_000 * ratio * 0.9})
    above = load_test("ollama", {1: 1_000, 3: 1_000 * ratio * 1.1})
    assert recommend(facts(ans, gpu="rtx-4090", load_tests=[below])).backend is Backend.OLLAMA
    assert recommend(facts(ans, gpu="rtx-4090", load_tests=[above])).backend is Backend.VLLM


def test_it_gives_a_single_user_no_measured_trigger():
    rec = recommend(facts(answers(**NEUTRAL), gpu="rtx-4090"))
    assert not [t for t in rec.switch_triggers if t["id"].startswith("measured_")]


def test_it_compares_no_costs_for_a_zero_gpu_price():
    perf = [level(c, 2_000 * c, server="ollama", tput=120) for c in (1, 2, 4)]
    perf += [level(c, 2_100, server="vllm", tput=110 * c) for c in (1, 2, 4)]
    ans = answers(peak_concurrent_users=4, gpu_hourly_cost_usd=0, **NEUTRAL)
    rec = recommend(facts(ans, gpu="rtx-4090", estimate=estimate(performance=perf)))
    cited = ids(rec.decisive + rec.supporting + rec.opposing)
    assert not [rule for rule in cited if rule.startswith("cost.")]
    row = next(row for row in rec.comparison if row["aspect"] == "$ per 1M output tokens")
    assert "$0/h" in row["vllm"] and "$0/h" in row["ollama"]  # why, instead of $0.00 figures


def test_it_starts_where_you_are_when_the_report_shows_one_server():
    running = {"servers": [{"kind": "ollama", "base_url": "http://127.0.0.1:11434"}],
               "software": {"vllm": {"installed": False}}}  # fmt: skip
    rec = recommend(facts(answers(peak_concurrent_users=2), hardware=running))
    present = [r for r in rec.decisive + rec.supporting if r.rule_id == "operations.ollama_present"]
    assert present and "running at http://127.0.0.1:11434" in present[0].message
    both = {**running, "software": {"vllm": {"installed": True}}}
    rec = recommend(facts(answers(peak_concurrent_users=2), hardware=both))
    assert "operations.ollama_present" not in ids(rec.decisive + rec.supporting + rec.opposing)
