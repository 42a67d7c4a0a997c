"""Benchmark: server-side render time and size of every UI page, against the plain 404 page.

The UI has no speed target of its own; this prints the figures docs/ui.md quotes so a slow page
shows up as a ratio to the cheapest page that renders the same base layout (the 404 page), all
measured in one run on one machine.

Run: .venv/bin/python bench/ui.py [--rounds 30]
It migrates a fresh SQLite database in a temporary folder, stores one assessment with its
recommendation, a hardware report and a finished load test through the real services, then
renders each page ``--rounds`` times with Django's test client (in process, no network) and
prints the median and p90 milliseconds, the size, and the ratio of the median to the 404 page's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["ADVISOR_VAR_DIR"] = tempfile.mkdtemp(prefix="advisor-bench-ui-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from tests.web.factories import make_assessment, make_load_test, make_report  # noqa: E402


def pages() -> dict[str, str]:
    report = make_report()
    assessment = make_assessment(peak_concurrent_users=40, hardware_report=report)
    recommendation = assessment.recommendations.get()
    run = make_load_test(levels=(1, 2, 4, 8))
    assessment.load_tests.add(run)
    return {
        "404 (baseline)": "/no-such-page/",
        "home": "/",
        "questionnaire": "/assess/",
        "catalog search (htmx)": "/catalog/models/?model=llama",
        "recommendation": f"/assessments/{assessment.pk}/",
        "bundle preview": f"/recommendations/{recommendation.pk}/bundle/",
        "bundle zip": f"/recommendations/{recommendation.pk}/bundle.zip",
        "hardware": "/hardware/",
        "load test": f"/loadtests/{run.pk}/",
        "load test live part (htmx)": f"/loadtests/{run.pk}/",
        "history": "/history/",
        "how we decide": "/how-we-decide/",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    client = Client()
    urls = pages()
    results = {}
    for name, url in urls.items():
        headers = {"HTTP_HX_REQUEST": "true"} if "htmx" in name else {}
        client.get(url, **headers)  # warm the template cache
        times = []
        size = 0
        for _ in range(args.rounds):
            start = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - start) * 1000)
            size = len(response.content)
        times.sort()
        results[name] = (statistics.median(times), times[int(len(times) * 0.9) - 1], size)
    baseline = results["404 (baseline)"][0]
    print(f"{'page':32} {'median ms':>10} {'p90 ms':>8} {'KiB':>7} {'x 404':>6}")
    for name, (median, p90, size) in results.items():
        print(f"{name:32} {median:10.1f} {p90:8.1f} {size / 1024:7.1f} {median / baseline:6.1f}")


if __name__ == "__main__":
    main()
