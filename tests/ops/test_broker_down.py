"""Redis down: work that needs the broker answers 503 with a clear message; pages still render.

Real, not mocked: a fresh interpreter with ``CELERY_BROKER_URL`` on a loopback port where nothing
listens (settings load once per process, so this cannot run inside the test process).
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released on close: nothing listens there afterwards


@pytest.mark.slow
def test_it_answers_503_for_broker_work_and_keeps_serving_the_rest(tmp_path):
    broker = f"redis://127.0.0.1:{closed_loopback_port()}/0"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {
        "CELERY_BROKER_URL": broker,
        "ADVISOR_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "advisor.settings",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "tests/ops/broker_down_probe.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answered = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("load_test", "remote_probe"):
        assert answered[name]["status"] == 503, answered[name]
        assert "broker" in answered[name]["body"]["message"].lower()
        assert set(answered[name]["body"]) == {"message", "errors"}
    # The web form has no health check first: the task is refused when sent, and the row goes.
    assert answered["web_load_test"]["status"] == 503 and answered["web_load_test"]["says_broker"]
    assert answered["load_tests_stored"] == 0  # refused before a row could sit queued forever
    assert answered["recommendation"]["status"] == 201
    assert answered["catalog"]["status"] == 200
    assert answered["healthz"]["status"] == 503
    assert answered["healthz"]["body"]["broker"] == "unavailable"
    assert answered["login_page"]["status"] == 200 and answered["api_docs"]["status"] == 200
    assert answered["home_page"]["status"] == 200
