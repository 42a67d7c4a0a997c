"""Assessments: the recommendation page (a permalink per assessment), re-running it, the history.

- ``GET /assessments/<id>/``: the newest recommendation with its reasons, warnings, switch
  triggers, comparison table, predicted capacity and cost, and the attached measurements.
- ``POST /assessments/<id>/recommend/``: recommend again (say, after a load test was attached).
- ``GET /history/``: every assessment, newest first, paginated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from advisor.errors import AdvisorError
from advisor.models import Assessment, LoadTest
from advisor.rules.answers import READING_FIELDS
from advisor.services.assessments import recommendation_refresh
from advisor.views.access import visible
from advisor.views.charts import (
    METRICS,
    SERVER_NAMES,
    Run,
    chart_specs,
    metric_value,
    targets_from_answers,
)
from probes.kinds import Backend

HISTORY_PAGE_SIZE = 25
REASON_GROUPS = (
    ("decisive", "Decisive reasons", "These settle it."),
    ("supporting", "Supporting reasons", "They point the same way."),
    ("opposing", "Reasons for the other server", "Weighed, and outweighed."),
    ("notes", "Notes", "Worth knowing; they favour neither server."),
)


def _assessment(request: HttpRequest, pk) -> Assessment:
    queryset = visible(Assessment.objects.all(), request).select_related("hardware_report")
    return get_object_or_404(queryset, pk=pk)


@dataclass(frozen=True)
class Measurement:
    """An attached load test as listed: its row, the hardware it ran on and whether it counted."""

    row: LoadTest
    label: str  # "measured on other hardware (...)", "measured on this hardware (...)"
    other_hardware: bool


def _measurements(assessment: Assessment, result: dict) -> list[Measurement]:
    """The attached load tests, labelled as the newest recommendation weighed them; a test
    attached since is labelled by its own record until the rules run again."""
    weighed = {row["id"]: row for row in result.get("measurements") or ()}  # older results: none
    out = []
    for load_test in assessment.load_tests.all():
        row = weighed.get(str(load_test.pk))
        if row is not None:
            out.append(Measurement(load_test, row["label"], not row["same_hardware"]))
            continue
        record = load_test.measured_on
        said = record["label"] if record else "hardware unknown"
        out.append(Measurement(load_test, f"measured on {said}; not weighed yet", False))
    return out


def _measured_runs(assessment: Assessment, other_hardware: set[str]) -> list[Run]:
    runs = []
    for load_test in assessment.load_tests.all():
        levels = [
            {
                "concurrency": level.concurrency,
                "output_token_throughput": level.output_token_throughput,
                **level.metrics,
            }
            for level in load_test.levels.all()
        ]
        kind = load_test.backend_kind or load_test.api
        where = " on other hardware" if str(load_test.pk) in other_hardware else ""
        runs.append(Run(f"{SERVER_NAMES.get(kind, kind)} measured{where}", kind, levels))
    return runs


def _performance_rows(estimate: dict | None) -> list[dict]:
    """The prediction as table rows: server, concurrency and the charted metrics."""
    rows = []
    for row in (estimate or {}).get("performance") or []:
        if not isinstance(row, dict):
            continue
        rows.append(
            {
                "server": SERVER_NAMES.get(str(row.get("server")), row.get("server")),
                "concurrency": row.get("concurrency"),
                "values": [metric_value(row, metric) for metric in METRICS],
                "fits": row.get("fits", True),
            }
        )
    return rows


def _runnable(estimate: dict | None, result: dict) -> dict | None:
    """The estimate without the predicted levels of a server the verdict says cannot run on
    this hardware (``fit.vllm_unavailable``: a Mac, CPU only), so neither table nor chart sizes it."""
    if not estimate or not (result.get("fit") or {}).get("vllm_unavailable"):
        return estimate
    rows = [row for row in estimate.get("performance") or [] if row.get("server") != "vllm"]
    return {**estimate, "performance": rows}


def _cost(result: dict) -> dict | None:
    """The recommendation's cost at the user's peak (``Facts.cost``), its servers named for display;
    None for a recommendation stored before it carried one, or without a price."""
    cost = result.get("cost")
    if not cost:
        return None
    return {
        **cost,
        "rows": [{**row, "name": Backend(row["server"]).label} for row in cost["servers"]],
        "excluded": [{**row, "name": Backend(row["server"]).label} for row in cost["not_viable"]],
    }


def _answer_shown(name: str, value):
    """An answer as the page lists it: pasted server output as its size, not its text."""
    if name in READING_FIELDS and isinstance(value, str):
        lines = value.count("\n") + 1
        return f"pasted, {lines:,} line{'s' if lines != 1 else ''}"
    return value


@require_GET
def assessment_detail(request: HttpRequest, pk) -> HttpResponse:
    assessment = _assessment(request, pk)
    recommendation = assessment.recommendations.first()
    result = recommendation.result if recommendation else {}
    estimate = recommendation.estimate if recommendation else None
    predicted = _runnable(estimate, result)
    measurements = _measurements(assessment, result)
    other = {str(m.row.pk) for m in measurements if m.other_hardware}
    context = {
        "assessment": assessment,
        "recommendation": recommendation,
        "result": result,
        "estimate": estimate or {},
        # The serving plan (absent only on rows stored before plans existed).
        "plan": (estimate or {}).get("plan") or {},
        "reason_groups": [
            {"key": key, "title": title, "help": help_text, "reasons": result.get(key) or []}
            for key, title, help_text in REASON_GROUPS
        ],
        "measurements": measurements,
        "charts": chart_specs(
            _measured_runs(assessment, other), predicted, targets_from_answers(assessment.answers)
        ),
        "metrics": METRICS,
        "performance": _performance_rows(predicted),
        "cost": _cost(result),
        "answers": [
            (k, _answer_shown(k, v)) for k, v in sorted((assessment.answers or {}).items())
        ],
    }
    return render(request, "assessment.html", context)


@require_POST
def assessment_recommend(request: HttpRequest, pk) -> HttpResponse:
    """Recommend again with the evidence attached now; errors come back on the page."""
    assessment = _assessment(request, pk)
    try:
        recommendation_refresh(assessment=assessment)
    except AdvisorError as exc:
        messages.error(request, f"Could not recommend again: {exc.message}")
    return redirect("assessment", assessment.pk)


@require_GET
def history(request: HttpRequest) -> HttpResponse:
    assessments = visible(Assessment.objects.prefetch_related("recommendations"), request)
    page = Paginator(assessments, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "history.html", {"page": page})
