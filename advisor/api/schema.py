"""OpenAPI: every operation documents its error answers in the one error shape.

``ErrorSerializer`` is ``{"message": str, "errors": {field: [str]}}``. ``AdvisorAutoSchema`` adds,
where they can happen: 400 and 415 on writes (400 also on lists, for a bad ``page_size``), 401 wherever a token may be sent (a bad token is a 401
even on public endpoints), 404 on detail views and paginated lists, 429 on throttled views and 503
on views that queue work on the broker (``needs_broker = True``).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="What went wrong, in one sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field; 'non_field_errors' for the request as a whole.",
    )


ERROR_EXAMPLE = OpenApiExample(
    "Validation error",
    value={
        "message": "gpu_count: Ensure this value is less than or equal to 64.",
        "errors": {"gpu_count": ["Ensure this value is less than or equal to 64."]},
    },
    response_only=True,
    status_codes=["400"],
)

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: every bad field is listed under `errors`.",
    "401": "No token, or an unknown or revoked one.",
    "404": "No such object (or not yours), or a page past the end.",
    "415": "The body must be JSON (`Content-Type: application/json`).",
    "429": "Throttled: wait the seconds in `Retry-After`.",
    "503": "The task broker is unavailable; stored results still read fine.",
}


class AdvisorAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer, direction):
        """Nested ``SomeApi.InputSerializer`` becomes ``SomeInput`` (names must be unique)."""
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            name = outer.removesuffix("Api") + inner.removesuffix("Serializer")
            return name if direction == "response" else name.removesuffix("Input")
        return super().get_serializer_name(serializer, direction)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in WRITE_METHODS:
            codes += ["400", "415"]
        if self.view.get_authenticators():
            codes.append("401")
        paginated = self.method == "GET" and self._is_list_view()
        if paginated:
            codes.append("400")  # a malformed page_size
        if "{" in self.path or paginated:
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        if getattr(self.view, "needs_broker", False) and self.method in WRITE_METHODS:
            codes.append("503")
        return codes
