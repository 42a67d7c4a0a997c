"""A worker that dies leaves its test ``failed`` with a reason, never ``running``: a real Celery
worker in a subprocess (its own SQLite file and embedded broker), killed with SIGKILL.

1. The prefork child running the task is killed: the parent rejects the message (acks_late +
   reject_on_worker_lost), it is redelivered, and the redelivered task sees a ``running`` row.
2. The whole worker is killed: nothing redelivers; the reaper fails the test once its heartbeat
   is stale.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from advisor.loadtest.testserver import ScriptedServer
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "host.death-test"


def django(env, code: str) -> str:
    script = "import django; django.setup()\n" + code
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def create(env, url: str) -> str:
    return django(
        env,
        "from advisor.services.loadtests import loadtest_create\n"
        f"row = loadtest_create(config={{'base_url': '{url}', 'model': 'test-model', "
        "'concurrency': '1', 'requests_per_level': 1000, 'warmup': 0}, "
        f"queue='{QUEUE}')\n"
        "print(row.pk.hex)",
    )


def row(db: Path, pk: str) -> tuple[str, str, str]:
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT status, stopped_reason, error FROM advisor_loadtest WHERE id = ?", (pk,)
        ).fetchone()
    return found


def wait_status(db: Path, pk: str, statuses: set[str]):
    return wait_until(
        lambda: (found := row(db, pk)) and found[0] in statuses and found,
        f"load test {pk} to be {sorted(statuses)}",
        interval_s=0.1,
    )


@pytest.mark.slow
def test_it_fails_tests_whose_worker_died(tmp_path):
    db = tmp_path / "advisor.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DATABASE_URL")
    }
    env.update(
        ADVISOR_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{db}",
        DJANGO_SETTINGS_MODULE="advisor.settings",
        PYTHONPATH=str(ROOT),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "advisor", "worker", "-Q", QUEUE,
         "--concurrency", "1", "--pool", "prefork", "--loglevel", "WARNING", "--without-heartbeat",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with ScriptedServer(ttft_s=0.02, tokens=2) as server:
            first = create(env, server.url)
            wait_status(db, first, {"running"})
            child = psutil.Process(worker.pid).children()[0]
            child.send_signal(signal.SIGKILL)
            status, reason, error = wait_status(db, first, {"failed"})
            assert reason == "worker lost" and "redelivered" in error

            second = create(env, server.url)
            wait_status(db, second, {"running"})
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(60)
            time.sleep(1.5)
            assert row(db, second)[0] == "running"  # nobody left to say otherwise...
            reaped = django(
                env,
                "from advisor.services.loadtests import loadtest_reap_stale\n"
                "print(loadtest_reap_stale(stale_after_s=1))",
            )
            status, reason, error = row(db, second)  # ...until the reaper looks
            assert reaped == "1" and status == "failed" and "heartbeat" in error
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
