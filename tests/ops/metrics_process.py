"""Run by tests/ops/test_metrics_multiprocess.py: one process answering requests, with
PROMETHEUS_MULTIPROC_DIR set by the caller. ``hit N`` makes N requests to /api/v1/rules/;
``scrape`` prints /metrics."""

import sys

import django

django.setup()

from django.test import Client  # noqa: E402

client = Client()
if sys.argv[1] == "hit":
    for _ in range(int(sys.argv[2])):
        assert client.get("/api/v1/rules/").status_code == 200
else:
    print(client.get("/metrics").content.decode())
