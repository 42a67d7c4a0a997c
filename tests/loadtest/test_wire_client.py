"""The wire client's own behaviour against the scripted server on loopback: how it starts bursts
of requests, and whom it connects to. (Timing and failures: test_client.py, on both clients.)"""

import asyncio

from advisor.loadtest.policy import PinnedResolver
from advisor.loadtest.testserver import ScriptedServer
from advisor.loadtest.wire import SENDS_PER_TURN, WireClient
from tests.loadtest.specs import spec_for


def test_a_burst_of_requests_starts_a_few_per_loop_turn_and_all_finish():
    """64 users starting together: the wire client starts ``SENDS_PER_TURN`` a turn (the loop
    reads sockets between turns); requests cancelled while they wait for a turn hold up none."""
    with ScriptedServer(ttft_s=0.05, itl_s=0.01, tokens=2) as server:
        spec = spec_for(server, max_tokens=2)

        async def main():
            client = WireClient()
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
    """A name the policy checked is never looked up again: the pinned resolver answers with the
    checked loopback address (no DNS query for ``advisor-pinned.test``)."""
    with ScriptedServer(tokens=2) as server:
        spec = spec_for(server, max_tokens=2, base_url=f"http://advisor-pinned.test:{server.port}")

        async def main():
            client = WireClient(resolver=PinnedResolver("advisor-pinned.test", ("127.0.0.1",)))
            try:
                return await client.send(spec, timeout_s=5, headers={})
            finally:
                client.close()

        out = asyncio.run(main())
        log = server.log[-1]
    assert out.success, out.error
    assert log.path == "/v1/chat/completions"
