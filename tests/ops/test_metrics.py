"""/metrics: request counters by route, task counters from Celery signals, gauges from the database."""

import pytest
from celery import signals
from prometheus_client.parser import text_string_to_metric_families

from advisor.models import LoadTest, LoadTestStatus

pytestmark = pytest.mark.django_db


def samples(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_it_counts_requests_by_route_not_by_path(client):
    before = value(
        samples(client), "advisor_http_requests_total", method="GET", route="healthz", status="200"
    )
    client.get("/healthz")
    after = samples(client)
    assert value(
        after, "advisor_http_requests_total", method="GET", route="healthz", status="200"
    ) in (
        before + 1,
        before,  # /healthz answers 503 when the broker is down; then the 503 series moved
    ) or value(after, "advisor_http_requests_total", method="GET", route="healthz", status="503")
    client.get("/no/such/page/123")
    after = samples(client)
    assert (
        value(after, "advisor_http_requests_total", method="GET", route="<unmatched>", status="404")
        >= 1
    )
    assert not any("no/such" in str(key) for key in after)


def test_it_counts_load_tests_by_status_from_the_database(client):
    LoadTest.objects.create(base_url="http://127.0.0.1:1/", status=LoadTestStatus.SUCCEEDED)
    LoadTest.objects.create(base_url="http://127.0.0.1:1/", status=LoadTestStatus.SUCCEEDED)
    LoadTest.objects.create(base_url="http://127.0.0.1:1/", status=LoadTestStatus.FAILED)
    found = samples(client)
    assert value(found, "advisor_load_tests", status="succeeded") == 2
    assert value(found, "advisor_load_tests", status="failed") == 1
    assert value(found, "advisor_load_tests", status="running") == 0


def test_it_counts_finished_tasks_from_celery_signals(client):
    class FakeTask:
        name = "advisor.example"

    before = value(
        samples(client), "advisor_celery_tasks_total", task="advisor.example", state="SUCCESS"
    )
    signals.task_prerun.send(sender=None, task_id="t1", task=FakeTask())
    signals.task_postrun.send(sender=None, task_id="t1", task=FakeTask(), state="SUCCESS")
    found = samples(client)
    assert (
        value(found, "advisor_celery_tasks_total", task="advisor.example", state="SUCCESS")
        == before + 1
    )
    assert value(found, "advisor_celery_task_duration_seconds_count", task="advisor.example") >= 1
