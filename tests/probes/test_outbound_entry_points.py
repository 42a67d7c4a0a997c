"""Every way to probe a server (the service, the API, the web form, ``manage.py probe --server``)
goes through the one outbound path: an allowed server's redirect to the refused host (127.0.0.2,
outside ``ADVISOR_LOADTEST_ALLOWED_HOSTS=127.0.0.1/32``) is not followed, whatever its scheme, and
a name that resolves to the refused host on the second look-up (DNS rebinding) reaches nothing.
The refused listener counts connections: there must be none."""

import json

import pytest
from django.core.management import call_command
from django.test import Client

from advisor.loadtest.discovery import ServerKind
from advisor.loadtest.testserver import ScriptedServer
from advisor.models import HardwareReport
from advisor.services.hardware import hardware_report_probe_local
from probes import outbound
from tests.api.factories import client_for, make_token, make_user
from tests.listeners import (
    ALLOWED_ONLY,
    REFUSED_HOST,
    Rebinding,
    RedirectingServer,
    RefusedListener,
)

pytestmark = pytest.mark.django_db


def probe_by_service(url: str) -> None:
    hardware_report_probe_local(server_urls=[url])


def probe_by_api(url: str) -> None:
    api = client_for(make_token(make_user()))
    response = api.post("/api/v1/hardware-reports/probe/", {"server_urls": [url]}, format="json")
    assert response.status_code == 201, response.content


def probe_by_web_form(url: str) -> None:
    response = Client().post("/hardware/probe/", {"server_urls": url})
    assert response.status_code == 302, response.content


def probe_by_command(url: str) -> None:
    call_command("probe", "--server", url, "--json")


ENTRY_POINTS = [probe_by_service, probe_by_api, probe_by_web_form, probe_by_command]


@pytest.fixture(autouse=True)
def allow_only_127_0_0_1(settings):
    settings.ADVISOR_LOADTEST_ALLOWED_HOSTS = ALLOWED_ONLY


def stored_report() -> str:
    return json.dumps(HardwareReport.objects.latest("created_at").report)


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize("scheme", ["http", "ftp"])
def test_a_redirect_to_the_refused_host_is_not_followed(entry_point, scheme):
    refused = RefusedListener()
    with refused, RedirectingServer(f"{scheme}://{REFUSED_HOST}:{refused.port}/") as server:
        entry_point(server.url)
    assert refused.hits == 0
    assert "from-the-refused-host" not in stored_report()


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_name_that_rebinds_to_the_refused_host_reaches_nothing(entry_point, monkeypatch):
    dns = Rebinding()
    monkeypatch.setattr(outbound, "resolve", dns)
    with (
        ScriptedServer(kind=ServerKind.OLLAMA) as allowed,
        RefusedListener(allowed.port) as refused,
    ):
        entry_point(f"http://{dns.name}:{allowed.port}")
    assert refused.hits == 0
    assert "from-the-refused-host" not in stored_report()
    assert dns.lookups >= 2  # checked again where it connects, and refused there
