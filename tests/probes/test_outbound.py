"""The one outbound path (probes/outbound.py): resolve once, check, connect only to the checked
addresses, never follow a redirect, http and https only, no header injection. Real listeners on
loopback; the refused host is 127.0.0.2 and must see no connection."""

import json
import ssl

import pytest

from probes import outbound
from tests.listeners import REFUSED_HOST, Rebinding, RedirectingServer, RefusedListener


def allow_only_127_0_0_1(host, addresses, literal):
    if any(address != "127.0.0.1" for address in addresses):
        raise outbound.Refused(f"{host} ({', '.join(addresses)}) is not allowed")


@pytest.mark.parametrize("scheme", ["http", "ftp"])
def test_a_redirect_comes_back_as_it_is_and_is_never_followed(scheme):
    with RefusedListener() as refused:
        location = f"{scheme}://{REFUSED_HOST}:{refused.port}/api/version"
        with RedirectingServer(location) as server:
            destination = outbound.pin(server.url, check=allow_only_127_0_0_1)
            status, _ = outbound.get(destination, "/api/version", timeout_s=5, max_bytes=1000)
    assert status == 302
    assert refused.hits == 0


def test_it_resolves_once_and_connects_only_to_the_checked_address(monkeypatch):
    """DNS answers 127.0.0.1, then 127.0.0.2: every request of the pinned destination still goes
    to 127.0.0.1, and the refused host sees nothing."""
    dns = Rebinding()
    monkeypatch.setattr(outbound, "resolve", dns)
    with RedirectingServer("/elsewhere") as server, RefusedListener(server.port) as refused:
        destination = outbound.pin(f"http://{dns.name}:{server.port}", check=allow_only_127_0_0_1)
        for _ in range(3):
            outbound.get(destination, "/", timeout_s=5, max_bytes=1000)
        with pytest.raises(outbound.Refused):  # a second pin asks again, and the check refuses
            outbound.pin(f"http://{dns.name}:{server.port}", check=allow_only_127_0_0_1)
    assert dns.lookups == 2
    assert refused.hits == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "http://user:pw@127.0.0.1/",
    ],
)
def test_it_speaks_only_http_and_https_without_credentials(url):
    with pytest.raises(outbound.Refused):
        outbound.pin(url)


def test_the_check_sees_the_resolved_addresses_before_anything_connects():
    seen = []

    def check(host, addresses, literal):
        seen.append((host, addresses, literal))
        raise outbound.Refused("no")

    with pytest.raises(outbound.Refused):
        outbound.pin("http://box.test:8000", check=check, resolver=lambda host: ["10.0.0.7"])
    assert seen == [("box.test", ("10.0.0.7",), False)]


@pytest.mark.parametrize(
    "value", ["abc\r\nX-Injected: 1", "abc\nX-Injected: 1", "abc\rdef", "abc\0", "ключ"]
)
def test_it_refuses_header_values_that_would_inject_or_cannot_be_sent(value):
    with pytest.raises(outbound.Refused):
        outbound.check_header("Authorization", f"Bearer {value}")


def test_a_plain_header_value_passes():
    outbound.check_header("Authorization", "Bearer sk-abc.DEF_123")


def test_https_verifies_the_certificate(tls_pair):
    from advisor.loadtest.testserver import ScriptedServer

    server_tls, client_tls = tls_pair
    with ScriptedServer(tls=server_tls) as server:
        destination = outbound.pin(server.url)
        status, body = outbound.get(
            destination, "/v1/models", timeout_s=5, max_bytes=10000, tls=client_tls
        )
        assert status == 200 and json.loads(body)["data"]
        with pytest.raises(ssl.SSLCertVerificationError):
            outbound.get(destination, "/v1/models", timeout_s=5, max_bytes=10000)
