"""Assessments and their recommendations as rows: validate, store, decide.

The rules engine (``advisor.rules``) is pure; this module loads rows into ``Facts``, runs it, and
stores ``Recommendation.as_dict()`` with the capacity estimate behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext

from django.db import transaction

from advisor.errors import AdvisorError
from advisor.models import Assessment, HardwareReport, LoadTest, Recommendation
from advisor.rules.answers import Answers
from advisor.rules.engine import recommend
from advisor.rules.evidence import effective_hardware, facts_build

MAX_LOAD_TESTS = 20  # one sweep per server and a few re-runs; more is a mistake in the caller
TITLE_MAX_LENGTH = 200  # Assessment.title max_length


def _owned_by(row, owner, visitor: str = "") -> bool:
    """A row is usable by ``owner`` (or the anonymous ``visitor``) when it is theirs or nobody's
    (no owner, no visitor: made by the command line on this host)."""
    if row.owner_id is None and not row.visitor:
        return True
    if owner is not None and getattr(owner, "is_authenticated", False):
        return row.owner_id == owner.pk
    return row.owner_id is None and bool(visitor) and row.visitor == visitor


def _load_tests(load_tests: Iterable, owner, visitor: str) -> list[LoadTest]:
    rows: list[LoadTest] = []
    for item in load_tests:
        row = item if isinstance(item, LoadTest) else LoadTest.objects.filter(pk=item).first()
        if row is None:
            raise AdvisorError(f"no load test {item!r}", field="load_tests")
        if not _owned_by(row, owner, visitor):
            raise AdvisorError(f"load test {row.pk} belongs to someone else", field="load_tests")
        if not row.result:
            raise AdvisorError(
                f"load test {row.pk} has no result yet ({row.status})", field="load_tests"
            )
        rows.append(row)
    if len(rows) > MAX_LOAD_TESTS:
        raise AdvisorError(f"attach at most {MAX_LOAD_TESTS} load tests", field="load_tests")
    return rows


def _default_title(answers: Answers) -> str:
    return f"{answers.model}, {answers.peak_concurrent_users} users, {answers.use_case.value}"


def assessment_create(
    *,
    answers: dict,
    hardware_report: HardwareReport | None = None,
    load_tests: Iterable = (),
    owner=None,
    visitor: str = "",
    title: str = "",
) -> Assessment:
    """Validate ``answers`` (``Answers.parse``) and store them with their evidence.

    ``owner`` is the signed-in user, ``visitor`` the anonymous session's key (when no owner);
    ``load_tests`` are ``LoadTest`` rows or ids with a result. Raises ``AdvisorError`` (an
    ``AdvisorValidationError`` for answers, naming every bad field); nothing is saved on error.
    """
    if hardware_report is not None and not _owned_by(hardware_report, owner, visitor):
        raise AdvisorError("that hardware report belongs to someone else", field="hardware_report")
    parsed = Answers.parse(answers, hardware_report_attached=hardware_report is not None)
    # The answers must also agree with the hardware the report found (e.g. macOS and NVIDIA GPUs).
    effective_hardware(parsed, hardware_report.report if hardware_report is not None else None)
    rows = _load_tests(load_tests, owner, visitor)
    title = (title or "").strip()[:TITLE_MAX_LENGTH] or _default_title(parsed)[:TITLE_MAX_LENGTH]
    owner_row = owner if owner is not None and getattr(owner, "is_authenticated", False) else None
    # One INSERT is atomic on its own; a transaction only when the load tests are linked too.
    with transaction.atomic() if rows else nullcontext():
        assessment = Assessment.objects.create(
            owner=owner_row,
            visitor="" if owner_row is not None else visitor,
            title=title,
            answers=parsed.as_dict(),
            hardware_report=hardware_report,
        )
        if rows:
            assessment.load_tests.set(rows)
    # The rows just linked, so that ``recommendation_create`` on this instance need not read
    # them back (one query per API request); other instances read them from the database.
    assessment._attached_load_tests = rows
    return assessment


def load_test_results(assessment: Assessment) -> list[dict]:
    """The attached load tests' results, each with its target kind (from the row when missing)."""
    rows = getattr(assessment, "_attached_load_tests", None)
    if rows is None:
        rows = assessment.load_tests.order_by("created_at", "id")
    else:
        rows = sorted(rows, key=lambda row: (row.created_at, row.pk))  # the same order
    results = []
    for row in rows:
        if not row.result:
            continue
        result = dict(row.result)
        target = dict(result.get("target") or {})
        target.setdefault("kind", row.backend_kind)
        if not target.get("kind"):
            target["kind"] = row.backend_kind
        result["target"] = target
        results.append(result)
    return results


def recommendation_create(*, assessment: Assessment) -> Recommendation:
    """Run the rules on the assessment's answers and evidence; store and return the verdict."""
    report = assessment.hardware_report.report if assessment.hardware_report_id else None
    answers = Answers.parse(assessment.answers, hardware_report_attached=report is not None)
    facts = facts_build(answers, hardware_report=report, load_tests=load_test_results(assessment))
    result = recommend(facts)
    return Recommendation.objects.create(
        assessment=assessment,
        backend=result.backend.value,
        confidence=result.confidence,
        result=result.as_dict(),
        estimate=facts.estimate,
    )
