"""One error shape for every API error: ``{"message": ..., "errors": {field: [...]}}``.

- ``AdvisorError`` (a service refused the input) -> 400 with its field.
- DRF validation errors -> 400 with every field's messages (nested fields joined with dots).
- A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) 413; JSON nested too deep 400.
- Authentication 401, permission 403, not found 404, throttled 429 (with ``Retry-After``), ...
- The task broker unreachable -> 503 ``BrokerUnavailable``: work that needs a worker cannot be
  queued, while everything that only reads the database keeps working.
Errors that belong to no field are listed under ``non_field_errors``.
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from advisor.errors import AdvisorError, BrokerUnavailableError

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"
BROKER_ERRORS = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BrokerUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "The task broker (Redis) is unavailable, so this work cannot be queued. "
        "Pages and stored results still work; try again when GET /healthz reports the broker ok."
    )
    default_code = "broker_unavailable"


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub": [messages]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = NON_FIELD if key == "non_field_errors" and not prefix else f"{prefix}{key}"
            for field, messages in _flatten(value, f"{name}.").items():
                flat.setdefault(field, []).extend(messages)
        return flat
    field = prefix.rstrip(".") or NON_FIELD
    if isinstance(detail, list):
        if detail and all(isinstance(item, dict | list) for item in detail):
            flat = {}
            for index, item in enumerate(detail):
                for key, messages in _flatten(item, f"{field}.{index}.").items():
                    flat.setdefault(key, []).extend(messages)
            return flat
        return {field: [str(item) for item in detail]}
    return {field: [str(detail)]}


def error_body(message: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"message": message, "errors": errors or {NON_FIELD: [message]}}


def exception_handler(exc, context) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every handled error answers in the one shape."""
    if isinstance(exc, BrokerUnavailableError):
        exc = BrokerUnavailable(exc.message)
    elif isinstance(exc, AdvisorError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, BROKER_ERRORS):
        logger.warning("task broker unavailable: %s", exc)
        exc = BrokerUnavailable()
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = PayloadTooLarge(f"The request body is larger than {limit:,} bytes.")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail) or {NON_FIELD: ["Invalid input."]}
        field, messages = next(iter(errors.items()))
        message = messages[0] if field == NON_FIELD else f"{field}: {messages[0]}"
        response.data = error_body(message, errors)
    else:
        response.data = error_body(str(getattr(exc, "detail", "Request failed.")))
    return response
