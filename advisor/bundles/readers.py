"""Tolerant readers for the stored JSON: numbers with a named field on error, notes as plain lines.

Pure helpers for ``advisor.bundles.inputs``; each bad value raises ``AdvisorError(field=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import Enum, auto
from typing import Any, overload

from advisor.errors import AdvisorError

MAX_TEXT_LENGTH = 120  # a GPU name or label longer than this is not a name
MAX_NOTE_LENGTH = 400  # one migration step or note in the README


def texts(value: Any) -> tuple[str, ...]:
    """Warnings, switch triggers or migration notes as plain lines (dicts give their message)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                lines.append(f"{key}: {item}")
            elif isinstance(item, Mapping | list | tuple):
                lines.extend(f"{key}: {line}" for line in texts(item))
        return tuple(lines)
    lines = []
    for item in value:
        if isinstance(item, Mapping):
            text = item.get("message") or item.get("text") or item.get("description")
            if not text and item.get("condition"):
                becomes = f" (then: {item['becomes']})" if item.get("becomes") else ""
                text = f"{item['condition']}{becomes}"
            lines.append(str(text) if text else ", ".join(f"{k}: {v}" for k, v in item.items()))
        elif item is not None:
            lines.append(str(item))
    return tuple(line for line in lines if line.strip())


def one_line(value: Any, limit: int = MAX_TEXT_LENGTH) -> str:
    """Free text for README prose only: printable, one line, bounded."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return " ".join(text.split())[:limit]


def migration_lines(value: Any) -> tuple[str, ...]:
    """The rules engine's migration dict (path, steps, notes, code change) as plain lines."""
    if not isinstance(value, Mapping) or not any(k in value for k in ("path", "steps", "notes")):
        return texts(value)
    lines = [str(value["path"])] if value.get("path") else []
    lines += texts(value.get("steps")) + texts(value.get("notes"))
    change = value.get("code_change")
    if isinstance(change, Mapping) and change.get("before") and change.get("after"):
        lines.append(f"Code: `{change['before']}` becomes `{change['after']}`")
    return tuple(one_line(line, limit=MAX_NOTE_LENGTH) for line in lines)


def flag(value: Any, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def first_bool(*values: Any) -> bool | None:
    return next((value for value in values if isinstance(value, bool)), None)


def nested(data: Mapping[str, Any], key: str, sub: str) -> Any:
    inner = data.get(key)
    return inner.get(sub) if isinstance(inner, Mapping) else None


class _Required(Enum):
    """``default=`` left out: a missing value is an error, not a default."""

    REQUIRED = auto()


_REQUIRED = _Required.REQUIRED


def _missing(value: Any) -> bool:
    return value is None or value == ""


def _require(field: str) -> AdvisorError:
    return AdvisorError(f"{field} is required.", field=field)


@overload
def read_int(value: Any, *, field: str) -> int: ...
@overload
def read_int(value: Any, *, default: int, field: str) -> int: ...
@overload
def read_int(value: Any, *, default: None, field: str) -> int | None: ...
def read_int(value: Any, *, default: int | None | _Required = _REQUIRED, field: str) -> int | None:
    """A non-negative whole number; a missing value gives ``default`` (or raises without one)."""
    if _missing(value):
        if default is _REQUIRED:
            raise _require(field)
        return default
    if isinstance(value, bool):
        raise AdvisorError(f"{field} must be a whole number, got {value!r}.", field=field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AdvisorError(f"{field} must be a whole number, got {value!r}.", field=field) from None
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise AdvisorError(
            f"{field} must be a non-negative whole number, got {value!r}.", field=field
        )
    return int(number)


@overload
def read_float(value: Any, *, field: str) -> float: ...
@overload
def read_float(value: Any, *, default: None, field: str) -> float | None: ...
def read_float(value: Any, *, default: None | _Required = _REQUIRED, field: str) -> float | None:
    """A non-negative finite number; a missing value gives ``default`` (or raises without one)."""
    if _missing(value):
        if default is _REQUIRED:
            raise _require(field)
        return default
    if isinstance(value, bool):
        raise AdvisorError(f"{field} must be a number, got {value!r}.", field=field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AdvisorError(f"{field} must be a number, got {value!r}.", field=field) from None
    if not math.isfinite(number) or number < 0:
        raise AdvisorError(f"{field} must be a non-negative number, got {value!r}.", field=field)
    return number
