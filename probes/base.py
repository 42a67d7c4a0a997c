"""The contract every probe keeps, and the runner that holds each one to a time limit.

A probe is a module in ``probes/`` with a function ``probe() -> Outcome``. It never raises for a
missing library or device: it returns ``Outcome.absent(reason)``. The runner turns anything it does
raise into ``status="error"`` and gives up on a probe that runs past its timeout (NVML can hang in
the driver), so a report always comes back.

Standard library only: this package runs standalone on GPU hosts without Django.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A healthy probe takes milliseconds; NVML init on a many-GPU host takes up to ~1 s. 3 s leaves room
# while keeping the whole report under the 5 s a probe may take when it hangs (bench/probes.py measures it).
DEFAULT_TIMEOUT_S = 3.0


class Status(enum.StrEnum):
    OK = "ok"
    ABSENT = "absent"  # the library or the device is not there: a fact, not a failure
    ERROR = "error"


@dataclass
class Outcome:
    """What one probe found: its status, a human ``detail`` line and its ``data`` for the report."""

    status: Status
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0

    @classmethod
    def ok(cls, data: dict[str, Any], detail: str = "") -> Outcome:
        return cls(Status.OK, detail, data)

    @classmethod
    def absent(cls, detail: str, data: dict[str, Any] | None = None) -> Outcome:
        return cls(Status.ABSENT, detail, data or {})

    @classmethod
    def error(cls, detail: str, data: dict[str, Any] | None = None) -> Outcome:
        return cls(Status.ERROR, detail, data or {})

    def summary(self) -> dict[str, Any]:
        """The ``probes.<name>`` entry of the report: status, detail, duration_ms."""
        return {
            "status": str(self.status),
            "detail": self.detail,
            "duration_ms": round(self.duration_ms, 1),
        }


ProbeFn = Callable[[], Outcome]

# Probes whose last run never came back, by name: starting another thread into a hung driver call
# would only pile up stuck threads in a long-lived worker.
_HUNG: dict[str, threading.Thread] = {}
_HUNG_LOCK = threading.Lock()


def run_probes(
    probes: dict[str, ProbeFn], *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> dict[str, Any]:
    """Run every probe at once, each in a daemon thread, and wait at most ``timeout_s`` in all.

    Returns ``{name: Outcome}`` in the order given. A probe still running at the deadline is
    reported as ``error`` ("timed out") and left behind in its daemon thread, which cannot keep the
    interpreter alive. An exception becomes ``error`` with its message.
    """
    results: dict[str, Outcome] = {}
    threads: dict[str, threading.Thread] = {}
    started = time.perf_counter()

    def run_one(name: str, fn: ProbeFn) -> None:
        begin = time.perf_counter()
        try:
            outcome = fn()
            if not isinstance(outcome, Outcome):
                outcome = Outcome.error(f"probe returned {type(outcome).__name__}, not an Outcome")
        except Exception as exc:  # a probe must never take the report down with it
            outcome = Outcome.error(f"{type(exc).__name__}: {exc}")
        outcome.duration_ms = (time.perf_counter() - begin) * 1000
        results[name] = outcome

    for name, fn in probes.items():
        with _HUNG_LOCK:
            stuck = _HUNG.get(name)
            if stuck is not None and stuck.is_alive():
                results[name] = Outcome.error("an earlier run of this probe is still hung")
                continue
            _HUNG.pop(name, None)
        thread = threading.Thread(
            target=run_one, args=(name, fn), name=f"probe-{name}", daemon=True
        )
        thread.start()
        threads[name] = thread

    deadline = started + timeout_s
    for name, thread in threads.items():
        thread.join(max(0.0, deadline - time.perf_counter()))
        if thread.is_alive():
            with _HUNG_LOCK:
                _HUNG[name] = thread
            outcome = Outcome.error(f"timed out after {timeout_s:g} s")
            outcome.duration_ms = (time.perf_counter() - started) * 1000
            results[name] = outcome
    return {name: results[name] for name in probes}
