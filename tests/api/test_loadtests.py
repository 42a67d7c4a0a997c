"""Load tests over the API: start (202), read, cancel, list; policy refusals without connecting."""

import contextlib
import uuid
from unittest import mock

import pytest
from django.test import override_settings

from advisor.celery import app
from advisor.models import LoadTest, LoadTestLevel, LoadTestStatus
from tests.api.factories import make_user, throttle_rates

pytestmark = pytest.mark.django_db

URL = "/api/v1/load-tests/"
# Port 9 (discard) on loopback: allowed by the default policy; these tests never run the test.
TARGET = {"base_url": "http://127.0.0.1:9", "model": "tiny", "concurrency": [1, 2]}


def start(api, **changes):
    return api.post(URL, TARGET | changes, format="json")


def test_it_queues_a_load_test_and_answers_202(user, api):
    response = start(api, requests_per_level=4)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["levels"] == []
    assert response["Location"] == f"/api/v1/load-tests/{body['id']}/"
    row = LoadTest.objects.get(pk=body["id"])
    assert row.owner == user and row.config["concurrency"] == [1, 2]
    assert row.config["requests_per_level"] == 4


def test_it_sends_the_task_to_the_broker_on_commit(api, django_capture_on_commit_callbacks):
    queue = f"host.api-test-{uuid.uuid4().hex[:12]}"  # no worker listens there
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = start(api, queue=queue)
        row = LoadTest.objects.get(pk=response.json()["id"])
        assert row.task_id and row.queue == queue
    finally:
        with app.connection_for_write() as connection, contextlib.suppress(Exception):
            connection.default_channel.queue_purge(queue)


def test_it_never_stores_the_api_key(api):
    response = start(api, api_key="sk-secret")
    assert response.status_code == 202
    assert "sk-secret" not in str(LoadTest.objects.get().config)
    assert "api_key" not in response.json()["config"]


def test_the_api_key_travels_in_the_task_message_only(api, django_capture_on_commit_callbacks):
    """Write-only: in the message the worker gets (hidden from Celery's logs and events), never
    in a row or an answer, not even the list's."""
    with (
        mock.patch("advisor.services.loadtests.app.send_task") as send_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_task.return_value.id = "task-1"
        response = start(api, api_key="sk-secret")
    assert response.status_code == 202
    _, options = send_task.call_args
    assert options["kwargs"] == {"api_key": "sk-secret"}
    assert "sk-secret" not in options["kwargsrepr"]
    row = LoadTest.objects.get()
    assert "sk-secret" not in str(LoadTest.objects.filter(pk=row.pk).values().get())
    assert "sk-secret" not in api.get(URL).content.decode()
    assert "sk-secret" not in api.get(f"{URL}{row.pk}/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base_url": "http://10.1.2.3:8000"}, "base_url"),  # not on the allow-list
        ({"base_url": "not a url"}, "base_url"),
        ({"model": ""}, "model"),
        ({"concurrency": [0]}, "concurrency.0"),
        ({"concurrency": []}, "concurrency"),
        ({"concurrency": [2000]}, "concurrency.0"),
        ({"shape": "poisson"}, "rate"),  # a Poisson run needs a rate (the engine's rule)
        ({"requests_per_level": 5000, "concurrency": [1, 2, 4]}, "requests_per_level"),
        ({"queue": "elsewhere"}, "queue"),
        ({"concurency": [1]}, "concurency"),  # a typo is an error, not ignored
        ({"model": 5}, "model"),  # JSON types as documented, no coercion
        ({"concurrency": ["1"]}, "concurrency"),
        ({"requests_per_level": 2.5}, "requests_per_level"),
        ({"warmup": True}, "warmup"),
        ({"prompt_tokens": 10**12}, "prompt_tokens"),  # the core's BOUNDS, shown in the schema
        ({"max_tokens": 99999999999}, "max_tokens"),
        ({"concurrency": list(range(1, 40))}, "concurrency"),  # more levels than MAX_LEVELS
        ({"api_key": "sk-abc\r\nX-Injected: 1"}, "api_key"),  # would inject a header
        ({"measured_on": {"gpu": "h999", "gpu_count": 1}}, "measured_on.gpu"),  # not catalogued
        ({"measured_on": {"gpu": "h100", "gpu_count": "2"}}, "measured_on.gpu_count"),
        ({"measured_on": {"gpu": "h100", "quantization": "q9"}}, "measured_on.quantization"),
        ({"measured_on": {"gpu_count": 1}}, "measured_on.gpu"),  # null for CPU, never left out
        ({"measured_on": {"gpu": "h100", "cpus": 2}}, "measured_on.cpus"),
        ({"measured_on": "h100"}, "measured_on.non_field_errors"),
    ],
)
def test_it_names_the_field_of_a_refused_config(api, changes, field):
    with mock.patch("socket.create_connection", side_effect=AssertionError("no connections")):
        response = start(api, **changes)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not LoadTest.objects.exists()


def test_it_records_and_shows_the_hardware_the_test_runs_on(api):
    """What you state is recorded (no probe of the target host is stored) and read back."""
    stated = {"gpu": "NVIDIA H100 80GB HBM3", "gpu_count": 1, "quantization": "auto"}
    response = start(api, measured_on=stated)
    assert response.status_code == 202, response.json()
    expected = {
        "gpu": "h100-sxm-80gb", "gpu_count": 1, "model": "tiny", "quantization": "auto",
        "source": "stated", "label": "1x NVIDIA H100 SXM 80GB, tiny, auto quantization; stated",
    }  # fmt: skip
    assert response.json()["measured_on"] == expected
    assert api.get(f"{URL}{response.json()['id']}/").json()["measured_on"] == expected
    unstated = start(api)
    assert unstated.json()["measured_on"] is None  # unknown hardware: never calibrates


def test_it_needs_a_token(anon):
    assert anon.post(URL, TARGET, format="json").status_code == 401
    assert anon.get(URL).status_code == 401


def test_it_throttles_starting_load_tests_but_not_reading(api):
    with override_settings(REST_FRAMEWORK=throttle_rates(load_tests="2/hour")):
        codes = [start(api).status_code for _ in range(3)]
        assert api.get(URL).status_code == 200
    assert codes == [202, 202, 429]


def test_it_answers_503_and_stores_nothing_when_the_broker_is_down(api):
    with mock.patch("advisor.api.broker.broker_status", return_value="unavailable"):
        response = start(api)
    assert response.status_code == 503
    assert "broker" in response.json()["message"].lower()
    assert not LoadTest.objects.exists()


def test_it_shows_status_progress_and_levels(user, api):
    row = LoadTest.objects.create(
        owner=user,
        base_url="http://127.0.0.1:9",
        status=LoadTestStatus.SUCCEEDED,
        progress={"levels_done": 1, "levels_total": 1},
    )
    LoadTestLevel.objects.create(
        load_test=row,
        index=0,
        concurrency=4,
        requests=8,
        succeeded=8,
        metrics={"ttft_ms": {"p50": 12}},
    )
    body = api.get(f"{URL}{row.pk}/").json()
    assert body["status"] == "succeeded" and body["progress"]["levels_done"] == 1
    assert body["levels"][0]["concurrency"] == 4
    assert body["levels"][0]["metrics"]["ttft_ms"]["p50"] == 12


def test_it_hides_other_users_tests(api):
    theirs = LoadTest.objects.create(owner=make_user(), base_url="http://127.0.0.1:9")
    unowned = LoadTest.objects.create(base_url="http://127.0.0.1:9")
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.get(f"{URL}{unowned.pk}/").status_code == 404
    assert api.post(f"{URL}{theirs.pk}/cancel/").status_code == 404
    assert api.get(URL).json()["count"] == 0
    assert not LoadTest.objects.get(pk=theirs.pk).cancel_requested


def test_it_cancels_a_queued_test_at_once(user, api):
    row = LoadTest.objects.create(owner=user, base_url="http://127.0.0.1:9")
    response = api.post(f"{URL}{row.pk}/cancel/")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"


def test_it_asks_a_running_test_to_stop(user, api):
    row = LoadTest.objects.create(
        owner=user, base_url="http://127.0.0.1:9", status=LoadTestStatus.RUNNING
    )
    body = api.post(f"{URL}{row.pk}/cancel/").json()
    assert body["status"] == "running" and body["cancel_requested"] is True


def test_it_answers_404_for_an_unknown_test(api):
    response = api.get(f"{URL}00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert response.json()["message"].startswith("You have no load test")


def test_reading_and_polling_never_write_a_load_test(user, api):
    """Reaping is the worker's job: listing and polling leave even a dead worker's run as it is."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    row = LoadTest.objects.create(
        owner=user,
        base_url="http://127.0.0.1:9",
        status=LoadTestStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    with CaptureQueriesContext(connection) as queries:
        assert api.get(URL).status_code == 200
        assert api.get(f"{URL}{row.pk}/").json()["status"] == "running"
    writes = [
        q["sql"]
        for q in queries
        if "advisor_loadtest" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert writes == []
