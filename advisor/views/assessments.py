"""Assessments: the recommendation page (a permalink per assessment), re-running it, the history.

- ``GET /assessments/<id>/``: the newest recommendation with its reasons, warnings, switch
  triggers, comparison table, predicted capacity and cost, and the attached measurements.
- ``POST /assessments/<id>/recommend/``: recommend again (say, after a load test was attached).
- ``GET /history/``: every assessment, newest first, paginated.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from advisor.errors import AdvisorError
from advisor.models import Assessment
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


def _measured_runs(assessment: Assessment) -> list[Run]:
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
        runs.append(Run(f"{SERVER_NAMES.get(kind, kind)} measured", kind, levels))
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


@require_GET
def assessment_detail(request: HttpRequest, pk) -> HttpResponse:
    assessment = _assessment(request, pk)
    recommendation = assessment.recommendations.first()
    result = recommendation.result if recommendation else {}
    estimate = recommendation.estimate if recommendation else None
    context = {
        "assessment": assessment,
        "recommendation": recommendation,
        "result": result,
        "estimate": estimate or {},
        "reason_groups": [
            {"key": key, "title": title, "help": help_text, "reasons": result.get(key) or []}
            for key, title, help_text in REASON_GROUPS
        ],
        "load_tests": list(assessment.load_tests.all()),
        "charts": chart_specs(
            _measured_runs(assessment), estimate, targets_from_answers(assessment.answers)
        ),
        "metrics": METRICS,
        "performance": _performance_rows(estimate),
        "cost": _cost(result),
        "answers": sorted((assessment.answers or {}).items()),
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
