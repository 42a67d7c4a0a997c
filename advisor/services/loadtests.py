"""Load tests as rows: create (policy-checked, then queued), run (the task's body), cancel, reap.

The engine (``advisor.loadtest``) knows nothing of Django; this module turns its progress and
result into ``LoadTest`` / ``LoadTestLevel`` rows. Liveness: a running test writes
``heartbeat_at`` with every progress save (at least once a second); ``loadtest_reap_stale()``
fails tests whose heartbeat stopped (their worker died) and tests queued for longer than
``QUEUED_TIMEOUT_S`` (no worker listens on their queue). It runs on the worker side only: the
``advisor.reap_load_tests`` task every 30 s (Celery beat, ``worker -B``) and at the
start of every load-test task. Reads (pages, polls, the API) never write.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from advisor.celery import app
from advisor.errors import AdvisorError, BrokerUnavailableError
from advisor.loadtest import (
    LoadTestConfig,
    LoadTestResult,
    Progress,
    StopCode,
    policy,
    run_load_test,
)
from advisor.loadtest.metrics import LevelResult
from advisor.models import Assessment, LoadTest, LoadTestLevel, LoadTestStatus
from advisor.services.measured_on import loadtest_measured_on

logger = logging.getLogger(__name__)

TASK_NAME = "advisor.run_load_test"
# A running test saves progress (and its heartbeat) at least every second; 30 s of silence
# means its worker is gone (killed, out of memory, host down).
STALE_AFTER_S = 30
PROGRESS_INTERVAL_S = 0.5
CANCEL_CHECK_S = 0.5  # a cancel lands within 2 s: checked twice a second, engine stops in 0.1 s
HOST_QUEUE = re.compile(r"^host\.[A-Za-z0-9_.-]{1,100}$")
REAP_TASK_NAME = "advisor.reap_load_tests"  # sent by beat (settings.CELERY_BEAT_SCHEDULE)
# A test no worker took within an hour is failed. A host worker runs one test at a time, each
# over within the task's 480 s hard limit, so an hour's wait means seven or more tests ahead of it
# or, far likelier, a queue no worker listens on (host.<name> of a host that is down or never
# started one); either way the owner is told instead of left waiting. The task carries the same
# expiry, so a worker that gets it later drops it.
QUEUED_TIMEOUT_S = 3600
# Broker errors when the task is sent (the broker down or refusing): the test is not queued.
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


def loadtest_create(
    *,
    owner=None,
    visitor: str = "",
    config: LoadTestConfig | dict,
    queue: str = "",
    enqueue: bool = True,
    assessment: Assessment | None = None,
    stated: Mapping[str, Any] | None = None,
) -> LoadTest:
    """Check ``config`` against the policy, store it queued, and enqueue the task on commit.

    ``owner`` is the signed-in user (None: anonymous); ``visitor`` the anonymous browser session's
    key (``advisor.views.access.visitor_of``): the hourly limit counts per user, or per visitor.
    ``queue`` is empty (the ``loadtests`` queue) or ``host.<name>`` to run next to the server.
    ``assessment``: the test is started for it (attached to it in the same transaction).
    The row records the hardware it runs on (``loadtest_measured_on``): the target host's
    probe, else ``stated`` (``{"gpu", "gpu_count", "quantization"}``, the API's input), else
    the assessment's hardware.
    Raises ``AdvisorError(field=...)``: bad config, host not allowed, caps, hourly limit, queue,
    a bad statement (``measured_on.<field>``); ``BrokerUnavailableError`` when the broker
    refuses the task (no row is left behind).
    """
    if isinstance(config, dict):
        config = LoadTestConfig.parse(config)
    queue = (queue or "").strip()
    if queue and not HOST_QUEUE.match(queue):
        raise AdvisorError(
            "queue must be empty or host.<name> (letters, digits, . _ -)", field="queue"
        )
    policy.check_config(config, allowed_hosts=settings.ADVISOR_LOADTEST_ALLOWED_HOSTS)
    owner_id = getattr(owner, "pk", None) if owner is not None and owner.is_authenticated else None
    if owner_id is not None:
        visitor = ""
    measured_on = loadtest_measured_on(
        owner_id=owner_id,
        visitor=visitor,
        config=config,
        queue=queue,
        stated=stated,
        assessment=assessment,
    )
    with transaction.atomic():
        # Count and insert under one lock per bucket, so parallel posts cannot all see room.
        _lock_bucket(f"loadtests:{owner_id}:{visitor}")
        hour_ago = timezone.now() - timedelta(hours=1)
        recent = LoadTest.objects.filter(
            owner_id=owner_id, visitor=visitor, created_at__gte=hour_ago
        ).count()
        policy.check_hourly_limit(recent)
        load_test = LoadTest.objects.create(
            owner_id=owner_id,
            visitor=visitor,
            base_url=config.base,
            api=str(config.api),
            model_name=config.model,
            queue=queue,
            config=config.as_dict(),
            progress={"phase": "queued"},
            measured_on=measured_on.as_dict() if measured_on is not None else None,
        )
        if assessment is not None:
            assessment.load_tests.add(load_test)
        if enqueue:
            api_key = config.api_key
            transaction.on_commit(lambda: loadtest_enqueue(load_test=load_test, api_key=api_key))
    return load_test


def _lock_bucket(key: str) -> None:
    """Hold a lock named ``key`` until the current transaction ends.

    PostgreSQL: a transaction-level advisory lock (https://www.postgresql.org/docs/16/
    functions-admin.html#FUNCTIONS-ADVISORY-LOCKS), so two transactions counting one bucket wait
    for each other while other buckets run freely. SQLite needs none: write transactions start
    ``IMMEDIATE`` (advisor/config.py), which already admits one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def loadtest_enqueue(*, load_test: LoadTest, api_key: str = "") -> str:
    """Send the task (to ``load_test.queue`` when set) and remember its id.

    ``api_key`` travels in the task message only (never in a row, a response or a log line:
    ``kwargsrepr`` is what Celery logs and shows in events), so it lives in the broker until a
    worker takes the task, then in that worker's memory for the run.

    Sent once, without kombu's publish retries (with them a web request waited 19 s on a
    broker that was down). Raises ``BrokerUnavailableError`` when the broker does not take it;
    the row is then deleted, so no test waits for a task that was never sent.
    """
    options: dict = {"queue": load_test.queue} if load_test.queue else {}
    if api_key:
        options["kwargs"] = {"api_key": api_key}
        options["kwargsrepr"] = "{'api_key': '(hidden)'}"
    try:
        # ignore_result: the row is the result; without it Celery first subscribes to the
        # result backend (Redis too), which retries for seconds before failing when Redis is down.
        async_result = app.send_task(
            TASK_NAME,
            args=[str(load_test.pk)],
            retry=False,
            ignore_result=True,
            expires=QUEUED_TIMEOUT_S,
            **options,
        )
    except BROKER_ERRORS as exc:
        logger.warning("load test %s not queued, the broker refused it: %s", load_test.pk, exc)
        LoadTest.objects.filter(pk=load_test.pk).delete()
        raise BrokerUnavailableError() from exc
    LoadTest.objects.filter(pk=load_test.pk).update(task_id=async_result.id)
    load_test.task_id = async_result.id
    return async_result.id


def loadtest_cancel(*, load_test: LoadTest) -> LoadTest:
    """Ask a test to stop. A queued one is cancelled at once; a running one within 2 s."""
    now = timezone.now()
    updated = LoadTest.objects.filter(pk=load_test.pk, status=LoadTestStatus.QUEUED).update(
        status=LoadTestStatus.CANCELLED,
        cancel_requested=True,
        finished_at=now,
        stopped_reason="cancelled before it started",
    )
    if not updated:
        LoadTest.objects.filter(pk=load_test.pk, status=LoadTestStatus.RUNNING).update(
            cancel_requested=True
        )
    load_test.refresh_from_db()
    return load_test


def loadtest_reap_stale(
    *, stale_after_s: float = STALE_AFTER_S, queued_after_s: float = QUEUED_TIMEOUT_S
) -> int:
    """Fail running tests whose heartbeat is older than ``stale_after_s`` and tests still queued
    ``queued_after_s`` after they were created; return how many. Worker side only (see above)."""
    now = timezone.now()
    stale = LoadTest.objects.filter(
        status=LoadTestStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=stale_after_s)
    ).update(
        status=LoadTestStatus.FAILED,
        finished_at=now,
        stopped_reason="worker lost",
        error=(
            f"The worker running this test stopped reporting (no heartbeat for over "
            f"{stale_after_s:g} s): it was killed or its host went down. Finished levels are kept."
        ),
    )
    unclaimed = LoadTest.objects.filter(
        status=LoadTestStatus.QUEUED, created_at__lt=now - timedelta(seconds=queued_after_s)
    ).update(
        status=LoadTestStatus.FAILED,
        finished_at=now,
        stopped_reason="no worker took it",
        error=(
            f"No worker started this test within {queued_after_s:g} s: none listens on its "
            "queue (a host.<name> queue needs a worker started with -Q host.<name>), or every "
            "worker on it stayed busy."
        ),
    )
    if stale or unclaimed:
        logger.warning("reaped %d stale and %d unclaimed load test(s)", stale, unclaimed)
    return stale + unclaimed


def loadtest_get(*, load_test_id) -> LoadTest:
    """One test (a read: reaping happens on the worker side)."""
    return LoadTest.objects.get(pk=load_test_id)


def loadtest_list(*, owner=None):
    """Tests newest first (the owner's when given)."""
    rows = LoadTest.objects.all()
    if owner is not None and owner.is_authenticated:
        rows = rows.filter(owner=owner)
    return rows


def loadtest_run(*, load_test_id, api_key: str = "") -> LoadTest | None:
    """The task's body: run a queued test to the end, saving progress, levels and the result.
    ``api_key``: sent as ``Authorization: Bearer``; from the task message, never stored.

    A row already ``running`` means this is a redelivery after the worker died (acks_late): it is
    failed with that reason, not run twice. Never raises for a failed test; the row says why.
    Returns None when the row no longer exists.
    """
    loadtest_reap_stale()
    now = timezone.now()
    claimed = LoadTest.objects.filter(pk=load_test_id, status=LoadTestStatus.QUEUED).update(
        status=LoadTestStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        progress={"phase": "starting"},
    )
    load_test = LoadTest.objects.filter(pk=load_test_id).first()
    if load_test is None:  # deleted because the broker refused its task; nothing to run
        return None
    if not claimed:
        if load_test.status == LoadTestStatus.RUNNING:
            _finish(
                load_test,
                LoadTestStatus.FAILED,
                reason="worker lost",
                error="The worker running this test died; the task was redelivered and not re-run.",
            )
        return load_test
    try:
        config = LoadTestConfig.parse({**load_test.config, "api_key": api_key})
        checked = policy.check_config(config, allowed_hosts=settings.ADVISOR_LOADTEST_ALLOWED_HOSTS)
        recorder = _Recorder(load_test)
        result = run_load_test(
            config,
            on_progress=recorder.progress,
            should_cancel=recorder.should_cancel,
            progress_interval_s=PROGRESS_INTERVAL_S,
            destination=checked,
        )
    except AdvisorError as exc:
        _finish(load_test, LoadTestStatus.FAILED, reason="refused", error=exc.message)
        return load_test
    except Exception as exc:  # a crash must leave a reason, never a "running" row
        logger.exception("load test %s crashed", load_test_id)
        _finish(
            load_test, LoadTestStatus.FAILED, reason="crashed", error=f"{type(exc).__name__}: {exc}"
        )
        return load_test
    recorder.save_levels(result.levels)
    failure = result.failure()
    if failure is not None:
        _finish(load_test, LoadTestStatus.FAILED, reason=failure, error=failure, result=result)
    elif result.stop_code is StopCode.CANCELLED:
        _finish(load_test, LoadTestStatus.CANCELLED, reason=result.stopped_reason, result=result)
    else:
        _finish(load_test, LoadTestStatus.SUCCEEDED, reason=result.stopped_reason, result=result)
    return load_test


def _finish(
    load_test, status, *, reason: str, error: str = "", result: LoadTestResult | None = None
):
    fields = {
        "status": status,
        "finished_at": timezone.now(),
        "stopped_reason": reason[:255],
        "error": error,
    }
    if result is not None:
        load_test.refresh_from_db(fields=["progress"])
        fields["result"] = result.as_dict()
        fields["backend_kind"] = str(result.target.kind)
        fields["progress"] = {**(load_test.progress or {}), "phase": "done"}
    LoadTest.objects.filter(pk=load_test.pk).update(**fields)
    load_test.refresh_from_db()


class _Recorder:
    """Saves progress + heartbeat, finished levels, and reads the cancel flag (throttled)."""

    def __init__(self, load_test: LoadTest):
        self.load_test = load_test
        self.saved_levels = load_test.levels.count()
        self._cancel_checked = 0.0
        self._cancelled = False

    def progress(self, progress: Progress) -> None:
        self.save_levels(progress.levels)
        LoadTest.objects.filter(pk=self.load_test.pk).update(
            progress=progress.as_dict(), heartbeat_at=timezone.now()
        )

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._cancel_checked >= CANCEL_CHECK_S:
            self._cancel_checked = now
            self._cancelled = LoadTest.objects.filter(
                pk=self.load_test.pk, cancel_requested=True
            ).exists()
        return self._cancelled

    def save_levels(self, levels) -> None:
        for index in range(self.saved_levels, len(levels)):
            level_row(self.load_test, index, levels[index]).save()
        self.saved_levels = max(self.saved_levels, len(levels))


def level_row(load_test: LoadTest, index: int, level: LevelResult) -> LoadTestLevel:
    """A ``LoadTestLevel`` for one engine level (the latency stats go in ``metrics``)."""
    data = level.as_dict()
    metrics = {
        key: data[key]
        for key in (
            "ttft_ms",
            "itl_ms",
            "tpot_ms",
            "e2el_ms",
            "errors",
            "goodput",
            "good_requests",
            "slo_attainment",
            "success_rate",
            "total_output_tokens",
            "total_input_tokens",
            "tokens_source",
            "error_samples",
            "server",
            "partial",
        )
    }
    return LoadTestLevel(
        load_test=load_test,
        index=index,
        concurrency=level.concurrency,
        request_rate=level.request_rate,
        requests=level.requests,
        succeeded=level.succeeded,
        failed=level.failed,
        duration_s=level.duration_s,
        request_throughput=level.request_throughput,
        output_token_throughput=level.output_token_throughput,
        metrics=metrics,
    )
