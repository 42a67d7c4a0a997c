"""System health: the database, the broker and a real worker round trip."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.db import connection

from advisor import __version__
from advisor.celery import app

OK = "ok"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Health:
    database: str
    broker: str
    worker: str
    version: str

    @property
    def healthy(self) -> bool:
        return self.database == OK and self.broker == OK

    def as_dict(self) -> dict:
        return asdict(self)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return UNAVAILABLE
    return OK


def broker_status(*, timeout: float) -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception:
        return UNAVAILABLE
    return OK


def worker_status(*, timeout: float) -> str:
    """Send the ping task and wait for its answer; an unanswered ping expires in the queue."""
    try:
        result = app.send_task("advisor.ping", expires=timeout + 1)
        reply = result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
    except (CeleryTimeout, Exception):
        return UNAVAILABLE
    finally:
        with contextlib.suppress(Exception):
            result.forget()
    return OK if isinstance(reply, dict) and reply.get("pong") else UNAVAILABLE


def health_check() -> Health:
    """Check each part; never raises, never waits much past ``ADVISOR_HEALTH_TIMEOUT_S``."""
    timeout = float(settings.ADVISOR_HEALTH_TIMEOUT_S)
    database = database_status()
    broker = broker_status(timeout=timeout)
    worker = worker_status(timeout=timeout) if broker == OK else UNAVAILABLE
    return Health(database=database, broker=broker, worker=worker, version=__version__)
