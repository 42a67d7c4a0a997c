"""The cost at the user's load, through the real capacity model: one result (``Facts.cost``) that
the cost reason, the side-by-side row and the cost table (the recommendation's ``cost``) all quote."""

from __future__ import annotations

from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.facts import Side
from advisor.rules.recommend import recommend
from probes.kinds import Backend
from tests.rules.factories import level, measured_on, setup

REASON_KINDS = ("decisive", "supporting", "opposing", "notes")


def advise(**answers) -> dict:
    return recommend(facts_build(Answers.parse(answers))).as_dict()


def reason(data: dict, rule_id: str) -> dict:
    return next(r for kind in REASON_KINDS for r in data[kind] if r["rule_id"] == rule_id)


def cost_row(data: dict) -> dict:
    return next(row for row in data["comparison"] if row["aspect"] == "$ per 1M output tokens")


def table(data: dict) -> dict[str, str]:
    """What the page's cost table shows per server."""
    return {entry["server"]: entry["text"] for entry in data["cost"]["servers"]}


def test_the_reason_the_side_by_side_row_and_the_cost_table_quote_the_same_dollars():
    """200 users on one H100: each server priced once, at 200 users, wherever it is shown."""
    data = advise(gpu="h100", model="llama3.1:8b", peak_concurrent_users=200)
    evidence = reason(data, "cost.vllm_cheaper")["evidence"]
    row = cost_row(data)
    assert row["ollama"].split(" ")[0] == evidence["ollama_cost"]
    assert row["vllm"].split(" ")[0] == evidence["vllm_cost"]
    assert table(data) == {"vllm": evidence["vllm_cost"], "ollama": evidence["ollama_cost"]}
    assert evidence["concurrency"] == data["cost"]["concurrency"] == 200
    assert "at 200 concurrent users" in row["yours"]


def test_the_cost_is_labelled_with_the_whole_hardwares_hour_and_gpu_count():
    data = advise(gpu="h100", gpu_count=4, model="llama-3.3-70b", peak_concurrent_users=50)
    label = data["cost"]["price"]["label"]
    assert label == "$11.96/h for 4x NVIDIA H100 SXM 80GB"
    assert label in cost_row(data)["yours"]
    assert label in reason(data, "cost.vllm_cheaper")["message"]
    assert "per GPU-hour" not in label


def test_a_mac_gets_no_vllm_cost_only_the_reason():
    data = advise(gpu="apple-m3-max", peak_concurrent_users=30)
    assert [entry["server"] for entry in data["cost"]["servers"]] == ["ollama"]
    assert data["cost"]["not_viable"] == [{"server": "vllm", "reason": "not available on macOS"}]
    assert cost_row(data)["vllm"] == "not available on macOS"
    assert not [r for kind in REASON_KINDS for r in data[kind] if r["rule_id"].startswith("cost.")]


def test_cpu_only_without_a_measured_vllm_gets_no_vllm_cost():
    data = advise(gpu_count=0, model="qwen2.5:3b", peak_concurrent_users=3)
    assert [entry["server"] for entry in data["cost"]["servers"]] == ["ollama"]
    assert data["cost"]["price"]["label"] == "$0.40/h for a CPU-only host"
    assert cost_row(data)["vllm"] == "not available without a GPU"


def test_measurements_price_the_load_only_when_both_servers_were_measured_there():
    def run(kind: str, tput: dict[int, float]) -> dict:
        return {
            "target": {"base_url": "http://127.0.0.1:1", "kind": kind, "model": "m"},
            "levels": [level(c, 2_000, tput=t) for c, t in tput.items()],
        }

    answers = Answers.parse({"gpu": "h100", "peak_concurrent_users": 8})
    here = setup(answers)
    ollama_only = recommend(
        facts_build(answers, load_tests=measured_on([run("ollama", {8: 100.0})], here))
    )
    assert ollama_only.cost is not None and ollama_only.cost.basis.value == "predicted"
    both_runs = measured_on([run("ollama", {8: 100.0}), run("vllm", {8: 1_000.0})], here)
    both = recommend(facts_build(answers, load_tests=both_runs))
    assert both.cost is not None and both.cost.basis.value == "measured"
    assert table(both.as_dict()) == {"vllm": "$0.83", "ollama": "$8.31"}  # $2.99/h over tok/s
    assert cost_row(both.as_dict())["ollama"] == "$8.31 (measured)"


def test_a_what_if_reads_the_predicted_curve_between_levels_and_nothing_past_the_last():
    """The users flip search asks for counts the estimate did not predict: the cost there is read
    between the neighbouring predictions, so it moves with the count as a rebuilt estimate would."""
    side = Side(Backend.VLLM, "model", (level(2, 1_000, tput=200.0), level(4, 1_000, tput=400.0)))
    assert side.throughput_at(4) == 400.0
    assert side.throughput_at(3) == 300.0
    assert side.throughput_at(5) is None and side.throughput_at(1) is None
