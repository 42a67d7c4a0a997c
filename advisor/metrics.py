"""Prometheus metrics for the advisor, served at ``/metrics``.

- ``advisor_http_requests_total{method,route,status}`` and
  ``advisor_http_request_duration_seconds{method,route}`` from ``RequestMetricsMiddleware``
  (``route`` is the URL pattern, e.g. ``api/v1/load-tests/<uuid:pk>/``, so labels stay few).
- ``advisor_celery_tasks_total{task,state}`` and ``advisor_celery_task_duration_seconds{task}``
  from Celery signals in the worker.
- ``advisor_load_tests{status}`` and ``advisor_recommendations{backend}``: counted from the
  database at scrape time, so they are right whichever process or host did the work.

Several processes (gunicorn workers, Celery's prefork children): set ``PROMETHEUS_MULTIPROC_DIR``
to an empty folder shared by the processes on one host (wiped at start) and every process writes its
counters there; ``/metrics`` then sums them (prometheus_client's multiprocess mode). Without it each
process reports only its own counters. See docs/operations.md.
"""

from __future__ import annotations

import logging
import os
import time

from celery import signals
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("advisor.requests")

UNMATCHED_ROUTE = "<unmatched>"
# Web latencies: 5 ms (a cached read) up to 10 s (a slow estimate or a stuck database).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Tasks: a ping takes milliseconds, a load test up to the 480 s hard limit (settings.py).
TASK_BUCKETS = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 480)

HTTP_REQUESTS = Counter(
    "advisor_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "advisor_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
TASKS = Counter("advisor_celery_tasks_total", "Celery tasks finished", ["task", "state"])
TASK_DURATION = Histogram(
    "advisor_celery_task_duration_seconds", "Celery task run time", ["task"], buckets=TASK_BUCKETS
)


class RequestMetricsMiddleware:
    """Count and time every request; log it to ``advisor.requests`` with structured fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else UNMATCHED_ROUTE
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        HTTP_DURATION.labels(request.method, route).observe(elapsed)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
        return response


class DatabaseCollector:
    """Gauges counted from the database at scrape time (right across processes and hosts)."""

    def collect(self):
        try:
            yield from self._collect()
        except DatabaseError:  # the database is down: /metrics still answers with the rest
            logger.warning("metrics: database unavailable, skipping the stored-row gauges")

    def _collect(self):
        from advisor.models import LoadTest, LoadTestStatus, Recommendation

        load_tests = GaugeMetricFamily(
            "advisor_load_tests", "Load tests stored, by status", labels=["status"]
        )
        counts = dict(LoadTest.objects.values_list("status").annotate(n=Count("id")))
        for status in LoadTestStatus.values:
            load_tests.add_metric([status], counts.get(status, 0))
        yield load_tests
        recommendations = GaugeMetricFamily(
            "advisor_recommendations", "Recommendations stored, by backend", labels=["backend"]
        )
        for backend, n in Recommendation.objects.values_list("backend").annotate(n=Count("id")):
            recommendations.add_metric([backend], n)
        yield recommendations


def metrics_registry() -> CollectorRegistry:
    """This process's registry, or every process's counters in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(DatabaseCollector())
    return registry


class _ProcessMetrics:
    """The default registry's metrics (ours plus process and Python ones) inside a new registry."""

    def collect(self):
        yield from REGISTRY.collect()


@login_not_required  # load balancers and Prometheus have no session
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition of ``metrics_registry()``."""
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


_task_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_prerun(task_id=None, **_):
    _task_started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_postrun(task_id=None, task=None, state=None, **_):
    started = _task_started.pop(task_id, None)
    name = getattr(task, "name", "unknown")
    TASKS.labels(name, state or "UNKNOWN").inc()
    if started is not None:
        TASK_DURATION.labels(name).observe(time.perf_counter() - started)
