"""The decision: run every rule over the facts and pick the backend. Nothing else decides.

``decide(facts) -> Verdict``: every rule's check runs and each that fires becomes a ``Reason``; a
``require`` rule settles the backend (the first in ``RULES`` order wins, ``conflict`` when two
disagree), otherwise the weights of the evidence for each server are summed and the larger wins,
a tie going to Ollama ("start where you are", ARTICLE 'Migrating between them').

``recommend`` (``recommend.py``) explains one verdict; the what-if searches (``triggers.py``: the
switch triggers and the users flip point) call ``decide`` on changed facts, so they cannot
disagree with it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from advisor.rules.facts import Facts
from advisor.rules.table import RULES, Effect, Rule
from probes.kinds import Backend


@dataclass(frozen=True)
class Reason:
    """One rule that fired: its id, the message with the user's numbers, and the evidence behind it."""

    rule_id: str
    category: str
    effect: str
    backend: str | None
    weight: float
    message: str
    evidence: dict[str, Any]
    source: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Verdict:
    """The bare decision (no explanation): what ``recommend`` explains and the what-ifs compare."""

    backend: Backend
    reasons: tuple[Reason, ...]
    required: tuple[Reason, ...]
    scores: dict[str, float]
    conflict: bool = False


def _reason(rule: Rule, evidence: dict[str, Any]) -> Reason:
    return Reason(
        rule_id=rule.id,
        category=rule.category.value,
        effect=rule.effect.value,
        backend=rule.backend.value if rule.backend else None,
        weight=rule.weight,
        message=rule.message.format(**evidence),
        evidence=evidence,
        source=rule.source,
    )


def evaluate(facts: Facts) -> tuple[Reason, ...]:
    """Every rule that fires on ``facts``, in ``RULES`` order."""
    fired = []
    for rule in RULES:
        evidence = rule.check(facts)
        if evidence is not None:
            fired.append(_reason(rule, evidence))
    return tuple(fired)


def decide(facts: Facts) -> Verdict:
    """The backend alone: requirements first, then the heavier evidence (ties to Ollama)."""
    reasons = evaluate(facts)
    required = tuple(r for r in reasons if r.effect == Effect.REQUIRE)
    scores = {b.value: 0.0 for b in Backend}
    for r in reasons:
        if r.effect == Effect.WEIGH and r.backend:
            scores[r.backend] += r.weight
    if required:
        backend = Backend(str(required[0].backend))  # a requirement always names its server
        conflict = any(r.backend != backend.value for r in required)
        return Verdict(backend, reasons, required, scores, conflict)
    backend = Backend.VLLM if scores["vllm"] > scores["ollama"] else Backend.OLLAMA
    return Verdict(backend, reasons, (), scores)
