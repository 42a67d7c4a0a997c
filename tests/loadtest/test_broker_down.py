"""The broker refuses (a closed loopback port): starting a load test from the web form or the API
answers at once with a clear message and leaves no row behind. The broker is a real Celery app
pointed at a port where nothing listens, in place of the project's app (the one seam)."""

import socket

import pytest

from advisor.models import LoadTest
from advisor.services import loadtests
from tests.api.factories import client_for, make_token, make_user
from tests.conftest import private_celery_app

pytestmark = pytest.mark.django_db(transaction=True)  # the task is sent on a real commit

FORM = {
    "base_url": "http://127.0.0.1:8000",
    "model": "test-model",
    "api": "auto",
    "concurrency": "1",
    "requests_per_level": "2",
    "warmup": "0",
    "max_tokens": "8",
    "prompt_tokens": "8",
}


@pytest.fixture
def refusing_broker(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # released on close: nothing listens there afterwards
    url = f"redis://127.0.0.1:{port}/0"
    app, _ = private_celery_app(url, url, {"socket_connect_timeout": 2})
    monkeypatch.setattr(loadtests, "app", app)
    return app


def test_the_web_form_says_the_broker_is_down_and_keeps_no_row(client, refusing_broker):
    response = client.post("/loadtests/new/", FORM)
    assert response.status_code == 503
    assert "task broker (Redis) is unavailable" in response.content.decode()
    assert LoadTest.objects.count() == 0


def test_the_api_answers_503_in_the_error_shape_and_keeps_no_row(refusing_broker):
    api = client_for(make_token(make_user()))
    # The health check before it still sees the project's (filesystem) broker up: the broker
    # refuses only when the task is sent, the race the row clean-up is for.
    response = api.post(
        "/api/v1/load-tests/",
        {"base_url": "http://127.0.0.1:8000", "model": "test-model"},
        format="json",
    )
    assert response.status_code == 503
    body = response.json()
    assert set(body) == {"message", "errors"} and "broker" in body["message"]
    assert LoadTest.objects.count() == 0


def test_the_remote_probe_form_says_the_broker_is_down_at_once(client, monkeypatch):
    """The same for the web's remote probe: checked first, as the API does, so the page answers
    without waiting out the result backend's reconnection attempts."""
    from advisor.models import HardwareReport
    from advisor.services import health

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    app, _ = private_celery_app(url, url, {"socket_connect_timeout": 2})
    monkeypatch.setattr(health, "app", app)
    sent = []
    monkeypatch.setattr(
        "advisor.views.hardware.hardware_report_probe_remote", lambda **kw: sent.append(kw)
    )
    response = client.post("/hardware/probe/remote/", {"remote-host": "gpu-box-1"})
    assert response.status_code == 400
    assert "task broker (Redis) is unavailable" in response.content.decode()
    assert sent == [] and not HardwareReport.objects.exists()
