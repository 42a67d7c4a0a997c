"""Load tests: pick a target, start, watch the live progress, cancel, read the results and charts.

- ``GET /loadtests/`` lists runs; ``GET|POST /loadtests/new/`` starts one (targets discovered by
  the stored hardware reports, or a typed URL); ``GET /loadtests/<id>/`` shows it, and with htmx
  answers only the live part, with status 286 once the run has finished so polling stops;
  ``POST /loadtests/<id>/cancel/`` asks the worker to stop; ``GET /loadtests/compare/?id=..``
  draws several runs (say an Ollama and a vLLM one) on one chart beside the prediction.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from advisor.errors import AdvisorError, BrokerUnavailableError
from advisor.forms.loadtest import ANY_WORKER, LoadTestForm
from advisor.loadtest import policy
from advisor.loadtest.config import DEFAULT_REQUESTS_PER_LEVEL, levels_around
from advisor.models import Assessment, HardwareReport, HardwareSource, LoadTest
from advisor.services.loadtests import loadtest_cancel, loadtest_create
from advisor.views.access import by_id, owned, owner_of, visible, visitor_of
from advisor.views.charts import Run, chart_specs, server_name, targets_from_config

# Most runs the list and a comparison show.
LIST_LIMIT = 50
# Questionnaire answers (advisor.rules.answers) -> the load test's SLO settings.
SLO_FROM_ANSWERS = {
    "slo_ttft_ms": "slo_ttft_ms",
    "slo_tpot_ms": "slo_tpot_ms",
    "slo_e2e_p95_ms": "slo_e2e_ms",
}
MAX_COMPARED = 6
# Questionnaire answers -> the load test's request shape.
SHAPE_FROM_ANSWERS = {"avg_prompt_tokens": "prompt_tokens", "avg_output_tokens": "max_tokens"}


def discovered_targets(request: HttpRequest) -> list[dict]:
    """Servers the latest report of each host found: {host, queue, kind, base_url, models}.

    A remote host's servers get its ``host.<name>`` queue (its worker answered the probe, and its
    loopback URLs only make sense from there); other reports run from any worker.
    """
    seen_hosts: set[str] = set()
    targets = []
    for report in visible(HardwareReport.objects.all(), request).order_by("-created_at")[:50]:
        host = report.host_name or (report.report.get("host") or {}).get("hostname", "")
        if host in seen_hosts:
            continue
        seen_hosts.add(host)
        for server in report.report.get("servers") or []:
            if not isinstance(server, dict) or not server.get("base_url"):
                continue
            targets.append(
                {
                    "host": host,
                    "source": report.get_source_display(),
                    # `make run` names host queues after the short host name (hostname -s).
                    "queue": f"host.{host.split('.')[0]}"
                    if host and report.source == HardwareSource.REMOTE
                    else ANY_WORKER,
                    "uploaded": report.source == HardwareSource.UPLOAD,
                    "kind": server_name(server.get("kind")),
                    "base_url": server["base_url"],
                    "models": [str(m) for m in server.get("models") or []][:20],
                }
            )
    return targets


def _queues(targets: list[dict]) -> list[tuple[str, str]]:
    queues = {t["queue"]: f"A worker on {t['host']}" for t in targets if t["queue"]}
    return sorted(queues.items())


def _form(request: HttpRequest, data=None, initial=None) -> LoadTestForm:
    targets = discovered_targets(request)
    form = LoadTestForm(
        data,
        initial=initial,
        queues=_queues(targets),
        assessments=visible(Assessment.objects.all(), request),
    )
    form.targets = targets
    return form


@require_GET
def loadtests_page(request: HttpRequest) -> HttpResponse:
    runs = visible(LoadTest.objects.all(), request)[:LIST_LIMIT]
    return render(request, "loadtests/list.html", {"runs": runs})


@require_http_methods(["GET", "POST"])
def loadtest_new(request: HttpRequest) -> HttpResponse:
    """The start form; a GET with ``base_url``/``model``/``queue``/``assessment`` pre-fills it."""
    if request.method == "GET":
        keys = ("base_url", "model", "queue", "assessment", "api")
        initial = {k: request.GET[k] for k in keys if request.GET.get(k)}
        assessment = by_id(visible(Assessment.objects.all(), request), initial.get("assessment"))
        if assessment is not None:
            # Measure the team's own workload against its own latency targets.
            answers = assessment.answers or {}
            for answer, setting in {**SLO_FROM_ANSWERS, **SHAPE_FROM_ANSWERS}.items():
                if answers.get(answer) is not None:
                    initial.setdefault(setting, answers[answer])
            peak = answers.get("peak_concurrent_users")
            if isinstance(peak, int) and not isinstance(peak, bool):
                levels = levels_around(peak)
                initial.setdefault("concurrency", ",".join(map(str, levels)))
                # Enough requests that the top level really runs that many at once.
                per_level = max(DEFAULT_REQUESTS_PER_LEVEL, levels[-1])
                per_level = min(per_level, policy.MAX_TOTAL_REQUESTS // len(levels))
                initial.setdefault("requests_per_level", per_level)
        return render(request, "loadtests/new.html", {"form": _form(request, initial=initial)})

    form = _form(request, request.POST)
    if form.is_valid():
        try:
            load_test = loadtest_create(
                owner=owner_of(request),
                visitor=visitor_of(request),
                config=form.cleaned_data["config"],
                queue=form.cleaned_data.get("queue") or "",
                assessment=form.cleaned_data.get("assessment"),
            )
        except AdvisorError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            if isinstance(exc, BrokerUnavailableError):
                return render(request, "loadtests/new.html", {"form": form}, status=503)
        else:
            return redirect("loadtest", load_test.pk)
    return render(request, "loadtests/new.html", {"form": form}, status=400)


def _predicted_estimate(load_test: LoadTest) -> dict | None:
    """The estimate of the newest recommendation of an assessment this run is attached to."""
    for assessment in load_test.assessments.all():
        rec = assessment.recommendations.first()
        if rec is not None and rec.estimate:
            return rec.estimate
    return None


def _run(load_test: LoadTest) -> Run:
    levels = [
        {
            "concurrency": level.concurrency,
            "output_token_throughput": level.output_token_throughput,
            **level.metrics,
        }
        for level in load_test.levels.all()
    ]
    label = f"{server_name(load_test.backend_kind or load_test.api)} measured"
    return Run(label, load_test.backend_kind or load_test.api, levels)


def _detail_context(load_test: LoadTest) -> dict:
    progress = load_test.progress or {}
    levels = list(load_test.levels.all())
    planned = len((load_test.config or {}).get("concurrency") or []) or 1
    return {
        "run": load_test,
        "levels": levels,
        "progress": progress,
        "levels_done": progress.get("levels_done", len(levels)),
        "levels_total": max(progress.get("levels_total") or planned, 1),
        "charts": chart_specs(
            [_run(load_test)],
            _predicted_estimate(load_test),
            targets_from_config(load_test.config),
        ),
    }


@require_GET
def loadtest_detail(request: HttpRequest, pk) -> HttpResponse:
    load_test = get_object_or_404(visible(LoadTest.objects.all(), request), pk=pk)
    context = _detail_context(load_test)
    if request.htmx:
        response = render(request, "loadtests/detail.html#live", context)
        # 286 tells htmx to stop polling; the finished results are swapped in all the same.
        return HttpResponseStopPolling(response.content) if load_test.is_finished else response
    return render(request, "loadtests/detail.html", context)


@require_POST
def loadtest_cancel_view(request: HttpRequest, pk) -> HttpResponse:
    load_test = get_object_or_404(owned(LoadTest.objects.all(), request), pk=pk)
    if load_test.is_finished:
        messages.info(
            request, f"This load test had already {load_test.get_status_display().lower()}."
        )
    else:
        loadtest_cancel(load_test=load_test)
        messages.info(
            request, "Cancelling: the worker stops within two seconds and keeps the levels done."
        )
    if request.htmx:
        load_test.refresh_from_db()
        return render(request, "loadtests/detail.html#live", _detail_context(load_test))
    return redirect("loadtest", load_test.pk)


@require_GET
def loadtest_compare(request: HttpRequest) -> HttpResponse:
    """Several runs on one chart; ``assessment`` adds that assessment's prediction."""
    ids = request.GET.getlist("id")[:MAX_COMPARED]
    runs_qs = visible(LoadTest.objects.all(), request)
    runs = []
    for raw in ids:
        run = by_id(runs_qs, raw)
        if run is None:
            return render(
                request,
                "loadtests/compare.html",
                {"error": f"No load test {raw!r}.", "runs": [], "charts": []},
                status=404,
            )
        runs.append(run)
    estimate = None
    if request.GET.get("assessment"):
        assessment = by_id(visible(Assessment.objects.all(), request), request.GET["assessment"])
        rec = assessment.recommendations.first() if assessment else None
        estimate = rec.estimate if rec else None
    elif runs:
        estimate = next((e for e in map(_predicted_estimate, runs) if e), None)
    # The targets of the first run that set any (runs compared side by side share a workload).
    targets = next((t for t in (targets_from_config(r.config) for r in runs) if t), {})
    charts = chart_specs([_run(r) for r in runs], estimate, targets)
    return render(request, "loadtests/compare.html", {"runs": runs, "charts": charts})
