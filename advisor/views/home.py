from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisor.models import Assessment
from advisor.services.health import health_check


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    recent = Assessment.objects.all()[:10]
    return render(request, "home.html", {"health": health_check(), "recent": recent})
