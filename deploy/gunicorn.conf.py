"""gunicorn settings for the advisor's web process (Dockerfile, compose and the systemd unit).

Every value can be overridden with gunicorn's own ``GUNICORN_CMD_ARGS`` or the variables below.
Prometheus multiprocess mode: with ``PROMETHEUS_MULTIPROC_DIR`` set, each worker writes its
counters there and ``/metrics`` sums them; the folder is emptied when the server starts and a
dead worker's files are marked so its gauges disappear (prometheus_client's documented hooks).
"""

import multiprocessing
import os
import shutil
from pathlib import Path

bind = os.environ.get("BIND", "0.0.0.0:8765")
# gunicorn's rule of thumb for sync workers: 2 x cores + 1.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# A recommendation takes tens of milliseconds; only a remote probe waits (up to 20 s) on a worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then: bounded memory over months
max_requests_jitter = 200
# No gunicorn access log: the advisor logs each request itself (logger advisor.requests, with
# route, status and duration; JSON with LOG_FORMAT=json), so lines are not doubled.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
