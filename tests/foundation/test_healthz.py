"""/healthz: a real round trip to a worker, answered quickly when none runs."""

import time
import uuid
from unittest import mock

import pytest

from advisor.celery import app


@pytest.fixture
def private_ping_queue():
    """Route pings to a queue no worker consumes, so a running `make run` cannot answer."""
    saved = app.conf.task_routes
    app.conf.task_routes = {"advisor.ping": {"queue": f"nobody-{uuid.uuid4().hex[:8]}"}}
    try:
        yield
    finally:
        app.conf.task_routes = saved


@pytest.mark.django_db
def test_it_reports_the_worker_unavailable_without_hanging(client, settings, private_ping_queue):
    settings.ADVISOR_HEALTH_TIMEOUT_S = 1
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["worker"] == "unavailable"
    assert "version" in body
    # A 1 s timeout: the bound only tells a give-up from a hang, with room for a busy machine.
    assert elapsed < 60, "the health check must give up on the worker, not hang"


@pytest.mark.django_db
def test_it_reports_the_broker_down_as_503(client, settings):
    settings.ADVISOR_HEALTH_TIMEOUT_S = 1
    with mock.patch("advisor.services.health.broker_status", return_value="unavailable"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert response.json()["worker"] == "unavailable"


@pytest.mark.django_db
def test_the_home_page_shows_the_status_in_words(client, settings, private_ping_queue):
    settings.ADVISOR_HEALTH_TIMEOUT_S = 1
    # The home page loads its status part from /status/ (htmx, or a plain link without JS).
    assert b'href="/status/"' in client.get("/").content
    response = client.get("/status/")
    assert response.status_code == 200
    assert b"Background worker" in response.content
    assert b"not answering" in response.content
