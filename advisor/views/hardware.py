"""Hardware: this host's report, probing again, remote hosts through the broker, uploads.

- ``GET /hardware/``: the newest local report, the stored reports, the upload and probe forms.
- ``GET /hardware/hosts/``: remote hosts with a worker on ``host.<name>`` (a broker broadcast that
  waits about a second, so the page loads it separately; htmx gets just the list).
- ``POST /hardware/probe/`` (this host), ``/hardware/probe/remote/``, ``/hardware/upload/``:
  store a report and go to it, or show the page again with the errors on the fields.
- ``GET /hardware/<id>/``: one report; ``/hardware/<id>.json`` its JSON.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from advisor.errors import AdvisorError, AdvisorValidationError, BrokerUnavailableError
from advisor.forms.hardware import ProbeForm, RemoteProbeForm, UploadForm
from advisor.models import HardwareReport, HardwareSource
from advisor.services.hardware import (
    hardware_hosts_list,
    hardware_report_create,
    hardware_report_load_json,
    hardware_report_probe_local,
    hardware_report_probe_remote,
)
from advisor.services.health import OK, broker_status
from advisor.views.access import owner_of, visible, visitor_of

REPORTS_LISTED = 20


def _reports(request: HttpRequest):
    return visible(HardwareReport.objects.all(), request).order_by("-created_at")


def _page(request: HttpRequest, status: int = 200, **forms) -> HttpResponse:
    reports = _reports(request)
    context = {
        "local": reports.filter(source=HardwareSource.LOCAL).first(),
        "reports": reports[:REPORTS_LISTED],
        "probe_form": forms.get("probe_form") or ProbeForm(),
        "remote_form": forms.get("remote_form") or RemoteProbeForm(),
        "upload_form": forms.get("upload_form") or UploadForm(),
        "upload_errors": forms.get("upload_errors") or {},
    }
    return render(request, "hardware/index.html", context, status=status)


def _field_error(form, exc: AdvisorError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_GET
def hardware(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_GET
def hardware_hosts(request: HttpRequest) -> HttpResponse:
    """Remote hosts answering through the broker (a full page, or the list for htmx)."""
    template = "hardware/hosts.html#hosts" if request.htmx else "hardware/hosts.html"
    return render(
        request, template, {"hosts": hardware_hosts_list(), "remote_form": RemoteProbeForm()}
    )


@require_POST
def hardware_probe(request: HttpRequest) -> HttpResponse:
    form = ProbeForm(request.POST)
    if form.is_valid():
        try:
            report = hardware_report_probe_local(
                owner=owner_of(request),
                visitor=visitor_of(request),
                server_urls=form.cleaned_data["server_urls"],
            )
        except AdvisorError as exc:
            _field_error(form, exc)
        else:
            return redirect("hardware_report", report.pk)
    return _page(request, status=400, probe_form=form)


@require_POST
def hardware_probe_remote(request: HttpRequest) -> HttpResponse:
    form = RemoteProbeForm(request.POST)
    if form.is_valid():
        try:
            # As the API does: a broker that is down answers at once, not after the result
            # backend's 20 reconnection attempts.
            if broker_status(timeout=float(settings.ADVISOR_HEALTH_TIMEOUT_S)) != OK:
                raise BrokerUnavailableError()
            report = hardware_report_probe_remote(
                host=form.cleaned_data["host"],
                owner=owner_of(request),
                visitor=visitor_of(request),
                server_urls=form.cleaned_data["server_urls"],
            )
        except AdvisorError as exc:
            _field_error(form, exc)
        else:
            return redirect("hardware_report", report.pk)
    return _page(request, status=400, remote_form=form)


@require_POST
def hardware_upload(request: HttpRequest) -> HttpResponse:
    """Store an uploaded report; a bad one lists every field at fault and stores nothing."""
    form = UploadForm(request.POST, request.FILES)
    upload_errors: dict[str, list[str]] = {}
    if form.is_valid():
        try:
            data = hardware_report_load_json(text=form.report_text())
            report = hardware_report_create(
                report=data,
                source=HardwareSource.UPLOAD,
                owner=owner_of(request),
                visitor=visitor_of(request),
            )
        except AdvisorValidationError as exc:
            upload_errors = exc.errors
            form.add_error(None, "The report has errors; nothing was stored.")
        except AdvisorError as exc:
            target = "file" if request.FILES.get("file") else "text"
            form.add_error(target, exc.message)
        else:
            return redirect("hardware_report", report.pk)
    return _page(request, status=400, upload_form=form, upload_errors=upload_errors)


@require_GET
def hardware_report(request: HttpRequest, pk) -> HttpResponse:
    report = get_object_or_404(_reports(request), pk=pk)
    data = report.report or {}
    probes = data.get("probes") or {}
    return render(
        request,
        "hardware/report.html",
        {"report": report, "data": data, "probes": sorted(probes.items())},
    )


@require_GET
def hardware_report_json(request: HttpRequest, pk) -> JsonResponse:
    report = get_object_or_404(_reports(request), pk=pk)
    response = JsonResponse(report.report, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="hardware-{report.pk}.json"'
    return response
