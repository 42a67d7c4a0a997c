"""The OpenAPI schema, its offline viewers, and Schemathesis against the live schema.

Schemathesis loads ``/api/schema/`` from the running app (WSGI, in process: nothing leaves the
machine), generates requests for every operation (a bounded number per operation) and checks that
no answer is a 5xx and that every answer (status, content type, body) matches the schema.
"""

import ipaddress
import os
import re
import socket

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from advisor.errors import AdvisorError
from advisor.services.hardware import RemoteHost
from tests.api.factories import make_token, probe_report

pytestmark = pytest.mark.django_db

# Enough to exercise each operation's fields and errors while the suite stays fast on 2 cores.
# SCHEMATHESIS_MAX_EXAMPLES raises it for a longer bug hunt (the suite keeps the small number).
MAX_EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))


def test_it_serves_an_openapi_3_schema_with_every_endpoint(anon):
    response = anon.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/catalog/models/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    assert "Error" in schema["components"]["schemas"]


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_it_serves_the_viewers_from_local_static_files(anon, page):
    html = anon.get(page).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html[:500]
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        assert anon.get(asset).status_code == 200, asset


# Loaded from the live app when the module is collected (pytest-django has set Django up by then).
# Every operation runs, the token ones included: each case signs with a token of its own
# (make_token below), so revoking one never takes the run's credentials away. The probe endpoint
# runs with the hardware collection and the remote worker faked (see _probes_answer_at_once).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
# Valid-by-schema data may still be refused on meaning (a model not in the catalog, a load-test
# target off the allow-list, an inconsistent report), so that check cannot apply to this API.
# Everything else runs: no 5xx, status codes, content types and bodies as documented, invalid
# data rejected, and auth enforced (the same request without a token, and with a wrong one).
EXCLUDED_CHECKS = [positive_data_acceptance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: the WSGI app must not close the test's database connection at
    the end of each request (on PostgreSQL that would end the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Generated URLs must never reach the network: only loopback names and addresses resolve."""
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if host not in ("localhost", None) and not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the test: not loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture(autouse=True)
def _one_remote_host(monkeypatch):
    """Listing hosts broadcasts to workers and waits 1 s for replies; answer at once instead."""
    host = RemoteHost(name="gpu-box-1", queue="host.gpu-box-1", workers=("celery@gpu-box-1",))
    monkeypatch.setattr("advisor.api.hardware.hardware_hosts_list", lambda: [host])


@pytest.fixture(autouse=True)
def _probes_answer_at_once(monkeypatch):
    """The probe endpoint, minus the slow outside world: this host's collection returns a fixed
    report (server URLs still go through the service's checks), and a remote host has no worker,
    answered at once instead of after the 20 s wait."""

    def collect(*, server_urls, **_):
        return probe_report()

    def no_worker(*, host, owner, server_urls, **_):
        raise AdvisorError(f"No worker answered on queue host.{host}.", field="host")

    monkeypatch.setattr("advisor.services.hardware.collect_report", collect)
    monkeypatch.setattr("advisor.api.hardware.hardware_report_probe_remote", no_worker)


def _is_loopback(host) -> bool:
    try:
        return ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_it_conforms_to_its_own_schema(case):
    # Passing the token explicitly also lets Schemathesis check that the same request without a
    # token, and with a wrong one, is refused (its ignored_auth check).
    headers = {"Authorization": f"Bearer {make_token(name='schemathesis')}"}
    response = case.call(headers=headers)
    case.validate_response(response, headers=headers, excluded_checks=EXCLUDED_CHECKS)
