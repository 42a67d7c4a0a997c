"""The request the client tests send: a short chat completion to a scripted server."""

from advisor.loadtest.client import RequestSpec, build_request
from advisor.loadtest.testserver import ScriptedServer


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
