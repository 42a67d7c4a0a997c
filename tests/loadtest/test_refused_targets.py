"""The load-test path reaches only what the policy checked: discovery does not follow a redirect
to the refused host (127.0.0.2, outside ``ADVISOR_LOADTEST_ALLOWED_HOSTS=127.0.0.1/32``) whatever
its scheme, and a run looks its target's name up once, so a name that rebinds to the refused host
afterwards reaches nothing. The refused listener counts connections: there must be none."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from advisor.errors import AdvisorError
from advisor.loadtest import discover
from advisor.loadtest.policy import check_target
from advisor.loadtest.testserver import ScriptedServer
from advisor.models import LoadTestStatus
from advisor.services import loadtests
from probes import outbound
from tests.listeners import (
    ALLOWED_ONLY,
    REFUSED_HOST,
    Rebinding,
    RedirectingServer,
    RefusedListener,
)


@pytest.mark.parametrize("scheme", ["http", "ftp"])
def test_discovery_does_not_follow_a_redirect_to_the_refused_host(scheme):
    refused = RefusedListener()
    with refused, RedirectingServer(f"{scheme}://{REFUSED_HOST}:{refused.port}/") as server:
        destination = check_target(server.url, allowed_hosts=ALLOWED_ONLY)
        with pytest.raises(AdvisorError, match="redirect"):
            discover(server.url, destination=destination)
    assert refused.hits == 0


def test_the_cli_looks_the_name_up_once_and_sends_nothing_to_the_rebound_address(
    settings, monkeypatch
):
    settings.ADVISOR_LOADTEST_ALLOWED_HOSTS = ALLOWED_ONLY
    dns = Rebinding()
    monkeypatch.setattr(outbound, "resolve", dns)
    with ScriptedServer(tokens=2) as allowed, RefusedListener(allowed.port) as refused:
        out = StringIO()
        call_command(
            "loadtest", "--base-url", f"http://{dns.name}:{allowed.port}", "--model",
            allowed.model, "--concurrency", "1,2", "--requests-per-level", "3", "--json",
            stdout=out,
        )  # fmt: skip
    result = json.loads(out.getvalue())
    assert sum(level["succeeded"] for level in result["levels"]) == 6
    assert dns.lookups == 1
    assert refused.hits == 0


@pytest.mark.django_db
def test_the_task_checks_the_target_again_and_refuses_a_name_that_rebound(settings, monkeypatch):
    """Checked when the test is created (127.0.0.1) and again when the worker runs it: by then
    the name answers 127.0.0.2, and the run is refused before anything connects."""
    settings.ADVISOR_LOADTEST_ALLOWED_HOSTS = ALLOWED_ONLY
    dns = Rebinding()
    monkeypatch.setattr(outbound, "resolve", dns)
    with ScriptedServer(tokens=2) as allowed, RefusedListener(allowed.port) as refused:
        config = {"base_url": f"http://{dns.name}:{allowed.port}", "model": allowed.model}
        row = loadtests.loadtest_create(config=config, enqueue=False)
        row = loadtests.loadtest_run(load_test_id=row.pk)
        assert allowed.log == []
    assert row.status == LoadTestStatus.FAILED
    assert "not in ADVISOR_LOADTEST_ALLOWED_HOSTS" in row.error
    assert refused.hits == 0
