"""The questionnaire: answers in, an assessment with its recommendation out.

``GET /assess/`` shows the form (hardware answers pre-filled from this machine's latest probe);
``POST /assess/`` validates with the questionnaire contract, creates the assessment and its
recommendation and redirects to the recommendation, or re-renders with every field error.
``POST /assess/validate/`` is the inline check htmx sends as each answer changes: it answers the
error fragment of the field that changed, and out-of-band fragments for the other answered fields
(a cross-field conflict shows, or clears, on both fields at once).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.forms.questionnaire import QuestionnaireForm, initial_from_report
from advisor.models import Assessment, HardwareReport, HardwareSource
from advisor.services.assessments import recommendation_create
from advisor.views.access import by_id, owner_of, visible, visitor_of
from advisor.views.catalog import catalog_search

TEMPLATE = "questionnaire.html"


def _form(request: HttpRequest, data=None, initial=None) -> QuestionnaireForm:
    reports = visible(HardwareReport.objects.all(), request)
    return QuestionnaireForm(
        data, initial=initial, reports=reports, validate_url=reverse("assess_validate")
    )


def _context(form: QuestionnaireForm, local_report: HardwareReport | None) -> dict:
    return {
        "form": form,
        "local_report": local_report,
        "model_options": catalog_search("models", ""),
        "gpu_options": catalog_search("gpus", ""),
        "quantization_options": catalog_search("quantizations", ""),
    }


def initial_from_answers(assessment: Assessment) -> dict:
    """Form values from a stored assessment: its answers, title and hardware report."""
    initial = {k: v for k, v in (assessment.answers or {}).items() if v is not None}
    if isinstance(initial.get("custom_model"), dict):
        initial["custom_model"] = json.dumps(initial["custom_model"])
    initial["title"] = assessment.title
    initial["hardware_report"] = assessment.hardware_report_id
    return initial


@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest) -> HttpResponse:
    reports = visible(HardwareReport.objects.all(), request).order_by("-created_at")
    local = reports.filter(source=HardwareSource.LOCAL).first()
    if request.method == "GET":
        # ?hardware_report=<id> (from a report's page) pre-fills from that report instead.
        chosen = by_id(reports, request.GET.get("hardware_report", ""))
        local = chosen or local
        initial = initial_from_report(local.report if local else None)
        if local is not None:
            initial["hardware_report"] = local.pk
        # ?from=<assessment id> (its "change the answers" link) starts from those answers.
        source = by_id(visible(Assessment.objects.all(), request), request.GET.get("from"))
        if source is not None:
            initial = initial_from_answers(source)
        return render(request, TEMPLATE, _context(_form(request, initial=initial), local))

    form = _form(request, request.POST)
    if form.is_valid():
        try:
            recommendation = recommendation_create(
                answers=form.cleaned_data["answers"].as_dict(),
                hardware_report=form.cleaned_data.get("hardware_report"),
                owner=owner_of(request),
                visitor=visitor_of(request),
                title=form.cleaned_data.get("title", ""),
            )
        except AdvisorValidationError as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
        except AdvisorError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("assessment", recommendation.assessment_id)
    return render(request, TEMPLATE, _context(form, local), status=400)


@require_POST
def questionnaire_validate(request: HttpRequest) -> HttpResponse:
    """The error fragment for the field that changed (htmx's ``HX-Trigger-Name``, or ``_field``)."""
    name = (request.htmx.trigger_name if request.htmx else None) or request.POST.get("_field", "")
    form = _form(request, request.POST)
    if name not in form.fields:
        errors = [f"unknown question {name!r}"] if name else ["say which question to check"]
        context = {"name": "form", "errors": errors}
        return render(request, "partials/field_error.html", context, status=400)
    errors = form.errors_for(name)
    # One answer can make another wrong or right (macOS with an H100; a prompt longer than the
    # context), so every other answered field's error is swapped in too, out of band. Fields
    # left blank keep quiet until they are answered.
    others = [
        {"name": other, "errors": form.errors.get(other, []), "oob": True}
        for other in form.fields
        if other not in (name, "title") and form.data.get(other) not in (None, "")
    ]
    return render(
        request,
        "partials/field_error.html",
        {"name": name, "errors": errors, "others": others},
    )
