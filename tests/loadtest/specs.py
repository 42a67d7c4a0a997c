"""The request the client tests send (a short chat completion to a scripted server), and the
client that sends it."""

import ssl

from advisor.loadtest.client import RequestSpec, build_request
from advisor.loadtest.policy import DEFAULT_ALLOWED_HOSTS, check_target
from advisor.loadtest.testserver import ScriptedServer
from advisor.loadtest.wire import WireClient


def client_for(server: ScriptedServer, *, tls: ssl.SSLContext | None = None) -> WireClient:
    """A wire client for the server's URL, checked by the loopback-only policy."""
    return WireClient(check_target(server.url, allowed_hosts=DEFAULT_ALLOWED_HOSTS), tls=tls)


def spec_for(
    server: ScriptedServer,
    *,
    api: str = "openai",
    endpoint: str = "chat",
    max_tokens: int = 8,
    base_url: str | None = None,
) -> RequestSpec:
    return build_request(
        base_url=base_url or server.url,
        api=api,
        endpoint=endpoint,
        model=server.model,
        prompt="hello",
        max_tokens=max_tokens,
        ignore_eos=True,
    )
