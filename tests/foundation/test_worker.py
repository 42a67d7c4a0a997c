"""A real worker completes the ping task through each broker we support."""

import uuid

import pytest
from celery.contrib.testing.worker import start_worker

import advisor.tasks  # noqa: F401 - registers the shared tasks
from advisor import config
from advisor.celery import create_app
from tests.conftest import redis_url_or_skip
from tests.waiting import DEADLINE_S


def ping_through(broker_url: str, result_backend: str, transport_options: dict) -> dict:
    queue = f"test-{uuid.uuid4().hex[:8]}"  # private queue: no other worker can answer
    app = create_app(
        broker_url=broker_url,
        result_backend=result_backend,
        broker_transport_options=transport_options,
        task_default_queue=queue,
        task_routes={},
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        return app.send_task("advisor.ping").get(timeout=DEADLINE_S)


@pytest.mark.redis
def test_it_answers_ping_through_redis():
    url = redis_url_or_skip()
    reply = ping_through(url, url, {"socket_connect_timeout": 2})
    assert reply["pong"] is True


@pytest.mark.slow
def test_it_answers_ping_through_the_embedded_filesystem_broker():
    reply = ping_through(
        "filesystem://",
        config.result_backend("filesystem://"),
        config.filesystem_transport_options(),
    )
    assert reply["pong"] is True
