"""One error type for the domain: a message and, when it applies, the input field at fault."""

from __future__ import annotations


class AdvisorError(Exception):
    """Bad input or an impossible request. ``field`` names the input at fault (None: the whole).

    Forms turn it into a field error; the API into ``{"message": ..., "errors": {field: [...]}}``.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        key = self.field or "non_field_errors"
        return {"message": self.message, "errors": {key: [self.message]}}
