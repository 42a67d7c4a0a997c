"""Assessments and their recommendations as rows: the only writer of both, for the web and the API.

The rules engine (``advisor.rules``) is pure; this module builds ``Facts`` from the answers and the
attached rows (hardware report, load tests), runs it, and stores the engine's ``Recommendation.as_dict()`` with the capacity
estimate behind it. ``manage.py advise`` runs the same core on files and stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from advisor.errors import AdvisorError
from advisor.models import Assessment, HardwareReport, HardwareSource, LoadTest, Recommendation
from advisor.rules.answers import Answers
from advisor.rules.assemble import facts_build
from advisor.rules.recommend import recommend
from advisor.services.hardware import hardware_report_store, hardware_report_validate

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


def _facts_and_verdict(answers: Answers, report: dict | None, rows: Iterable[LoadTest]):
    facts = facts_build(answers, hardware_report=report, load_tests=load_test_results(rows))
    return facts, recommend(facts)


def _recommendation_row(assessment: Assessment, facts, verdict) -> Recommendation:
    return Recommendation.objects.create(
        assessment=assessment,
        backend=verdict.backend.value,
        confidence=verdict.confidence,
        result=verdict.as_dict(),
        estimate=facts.estimate,
    )


def recommendation_create(
    *,
    answers: dict,
    hardware_report: HardwareReport | None = None,
    hardware: dict | None = None,
    load_tests: Iterable = (),
    owner=None,
    visitor: str = "",
    title: str = "",
) -> Recommendation:
    """Answer a questionnaire: store the assessment and its verdict, all or nothing.

    ``owner`` is the signed-in user, ``visitor`` the anonymous session's key (when no owner).
    ``hardware_report`` is a stored report; ``hardware`` an inline one (``python -m probes
    --json``), stored as an upload with the assessment. ``load_tests`` are ``LoadTest`` rows or ids
    with a result. Everything is validated and the rules run first; then one transaction stores the
    inline report, the assessment, its load tests and the recommendation. Raises ``AdvisorError``
    (an ``AdvisorValidationError`` for answers, naming every bad field); nothing is saved on error.
    """
    if hardware_report is not None and hardware is not None:
        raise AdvisorError(
            "Send a stored or an inline hardware report, not both.", field="hardware"
        )
    if hardware_report is not None and not _owned_by(hardware_report, owner, visitor):
        raise AdvisorError("that hardware report belongs to someone else", field="hardware_report")
    report = hardware_report.report if hardware_report is not None else None
    if hardware is not None:
        report = hardware_report_validate(report=hardware)
    parsed = Answers.parse(answers, hardware_report_attached=report is not None)
    rows = _load_tests(load_tests, owner, visitor)
    facts, verdict = _facts_and_verdict(parsed, report, rows)
    title = (title or "").strip()[:TITLE_MAX_LENGTH] or _default_title(parsed)[:TITLE_MAX_LENGTH]
    owner_row = owner if owner is not None and getattr(owner, "is_authenticated", False) else None
    visitor = "" if owner_row is not None else visitor
    with transaction.atomic():
        if hardware is not None:
            hardware_report = hardware_report_store(
                report=report, source=HardwareSource.UPLOAD, owner=owner_row, visitor=visitor
            )
        assessment = Assessment.objects.create(
            owner=owner_row,
            visitor=visitor,
            title=title,
            answers=parsed.as_dict(),
            hardware_report=hardware_report,
        )
        assessment.load_tests.add(*rows)
        return _recommendation_row(assessment, facts, verdict)


def recommendation_refresh(*, assessment: Assessment) -> Recommendation:
    """Run the rules again on a stored assessment's answers and attachments; store the new verdict."""
    report = assessment.hardware_report.report if assessment.hardware_report_id else None
    answers = Answers.parse(assessment.answers, hardware_report_attached=report is not None)
    rows = assessment.load_tests.all()
    facts, verdict = _facts_and_verdict(answers, report, rows)
    return _recommendation_row(assessment, facts, verdict)


def load_test_results(rows: Iterable[LoadTest]) -> list[dict]:
    """The load tests' results, oldest first, each with its row's id, the hardware it ran on
    (``measured_on``: None for rows stored before it was recorded) and its target kind (from the
    row when the result lacks one)."""
    results = []
    for row in sorted(rows, key=lambda row: (row.created_at, row.pk)):
        if not row.result:
            continue
        result = {**row.result, "id": str(row.pk), "measured_on": row.measured_on}
        target = dict(result.get("target") or {})
        if not target.get("kind"):
            target["kind"] = row.backend_kind
        result["target"] = target
        results.append(result)
    return results
