"""Several processes (gunicorn workers, Celery children): with PROMETHEUS_MULTIPROC_DIR shared,
/metrics sums what every process counted. Real processes, not mocks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]


def run(args, env):
    done = subprocess.run(
        [sys.executable, "tests/ops/metrics_process.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_it_sums_the_counters_of_every_process(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "ADVISOR_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "advisor.settings",
        "PYTHONPATH": str(ROOT),
    }
    run(["hit", "3"], env)
    run(["hit", "4"], env)
    text = run(["scrape"], env)
    served = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "advisor_http_requests_total"
        and sample.labels.get("route") == "api/v1/rules/"
    ]
    assert served == [7.0]
    # These processes never migrated their database: the stored-row gauges are left out, and
    # /metrics still answers with everything else.
    assert "advisor_load_tests" not in text and "advisor_http_request_duration_seconds" in text
