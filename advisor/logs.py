"""Structured logs: ``LOG_FORMAT=json`` writes one JSON object a line (for Loki, ELK, journald).

Fields: ``time`` (UTC ISO 8601), ``level``, ``logger``, ``message``, ``process``, the exception text
when there is one, and every ``extra={...}`` field the caller passed (e.g. ``method``, ``path``,
``status``, ``duration_ms`` from the request log).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as a single JSON line; values that JSON cannot hold become strings."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
