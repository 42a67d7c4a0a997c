"""One error type for the domain: a message and, when it applies, the input field at fault."""

from __future__ import annotations

from typing import Any


class AdvisorError(Exception):
    """Bad input or an impossible request. ``field`` names the input at fault (None: the whole).

    Forms turn it into a field error; the API into ``{"message": ..., "errors": {field: [...]}}``.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        key = self.field or "non_field_errors"
        return {"message": self.message, "errors": {key: [self.message]}}


class AdvisorValidationError(AdvisorError):
    """Several bad inputs at once: ``errors`` maps each field to its messages (all of them).

    ``message`` summarises, ``field`` is the first field at fault, so code that only knows
    ``AdvisorError`` still works; ``as_dict()`` returns every field's errors.
    """

    def __init__(self, errors: dict[str, list[str]]):
        if not errors:
            raise ValueError("AdvisorValidationError needs at least one field error")
        self.errors = {field: list(messages) for field, messages in errors.items()}
        first_field = next(iter(self.errors))
        count = sum(len(messages) for messages in self.errors.values())
        summary = self.errors[first_field][0]
        if count > 1:
            summary = f"{count} invalid answers; first: {first_field}: {summary}"
        super().__init__(summary, field=first_field)

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "errors": {k: list(v) for k, v in self.errors.items()}}


class BrokerUnavailableError(AdvisorError):
    """The task broker did not take work that needs a worker; nothing was queued.

    Forms show it as a form error; the API answers 503 (a server-side outage, not bad input).
    """

    def __init__(self) -> None:
        super().__init__(
            "The task broker (Redis) is unavailable, so this work cannot be queued and nothing "
            "was started. Pages and stored results still work; try again when the status page "
            "(or GET /healthz) reports the broker ok."
        )
