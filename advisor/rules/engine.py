"""The verdict: run every rule over the facts, weigh what fired, explain the answer.

``recommend(facts) -> Recommendation`` is deterministic and pure. How it decides:

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.rules import advice, handover
from advisor.rules.facts import Backend, Facts
from advisor.rules.table import RULES, Effect, Rule
from advisor.rules.thresholds import (
    CONFIDENCE_HIGH,
    CONFIDENCE_MEDIUM,
    CONFIDENCE_SCALE,
    CONSTRAINT_CONFIDENCE,
    MAX_EVIDENCE_CONFIDENCE,
)

CONFLICT_CONFIDENCE = 0.6  # two hard requirements disagree: the answers contradict each other
MAX_USERS_SEARCHED = 100_000  # the questionnaire's bound on peak_concurrent_users


@dataclass(frozen=True)
class Reason:
    """One rule that fired: its id, the message with the user's numbers, and the evidence behind it."""

    rule_id: str
    category: str
    effect: str
    backend: str | None
    weight: float
    message: str
    evidence: dict
    source: str

    def as_dict(self) -> dict:
        # Written out: dataclasses.asdict deep-copies value by value, a tenth of a millisecond for
        # a verdict's reasons. Same keys in the same order, evidence copied (JSON-shaped data).
        return {
            "rule_id": self.rule_id,
            "category": self.category,
            "effect": self.effect,
            "backend": self.backend,
            "weight": self.weight,
            "message": self.message,
            "evidence": _copied(self.evidence),
            "source": self.source,
        }


def _copied(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists and tuples copied; the leaves are immutable)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copied(v) for v in value)
    return value


@dataclass(frozen=True)
class Verdict:
    """The bare decision (no explanation): used by ``recommend`` and by the what-if searches."""

    backend: Backend
    reasons: tuple[Reason, ...]
    required: tuple[Reason, ...]
    scores: dict[str, float]
    conflict: bool = False


@dataclass(frozen=True)
class Recommendation:
    """What we tell the team. ``as_dict()`` is what the Recommendation row stores as ``result``."""

    backend: Backend
    confidence: float
    confidence_label: str
    summary: str
    decisive: tuple[Reason, ...]
    supporting: tuple[Reason, ...]
    opposing: tuple[Reason, ...]
    notes: tuple[Reason, ...]
    warnings: tuple[dict, ...]
    switch_triggers: tuple[dict, ...]
    migration: dict
    comparison: tuple[dict, ...]
    fit: dict
    serving: dict
    scores: dict[str, float]
    facts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        reasons = ("decisive", "supporting", "opposing", "notes")
        data = {
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
        )
        return data


def _reason(rule: Rule, evidence: dict) -> Reason:
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
        if r.effect == Effect.EVIDENCE and r.backend:
            scores[r.backend] += r.weight
    if required:
        backend = Backend(required[0].backend)
        conflict = any(r.backend != backend.value for r in required)
        return Verdict(backend, reasons, required, scores, conflict)
    backend = Backend.VLLM if scores["vllm"] > scores["ollama"] else Backend.OLLAMA
    return Verdict(backend, reasons, (), scores)


# What ``decide_backend`` reads of each rule that can move a decision (notes never do), in RULES
# order, unpacked once: it runs ~37 checks a dozen times per verdict.
_DECIDING_RULES = tuple(
    (rule.check, rule.effect is Effect.REQUIRE, rule.backend, rule.weight)
    for rule in RULES
    if rule.effect is not Effect.NOTE
)


def decide_backend(facts: Facts) -> Backend:
    """``decide(facts).backend`` without building the reasons (their messages and evidence):
    what the what-if searches need, ~20 times per verdict."""
    scores = {b.value: 0.0 for b in Backend}
    for check, required, backend, weight in _DECIDING_RULES:
        if check(facts) is None:
            continue
        if required:
            return backend  # type: ignore[return-value]  # the first requirement settles it
        if backend:
            scores[backend.value] += weight
    return Backend.VLLM if scores["vllm"] > scores["ollama"] else Backend.OLLAMA


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
    evidence = [r for r in verdict.reasons if r.effect == Effect.EVIDENCE]
    for_winner = sorted(
        (r for r in evidence if r.backend == winner), key=lambda r: -r.weight
    )  # stable: equal weights keep RULES order
    opposing = [r for r in evidence if r.backend != winner]
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


def users_flip_point(facts: Facts, verdict: Verdict) -> int | None:
    """The peak-user count at which the answer changes, all else equal; None if it never does.

    More users only ever move the verdict toward vLLM (see ``checks``), so a search finds it: for
    Ollama, the smallest count that gives vLLM; for vLLM, the largest count that gives Ollama.
    The search gallops up from the known Ollama count (+1, +2, +4...) before bisecting, because
    the flip is usually a few users away: ~5 re-decisions instead of ~17 for a bisection up to
    ``MAX_USERS_SEARCHED`` (both find the same count, the verdict being monotone in users).
    """
    if verdict.required:
        return None

    def backend_at(users: int) -> Backend:
        return decide_backend(facts.with_answers(peak_concurrent_users=users))

    if verdict.backend is Backend.OLLAMA:
        if backend_at(MAX_USERS_SEARCHED) is Backend.OLLAMA:
            return None
        return _first_vllm(backend_at, facts.users, MAX_USERS_SEARCHED)
    if backend_at(1) is Backend.VLLM:
        return None
    return _first_vllm(backend_at, 1, facts.users) - 1


def _first_vllm(backend_at: Callable[[int], Backend], low: int, high: int) -> int:
    """The smallest count in (low, high] that gives vLLM, given Ollama at ``low`` and vLLM at
    ``high``: gallop up from ``low``, then bisect (invariant: Ollama at low, vLLM at high)."""
    step = 1
    while low + step < high:
        probe = low + step
        if backend_at(probe) is Backend.VLLM:
            high = probe
            break
        low, step = probe, step * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if backend_at(mid) is Backend.OLLAMA else (low, mid)
    return high


def recommend(facts: Facts) -> Recommendation:
    """The verdict with every reason, warning, switch trigger, migration path and comparison."""
    verdict = decide(facts)
    decisive, supporting, opposing, notes = _split(verdict)
    confidence = confidence_of(verdict)
    label = confidence_label(confidence)
    flip = users_flip_point(facts, verdict)
    fit = advice.fit_summary(facts, verdict.backend)
    return Recommendation(
        backend=verdict.backend,
        confidence=confidence,
        confidence_label=label,
        summary=advice.summary(facts, verdict.backend, decisive, label),
        decisive=decisive,
        supporting=supporting,
        opposing=opposing,
        notes=notes,
        warnings=advice.warnings(facts, verdict, fit, label, flip),
        switch_triggers=advice.switch_triggers(facts, verdict, flip),
        migration=handover.migration(facts, verdict.backend),
        comparison=handover.comparison(facts),
        fit=fit,
        serving=handover.serving(facts, verdict.backend),
        scores=verdict.scores,
        facts=handover.facts_summary(facts),
    )
