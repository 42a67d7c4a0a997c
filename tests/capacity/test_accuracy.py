"""The capacity model against the public corpus (tests/data/capacity_corpus.yaml).

The targets are the capacity issue's. Where the model does not reach one, the test asserts the
target anyway and is marked strict xfail with the real figure: it fails the day the model improves
past it (remove the mark then), and never hides the gap.
"""

from pathlib import Path

import pytest
import yaml

from advisor.capacity.accuracy import evaluate, load_corpus, summarize

CORPUS = Path(__file__).resolve().parent.parent / "data" / "capacity_corpus.yaml"


@pytest.fixture(scope="module")
def rows():
    return evaluate(load_corpus(CORPUS))


@pytest.fixture(scope="module")
def summary(rows):
    return summarize(rows)


def test_it_has_the_corpus_the_issue_asks_for():
    """At least 40 public points, 10 models, 6 GPUs, both servers, KV and speed, each sourced."""
    points = yaml.safe_load(CORPUS.read_text())["points"]
    assert len(points) >= 40
    assert len({p["model"] for p in points}) >= 10
    assert len({p["gpu"] for p in points if p.get("gpu")}) >= 6
    assert {"vllm", "llama.cpp", "ollama"} <= {p["engine"] for p in points}
    kinds = {p["kind"] for p in points}
    assert {"vllm_kv_budget", "decode_tps", "prefill_tps"} <= kinds
    assert all(p["source"].startswith("https://") and p["measured"] for p in points)
    assert len({p["id"] for p in points}) == len(points)


def test_it_reproduces_vllms_block_arithmetic_from_a_logged_budget(summary):
    """Given the budget vLLM logged, tokens and KV needed come out within 2% on every point."""
    assert summary["kv_arithmetic"].fraction == 1.0


def test_it_keeps_decode_within_20_percent_on_80_percent_of_points(summary):
    assert summary["decode"].fraction >= 0.8


def test_it_keeps_decode_within_20_percent_on_most_held_out_points(summary):
    """The points the llama.cpp constants were not fitted on (9 of 11 today)."""
    assert summary["decode_held_out"].fraction >= 0.8


def test_it_keeps_prefill_within_30_percent_on_70_percent_of_points(summary):
    assert summary["prefill"].fraction >= 0.7


def test_it_keeps_prefill_within_30_percent_on_most_held_out_points(summary):
    """The prefill points the constants were not fitted on (7 of 8 today)."""
    assert summary["prefill_held_out"].fraction >= 0.7


def test_it_keeps_the_vllm_kv_budget_within_2_percent_on_90_percent_of_stated_points(summary):
    assert summary["kv_budget_stated"].fraction >= 0.9


def test_it_answers_every_fit_or_refuse_like_vllm(summary):
    assert summary["fit_refuse"].fraction == 1.0


def test_it_answers_fit_or_refuse_right_on_every_fully_stated_point(rows):
    stated = [row for row in rows if row.fit_right is not None and row.settings_complete]
    assert stated and all(row.fit_right for row in stated)


def test_it_keeps_the_ollama_size_within_10_percent_on_most_points(summary):
    """2 of 3 today: the one miss quotes 3.4 GB for a Q8_0 model whose file alone is 3.4 GB."""
    assert summary["ollama_memory"].fraction >= 0.6


@pytest.mark.xfail(
    strict=True,
    reason="2 of 3 Ollama sizes within 10%: issue 7198's 3.4 GB default is the model file's size, "
    "not what memory.go reports (docs/capacity.md)",
)
def test_it_keeps_the_ollama_size_within_10_percent_on_80_percent_of_points(summary):
    assert summary["ollama_memory"].fraction >= 0.8
