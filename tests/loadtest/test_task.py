"""advisor.run_load_test through a real broker and a real worker on a private host queue."""

import pytest
from celery.contrib.testing.worker import start_worker

import advisor.tasks  # noqa: F401 - registers the shared tasks
from advisor import config
from advisor.loadtest.testserver import ScriptedServer
from advisor.models import LoadTest, LoadTestStatus
from advisor.services import loadtests
from tests.conftest import private_celery_app, redis_url_or_skip
from tests.waiting import wait_until


def worker_app(monkeypatch, broker_url, result_backend, transport_options):
    app, name = private_celery_app(broker_url, result_backend, transport_options)
    monkeypatch.setattr(loadtests, "app", app)
    return app, f"host.{name}"


def wait_for(load_test_id, statuses, what) -> LoadTest:
    def reached():
        row = LoadTest.objects.get(pk=load_test_id)
        return row if row.status in statuses else None

    try:
        return wait_until(reached, f"load test {what} to be {sorted(statuses)}", interval_s=0.05)
    except AssertionError as exc:
        others = list(LoadTest.objects.values_list("status", "stopped_reason", "error"))
        raise AssertionError(f"{exc}; all rows: {others}") from None


def run_and_cancel(app, queue):
    with ScriptedServer(ttft_s=0.02, itl_s=0.02, tokens=5) as server:
        short = loadtests.loadtest_create(
            config={
                "base_url": server.url,
                "model": server.model,
                "concurrency": "1,2",
                "requests_per_level": 3,
                "warmup": 0,
            },
            queue=queue,
        )
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[queue]
        ):
            done = wait_for(short.pk, LoadTest.FINISHED, "queued before the worker started")
            long = loadtests.loadtest_create(
                config={
                    "base_url": server.url,
                    "model": server.model,
                    "concurrency": "2",
                    "requests_per_level": 1000,
                    "warmup": 0,
                },
                queue=queue,
            )
            wait_for(long.pk, {LoadTestStatus.RUNNING}, "of 1,000 requests")
            wait_until(  # let it finish a few requests first
                lambda: LoadTest.objects.get(pk=long.pk).progress.get("requests_done", 0) >= 2,
                "two requests done",
                interval_s=0.05,
            )
            loadtests.loadtest_cancel(load_test=long)
            cancelled = wait_for(long.pk, LoadTest.FINISHED, "cancelled")
    return done, cancelled


def check(done, cancelled):
    assert done.status == LoadTestStatus.SUCCEEDED, done.error
    assert done.levels.count() == 2 and done.task_id
    # Stopped by the cancel, not by running out: 1,000 requests at 2 users take a minute or more
    # here, and far fewer than 1,000 succeeded (how fast it stops is for bench/, not a test).
    assert cancelled.status == LoadTestStatus.CANCELLED
    level = cancelled.levels.get()
    assert level.metrics["partial"] and 0 < level.succeeded < 1000
    assert cancelled.progress["requests_done"] > 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_runs_and_cancels_through_the_embedded_broker(monkeypatch):
    app, queue = worker_app(
        monkeypatch,
        "filesystem://",
        config.result_backend("filesystem://"),
        config.filesystem_transport_options(),
    )
    check(*run_and_cancel(app, queue))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_runs_and_cancels_through_redis(monkeypatch):
    url = redis_url_or_skip()
    app, queue = worker_app(monkeypatch, url, url, {"socket_connect_timeout": 2})
    check(*run_and_cancel(app, queue))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_reaps_a_test_queued_for_a_host_with_no_worker(monkeypatch):
    """`POST {"queue": "host.0"}` with no worker on host.0: the reaper task, sent through Redis
    as beat sends it and run by a real worker, fails the row once it waited past the bound."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    url = redis_url_or_skip()
    app, queue = worker_app(monkeypatch, url, url, {"socket_connect_timeout": 2})
    row = loadtests.loadtest_create(
        config={"base_url": "http://127.0.0.1:9", "model": "m", "concurrency": "1"},
        queue="host.0",
        enqueue=False,
    )
    created = timezone.now() - timedelta(seconds=loadtests.QUEUED_TIMEOUT_S + 1)
    LoadTest.objects.filter(pk=row.pk).update(created_at=created)
    beat = settings.CELERY_BEAT_SCHEDULE["reap-load-tests"]
    assert beat["task"] == loadtests.REAP_TASK_NAME in app.tasks
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[queue]
    ):
        app.send_task(beat["task"], queue=queue, ignore_result=True)
        failed = wait_for(row.pk, {LoadTestStatus.FAILED}, 60)
    assert failed.stopped_reason == "no worker took it"
