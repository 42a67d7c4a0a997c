"""Waiting in tests for something that takes wall-clock time: a server to start, a worker to answer,
a run to reach a status.

The suite runs on 2-core machines where another process may keep a core busy: a gunicorn boot or a
worker round trip that takes 1 s on a quiet machine can take 10 s there. So a wait polls until a
generous deadline, and every failure of one attempt (refused, reset, a read that timed out, a 5xx,
a half-written answer) only means "not yet". Only the deadline fails the test, naming the last
thing seen. Speed is measured in bench/, never asserted here.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Long enough for a cold start (gunicorn + Django import, a Celery worker) on a busy 2-core machine.
DEADLINE_S = 120.0
# One attempt's own limit: a slow answer is retried, it does not end the wait.
ATTEMPT_TIMEOUT_S = 10.0


def wait_until(
    probe: Callable[[], T],
    what: str,
    timeout_s: float = DEADLINE_S,
    interval_s: float = 0.2,
    alive: Callable[[], str | None] | None = None,
) -> T:
    """Call ``probe`` until it returns a truthy value and return that value.

    An exception from ``probe`` counts as "not yet" (any kind: the caller's probe decides what a
    success is). ``alive``, when given, is called between attempts and returns why waiting is
    pointless (e.g. "gunicorn exited with 3"), which fails at once instead of at the deadline.
    """
    deadline = time.monotonic() + timeout_s
    last = "no attempt finished"
    while True:
        try:
            value = probe()
        except Exception as exc:  # noqa: BLE001 - every failure of one attempt is "not yet"
            last = f"{type(exc).__name__}: {exc}"
        else:
            if value:
                return value
            last = f"not yet: {value!r}"
        if alive is not None and (dead := alive()):
            raise AssertionError(f"gave up waiting for {what}: {dead} (last attempt: {last})")
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not ready after {timeout_s:.0f} s (last attempt: {last})")
        time.sleep(interval_s)


def http_get(url: str, timeout_s: float = ATTEMPT_TIMEOUT_S) -> tuple[int, bytes]:
    """One GET: ``(status, body)`` for any HTTP answer, including 4xx/5xx; raises on no answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for_http(
    url: str,
    what: str | None = None,
    ready: Callable[[int, bytes], bool] = lambda status, body: True,
    timeout_s: float = DEADLINE_S,
    alive: Callable[[], str | None] | None = None,
) -> tuple[int, bytes]:
    """GET ``url`` until it answers and ``ready(status, body)`` holds; returns the last answer."""

    def probe() -> tuple[int, bytes] | None:
        status, body = http_get(url)
        return (status, body) if ready(status, body) else None

    return wait_until(probe, what or url, timeout_s=timeout_s, alive=alive)


def process_alive(process) -> Callable[[], str | None]:
    """For ``alive=``: why waiting on ``process`` (a Popen) is pointless, or None while it runs."""

    def check() -> str | None:
        code = process.poll()
        return None if code is None else f"{process.args[:4]} exited with {code}"

    return check
