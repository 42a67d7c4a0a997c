"""Home: what the advisor does, system status in words, the start button and recent assessments."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisor.models import Assessment
from advisor.services.health import health_check
from advisor.views.access import visible

# How many assessments the home page lists; the history page has the rest.
RECENT_ASSESSMENTS = 5


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The landing page. System status loads in a second request so the page never waits on it."""
    recent = visible(Assessment.objects.prefetch_related("recommendations"), request)
    return render(request, "home.html", {"recent": recent[:RECENT_ASSESSMENTS]})


@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """System status in words (a full page, or just the ``status`` part for htmx)."""
    template = "status.html#status" if request.htmx else "status.html"
    return render(request, template, {"health": health_check()})
