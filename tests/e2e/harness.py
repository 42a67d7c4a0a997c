"""The real app for browser tests: gunicorn and a Celery worker, sharing one private database and broker.

Both run as subprocesses on 127.0.0.1 with their own ``ADVISOR_VAR_DIR`` (SQLite plus kombu's
filesystem broker), so nothing is shared with `make run`, other tests or a Redis another suite uses.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.waiting import DEADLINE_S, wait_for_http

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
# Debian's Chromium (apt-get install chromium); Playwright's own browser downloads are never used.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Start-up budget: migrations plus a worker that answers the health ping (seconds).
START_TIMEOUT_S = DEADLINE_S
# Variables that would point the app at a shared database or broker instead of the private ones.
SHARED_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def host_queue() -> str:
    return f"host.{socket.gethostname().split('.')[0]}"


@dataclass
class LiveApp:
    """A running web server plus worker; ``url`` is the base URL (no trailing slash)."""

    var_dir: Path
    port: int = 0
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in SHARED_VARIABLES}
        env.update(
            {
                "ADVISOR_VAR_DIR": str(self.var_dir),
                "DJANGO_SETTINGS_MODULE": "advisor.settings",
                "DEBUG": "false",
                "PYTHONUNBUFFERED": "1",
                "ADVISOR_HEALTH_TIMEOUT_S": "3",
            }
        )
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        log_dir = ARTIFACTS / "e2e-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        proc = subprocess.Popen(
            args, cwd=REPO, env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(proc)

    def start(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env=self.env(),
            check=True,
            timeout=120,
        )
        self.port = free_port()
        self._spawn(
            "worker",
            [
                sys.executable, "-m", "celery", "-A", "advisor", "worker",
                "--loglevel", "info", "--pool", "threads", "--concurrency", "4",
                "--queues", f"default,loadtests,probes,{host_queue()}",
                "--hostname", f"e2e-{self.port}@%h", "--without-gossip", "--without-mingle",
            ],
        )  # fmt: skip
        self._spawn(
            "web",
            [
                sys.executable, "-m", "gunicorn", "advisor.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "8",
                "--timeout", "60", "--access-logfile", "-",
            ],
        )  # fmt: skip
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        """Block until /healthz reports the worker answering, or fail naming what is missing."""

        def exited() -> str | None:
            for proc in self.processes:
                if proc.poll() is not None:
                    return f"{proc.args[:4]} exited with {proc.returncode}; see test-artifacts/e2e-logs"
            return None

        wait_for_http(
            f"{self.url}/healthz",
            "the app's /healthz with the worker answering",
            ready=lambda _, body: json.loads(body).get("worker") == "ok",
            timeout_s=START_TIMEOUT_S,
            alive=exited,
        )

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for log in self.logs:
            log.close()
