"""A JSON 404 for unknown paths under ``/api/`` (Django's own 404 page is HTML)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from advisor.api.exceptions import error_body


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    message = f"No API endpoint at {request.path}; see /api/docs/."
    return JsonResponse(error_body(message), status=404)
