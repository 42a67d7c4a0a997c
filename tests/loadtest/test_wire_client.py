"""The wire client's own behaviour against the scripted server on loopback: how it starts bursts
of requests, and whom it connects to. (Timing and failures: test_client.py, on both clients.)"""

import asyncio

from advisor.loadtest.client import ErrorKind
from advisor.loadtest.policy import check_target
from advisor.loadtest.testserver import ScriptedServer
from advisor.loadtest.wire import SENDS_PER_TURN, WireClient
from tests.loadtest.specs import client_for, spec_for


def test_a_burst_of_requests_starts_a_few_per_loop_turn_and_all_finish():
    """64 users starting together: the wire client starts ``SENDS_PER_TURN`` a turn (the loop
    reads sockets between turns); requests cancelled while they wait for a turn hold up none."""
    with ScriptedServer(ttft_s=0.05, itl_s=0.01, tokens=2) as server:
        spec = spec_for(server, max_tokens=2)

        async def main():
            client = client_for(server)
            turns = []
            loop = asyncio.get_running_loop()

            def count_turn():  # one callback per loop turn while the burst lasts
                turns.append(client._sends)
                if len(turns) < 50:
                    loop.call_soon(count_turn)

            tasks = [
                asyncio.create_task(client.send(spec, timeout_s=5, headers={})) for _ in range(64)
            ]
            loop.call_soon(count_turn)
            await asyncio.sleep(0)
            for task in tasks[40:48]:  # still waiting for their turn
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            client.close()
            return outcomes, turns

        outcomes, turns = asyncio.run(main())
    cancelled = [o for o in outcomes if isinstance(o, asyncio.CancelledError)]
    finished = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(cancelled) == 8
    assert len(finished) == 56 and all(o.success for o in finished)
    assert max(turns) <= SENDS_PER_TURN
    assert len([t for t in turns if t]) >= 56 // SENDS_PER_TURN  # spread over several turns


def test_the_wire_client_connects_only_to_the_addresses_the_policy_pinned():
    """A name the policy checked is never looked up again: the client connects to the checked
    loopback address (the fake DNS answers once; ``advisor-pinned.test`` exists nowhere)."""
    answers = [["127.0.0.1"]]
    with ScriptedServer(tokens=2) as server:
        base_url = f"http://advisor-pinned.test:{server.port}"
        spec = spec_for(server, max_tokens=2, base_url=base_url)
        checked = check_target(
            base_url, allowed_hosts=["127.0.0.1/32"], resolver=lambda host: answers.pop()
        )

        async def main():
            client = WireClient(checked)
            try:
                return await client.send(spec, timeout_s=5, headers={})
            finally:
                client.close()

        out = asyncio.run(main())
        log = server.log[-1]
    assert out.success, out.error
    assert log.path == "/v1/chat/completions"


def test_it_sends_only_to_the_checked_target():
    """A request for another host than the one the policy checked fails without connecting."""
    with ScriptedServer(tokens=2) as server:
        client = client_for(server)
        spec = spec_for(server, base_url=f"http://localhost:{server.port}")
        out = asyncio.run(client.send(spec, timeout_s=5, headers={}))
        client.close()
        assert server.log == []
    assert out.error_kind == ErrorKind.CLIENT
    assert "not the checked target" in out.error


def test_it_refuses_a_header_value_that_would_inject_headers():
    with ScriptedServer(tokens=2) as server:
        client = client_for(server)
        headers = {"Authorization": "Bearer abc\r\nX-Injected: 1"}
        out = asyncio.run(client.send(spec_for(server), timeout_s=5, headers=headers))
        client.close()
        assert server.log == []
    assert out.error_kind == ErrorKind.CLIENT
    assert "line break" in out.error


def test_https_with_a_certificate_nobody_vouches_for_fails_as_tls(tls_pair):
    """The system trust store does not know the test's self-signed certificate: the handshake
    fails (``tls``) and no request is sent."""
    server_tls, _ = tls_pair
    with ScriptedServer(tls=server_tls, tokens=2) as server:
        client = client_for(server)  # default context: certificates verified
        out = asyncio.run(client.send(spec_for(server), timeout_s=5, headers={}))
        client.close()
        assert server.log == []
    assert out.error_kind == ErrorKind.TLS
    assert "certificate verify failed" in out.error


def test_https_checks_the_host_name_against_the_certificate(tls_pair):
    """Trusted certificate, wrong name: it names 127.0.0.1 and localhost, the target 127.0.0.3."""
    server_tls, client_tls = tls_pair
    with ScriptedServer(tls=server_tls, tokens=2, host="127.0.0.3") as server:
        client = client_for(server, tls=client_tls)
        out = asyncio.run(client.send(spec_for(server), timeout_s=5, headers={}))
        client.close()
    assert out.error_kind == ErrorKind.TLS
    assert "127.0.0.3" in out.error


def test_https_reuses_its_connection(tls_pair):
    server_tls, client_tls = tls_pair
    with ScriptedServer(tls=server_tls, tokens=2) as server:
        spec = spec_for(server, max_tokens=2)

        async def main():
            client = client_for(server, tls=client_tls)
            try:
                first = await client.send(spec, timeout_s=5, headers={})
                idle = list(client._idle)
                second = await client.send(spec, timeout_s=5, headers={})
                return first, second, idle, list(client._idle)
            finally:
                client.close()

        first, second, idle_before, idle_after = asyncio.run(main())
    assert first.success and second.success, (first.error, second.error)
    assert len(idle_before) == 1 and idle_after == idle_before  # the same TLS connection
