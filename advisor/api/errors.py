"""A JSON 404 for unknown paths under ``/api/`` (Django's own 404 page is HTML)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from advisor.api.exceptions import error_body


@login_not_required  # a JSON 404 under /api/, whoever asks
@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    message = f"No API endpoint at {request.path}; see /api/docs/."
    return JsonResponse(error_body(message), status=404)
