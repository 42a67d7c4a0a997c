"""advisor.probe_host through a real broker and a real worker listening on ``host.<name>``."""

import pytest
from celery.contrib.testing.worker import start_worker

import advisor.tasks  # noqa: F401 - registers the shared tasks
from advisor import config
from advisor.errors import AdvisorError
from advisor.models import HardwareSource
from advisor.services import hardware
from tests.conftest import private_celery_app, redis_url_or_skip
from tests.waiting import DEADLINE_S, wait_until


def host_app(monkeypatch, broker_url: str, result_backend: str, transport_options: dict):
    """A Celery app on its own broker for the service to use; returns it and a fresh host name."""
    app, name = private_celery_app(broker_url, result_backend, transport_options)
    monkeypatch.setattr(hardware, "app", app)
    return app, name


def listed_with(name: str) -> dict | None:
    """The broadcast's hosts by name when ``name`` is among them, else None."""
    hosts = {host.name: host for host in hardware.hardware_hosts_list(timeout=2.0)}
    return hosts if name in hosts else None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_probes_a_remote_host_through_its_queue_and_stores_the_report(monkeypatch):
    app, name = host_app(
        monkeypatch,
        "filesystem://",
        config.result_backend("filesystem://"),
        config.filesystem_transport_options(),
    )
    with start_worker(app, perform_ping_check=False, shutdown_timeout=10, queues=[f"host.{name}"]):
        row = hardware.hardware_report_probe_remote(host=name, timeout=DEADLINE_S)
    assert row.source == HardwareSource.REMOTE
    assert row.report["memory"]["total_bytes"] > 0
    assert row.report["probes"]["cpu"]["status"] == "ok"
    # the embedded broker cannot broadcast: the host list is empty, not an error
    assert hardware.hardware_hosts_list(timeout=0.2) == []


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_lists_remote_hosts_and_probes_one_through_redis(monkeypatch):
    url = redis_url_or_skip()
    app, name = host_app(monkeypatch, url, url, {"socket_connect_timeout": 2})
    with start_worker(
        app,
        perform_ping_check=False,
        shutdown_timeout=10,
        queues=[f"host.{name}"],
        hostname=f"worker@{name}",
    ):
        # One broadcast waits 2 s for replies; a busy machine's worker may miss it: ask again.
        hosts = wait_until(lambda: listed_with(name), f"worker@{name} to answer the broadcast")
        row = hardware.hardware_report_probe_remote(host=name, timeout=DEADLINE_S)
    assert hosts[name].queue == f"host.{name}"
    assert hosts[name].workers == (f"worker@{name}",)
    assert row.host_name == row.report["host"]["hostname"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_says_how_to_start_a_worker_when_no_host_answers(monkeypatch):
    url = redis_url_or_skip()
    _, name = host_app(monkeypatch, url, url, {"socket_connect_timeout": 2})
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_probe_remote(host=name, timeout=1)
    assert caught.value.field == "host"
    assert f"-Q host.{name}" in caught.value.message
