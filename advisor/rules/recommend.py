"""The recommendation: the verdict (``verdict.decide``) explained for the team.

``recommend(facts) -> Advice`` is deterministic and pure. How it decides (1-3 in
``verdict.py``):

1. Every rule's check runs; a rule that fires becomes a ``Reason`` quoting its evidence.
2. A ``require`` rule settles the backend (a Mac or CPU only: Ollama; tensor parallelism: vLLM).
   If two requirements disagree (contradictory answers), the first in ``RULES`` order wins and a
   warning says so.
3. Otherwise the weights of the evidence for each server are summed; the larger wins, a tie goes to
   Ollama ("start where you are", ARTICLE 'Migrating between them').
4. ``decisive`` = the fewest strongest reasons for the winner whose weight alone outweighs every
   reason against it (with a requirement: the requirement). The rest of the winner's are
   ``supporting``; the other server's are ``opposing``.
5. Confidence: a requirement gives CONSTRAINT_CONFIDENCE; else 1 - 0.5 x exp(-(W - L) / SCALE),
   at most MAX_EVIDENCE_CONFIDENCE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from advisor.capacity.cost import CostAtLoad
from advisor.rules import advice, handover, triggers
from advisor.rules.facts import Facts
from advisor.rules.measured_on import measurement_rows
from advisor.rules.table import Effect
from advisor.rules.thresholds import (
    CONFIDENCE_HIGH,
    CONFIDENCE_MEDIUM,
    CONFIDENCE_SCALE,
    CONSTRAINT_CONFIDENCE,
    MAX_EVIDENCE_CONFIDENCE,
)
from advisor.rules.verdict import Reason, Verdict, decide
from probes.kinds import Backend

CONFLICT_CONFIDENCE = 0.6  # two hard requirements disagree: the answers contradict each other


@dataclass(frozen=True)
class Advice:
    """What we tell the team: the verdict explained. ``as_dict()`` is what the ``Recommendation``
    row (``advisor.models``) stores as ``result``."""

    backend: Backend
    confidence: float
    confidence_label: str
    summary: str
    decisive: tuple[Reason, ...]
    supporting: tuple[Reason, ...]
    opposing: tuple[Reason, ...]
    notes: tuple[Reason, ...]
    warnings: tuple[dict[str, Any], ...]
    switch_triggers: tuple[dict[str, Any], ...]
    migration: dict[str, Any]
    comparison: tuple[dict[str, Any], ...]
    fit: dict[str, Any]
    serving: dict[str, Any]
    scores: dict[str, float]
    facts: dict[str, Any] = field(default_factory=dict)
    # Each attached load test, whether it ran on this hardware (and so counted) and its label.
    measurements: tuple[dict[str, Any], ...] = ()
    # $/1M output tokens of both servers at the peak (``Facts.cost``): the cost table reads it.
    cost: CostAtLoad | None = None

    def as_dict(self) -> dict[str, Any]:
        reasons = ("decisive", "supporting", "opposing", "notes")
        data: dict[str, Any] = {
            "backend": self.backend.value,
            "backend_label": self.backend.label,
            "confidence": self.confidence,
            "confidence_label": self.confidence_label,
            "summary": self.summary,
        }
        data.update({name: [r.as_dict() for r in getattr(self, name)] for name in reasons})
        data.update(
            warnings=[dict(w) for w in self.warnings],
            switch_triggers=[dict(t) for t in self.switch_triggers],
            migration=dict(self.migration),
            comparison=[dict(row) for row in self.comparison],
            fit=dict(self.fit),
            serving=dict(self.serving),
            scores=dict(self.scores),
            facts=dict(self.facts),
            measurements=[dict(row) for row in self.measurements],
            cost=self.cost.as_dict() if self.cost else None,
        )
        return data


def confidence_of(verdict: Verdict) -> float:
    if verdict.conflict:
        return CONFLICT_CONFIDENCE
    if verdict.required:
        return CONSTRAINT_CONFIDENCE
    win = verdict.scores[verdict.backend.value]
    lose = verdict.scores[verdict.backend.other.value]
    value = 1.0 - 0.5 * math.exp(-(win - lose) / CONFIDENCE_SCALE)
    return round(min(value, MAX_EVIDENCE_CONFIDENCE), 2)


def confidence_label(value: float) -> str:
    if value >= CONFIDENCE_HIGH:
        return "high"
    if value >= CONFIDENCE_MEDIUM:
        return "medium"
    return "close call"


def _split(verdict: Verdict) -> tuple[tuple[Reason, ...], ...]:
    """(decisive, supporting, opposing, notes) as described in the module docstring."""
    winner = verdict.backend.value
    weighed = [r for r in verdict.reasons if r.effect == Effect.WEIGH]
    for_winner = sorted(
        (r for r in weighed if r.backend == winner), key=lambda r: -r.weight
    )  # stable: equal weights keep RULES order
    opposing = [r for r in weighed if r.backend != winner]
    opposing += [r for r in verdict.required if r.backend != winner]
    notes = [r for r in verdict.reasons if r.effect == Effect.NOTE]
    if verdict.required:
        decisive = [r for r in verdict.required if r.backend == winner]
        supporting = for_winner
    else:
        against = verdict.scores[verdict.backend.other.value]
        decisive, total = [], 0.0
        for r in for_winner:
            decisive.append(r)
            total += r.weight
            if total > against:
                break
        supporting = for_winner[len(decisive) :]
    return tuple(decisive), tuple(supporting), tuple(opposing), tuple(notes)


def recommend(facts: Facts) -> Advice:
    """The verdict with every reason, warning, switch trigger, migration path and comparison."""
    verdict = decide(facts)
    decisive, supporting, opposing, notes = _split(verdict)
    confidence = confidence_of(verdict)
    label = confidence_label(confidence)
    flip = triggers.users_flip_point(facts, verdict)
    fit = advice.fit_summary(facts, verdict.backend)
    return Advice(
        backend=verdict.backend,
        confidence=confidence,
        confidence_label=label,
        summary=advice.summary(facts, verdict.backend, decisive, label),
        decisive=decisive,
        supporting=supporting,
        opposing=opposing,
        notes=notes,
        warnings=advice.warnings(facts, verdict, fit, label, flip),
        switch_triggers=triggers.switch_triggers(facts, verdict, flip),
        migration=handover.migration(facts, verdict.backend),
        comparison=handover.comparison(facts),
        fit=fit,
        serving=handover.serving(facts, verdict.backend),
        scores=verdict.scores,
        facts=handover.facts_summary(facts),
        measurements=measurement_rows(facts.load_tests, facts.other_hardware),
        cost=facts.cost,
    )
