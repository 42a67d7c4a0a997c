"""The sync entry point for the Celery task and the CLI: ``run_load_test(config, ...)``.

The asyncio load generator runs on its own thread so the callbacks (which may write to a
database) never stall the event loop that timestamps the chunks; the calling thread polls
``should_cancel`` every ``CANCEL_POLL_S`` and reports progress every ``progress_interval_s``.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Callable

from advisor.loadtest.config import LoadTestConfig
from advisor.loadtest.discovery import DiscoveredServer
from advisor.loadtest.generator import CANCEL_POLL_S, LoadGenerator
from advisor.loadtest.policy import CheckedTarget
from advisor.loadtest.result import LoadTestResult, Progress


def run_load_test(
    config: LoadTestConfig,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    progress_interval_s: float = 0.5,
    destination: CheckedTarget | None = None,
    target: DiscoveredServer | None = None,
    tls: ssl.SSLContext | None = None,
) -> LoadTestResult:
    """Run ``config`` to the end (or a cancel) and return the result.

    ``on_progress`` is called on this thread at least every ``progress_interval_s`` and once at
    the end; ``should_cancel`` is polled every ``CANCEL_POLL_S``; when it answers True the run
    stops within a fraction of a second, keeping finished requests (``StopCode.CANCELLED``).
    ``destination`` (``policy.check_target``'s answer) pins the addresses the policy checked;
    without it the target must be on this host. ``tls``: the https context. Raises
    ``AdvisorError`` when the target can't be identified or does not serve the model; an
    exception from a callback cancels the run and propagates.
    """
    generator = LoadGenerator(config, destination=destination, target=target, tls=tls)
    results: list[LoadTestResult] = []  # filled by the generator's thread
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(asyncio.run(generator.run()))
        except BaseException as exc:  # handed to the calling thread
            errors.append(exc)

    thread = threading.Thread(target=work, name="loadtest-engine", daemon=True)
    thread.start()
    last_progress = 0.0
    try:
        while thread.is_alive():
            thread.join(CANCEL_POLL_S)
            if should_cancel is not None and should_cancel():
                generator.cancel()
            now = time.monotonic()
            if on_progress is not None and now - last_progress >= progress_interval_s:
                last_progress = now
                on_progress(generator.snapshot())
    except BaseException:
        generator.cancel()
        thread.join()
        raise
    if errors:
        raise errors[0]
    if on_progress is not None:
        on_progress(generator.snapshot())
    return results[0]
