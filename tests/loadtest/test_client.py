"""One request against the real scripted server on loopback, over http and https (one client,
one clock): timing agrees with the server's clock, and every failure is counted as its kind
without raising."""

import asyncio
import functools
import statistics
import sys
import time

import pytest

from advisor.loadtest import testserver
from advisor.loadtest.client import ErrorKind, TokensSource
from advisor.loadtest.discovery import ServerKind
from advisor.loadtest.testserver import Fault
from advisor.loadtest.wire import KERNEL_TIMESTAMPS
from tests.loadtest.specs import client_for, spec_for

TOLERANCE_S = 0.005  # docs/loadtest.md's promise: within 5 ms of the server's own clock
ROUNDS = 5


@pytest.fixture(autouse=True)
def quick_gil_handoff():
    """Server and client share this process: hand the GIL over in 0.1 ms, not Python's 5 ms,
    so a busy thread can't hold a timestamp back (the CLI and the task have no server inside)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    yield
    sys.setswitchinterval(before)


ScriptedServer = testserver.ScriptedServer
CLIENT_TLS = None


@pytest.fixture(autouse=True, params=["http", "https"])
def scheme(request, monkeypatch):
    """Every test here runs on both schemes, through the one wire client: the scripted server
    serves https with a self-signed certificate the client is told to trust."""
    if request.param == "https":
        server_tls, client_tls = request.getfixturevalue("tls_pair")
        module = sys.modules[__name__]
        monkeypatch.setattr(
            module, "ScriptedServer", functools.partial(ScriptedServer, tls=server_tls)
        )
        monkeypatch.setattr(module, "CLIENT_TLS", client_tls)
    return request.param


def send(server, *, api="openai", endpoint="chat", timeout_s=10.0, repeat=1):
    """Send ``repeat`` identical requests on one connection pool; return their outcomes."""

    async def main():
        spec = spec_for(server, api=api, endpoint=endpoint)
        client = client_for(server, tls=CLIENT_TLS)
        try:
            return [await client.send(spec, timeout_s=timeout_s, headers={}) for _ in range(repeat)]
        finally:
            client.close()

    outcomes = asyncio.run(main())
    return outcomes if repeat > 1 else outcomes[0]


@pytest.mark.parametrize(
    ("kind", "api", "endpoint"),
    [
        (ServerKind.VLLM, "openai", "chat"),
        (ServerKind.VLLM, "openai", "completions"),
        (ServerKind.OLLAMA, "ollama", "chat"),
    ],
)
def test_it_measures_ttft_itl_and_e2el_as_the_server_timed_them(kind, api, endpoint):
    # Systematic agreement within 5 ms: the median of a round of requests, so one stall does not
    # decide it; and up to ROUNDS rounds, since on a 2-core machine with a core kept busy the
    # client and the scripted server in this one process were seen 7.5 ms apart for a whole round.
    # A client that measures from the wrong moment is off by tens of ms in every round.
    worst = {}
    for _ in range(ROUNDS):
        errors = timing_errors(kind, api, endpoint)
        medians = {name: statistics.median(values) for name, values in errors.items()}
        if max(medians.values()) < TOLERANCE_S:
            return
        worst = max(worst, medians, key=lambda m: max(m.values()) if m else 0)
    pytest.fail(f"no round within {TOLERANCE_S * 1000:.0f} ms of the server's clock: {worst}")


def timing_errors(kind, api, endpoint) -> dict[str, list[float]]:
    """One round: 4 requests; how far each of our timings is from the server's own stamps."""
    with ScriptedServer(kind=kind, ttft_s=0.12, itl_s=0.03, tokens=6) as server:
        outcomes = send(server, api=api, endpoint=endpoint, repeat=4)
        logs = list(server.log)
    # The first request is a warm-up, as in a run: the TCP and TLS handshakes belong to TTFT for
    # vLLM too, but they are not the server's time to measure.
    errors = {"ttft": [], "itl": [], "e2el": []}
    for out, log in zip(outcomes[1:], logs[1:], strict=True):
        assert out.success, out.error
        assert out.output_tokens == 6 and out.tokens_source is TokensSource.USAGE
        errors["ttft"].append(abs(out.ttft - (log.chunks[0] - log.received)))
        errors["e2el"].append(abs(out.latency - (log.chunks[-1] - log.received)))
        gaps = [b - a for a, b in zip(log.chunks, log.chunks[1:], strict=False)]
        assert len(out.itl) == len(gaps) == 5
        errors["itl"] += [abs(ours - theirs) for ours, theirs in zip(out.itl, gaps, strict=True)]
    return errors


def test_it_counts_chunks_when_the_server_sends_no_usage_and_says_so():
    with ScriptedServer(kind=ServerKind.LLAMACPP, tokens=5) as server:
        server.push_faults(Fault.NO_USAGE)
        out = send(server)
    assert out.success
    assert out.output_tokens == 5
    assert out.tokens_source is TokensSource.COUNTED


def test_it_reads_ollama_server_durations():
    with ScriptedServer(kind=ServerKind.OLLAMA, tokens=4, itl_s=0.01) as server:
        out = send(server, api="ollama")
    assert out.success
    assert out.server["eval_count"] == 4
    assert out.prompt_tokens == 10


@pytest.mark.parametrize(
    ("fault", "kind", "api"),
    [
        (Fault.HTTP_500, "http_500", "openai"),
        (Fault.HTTP_429, "http_429", "openai"),
        (Fault.SERVER_BUSY, ErrorKind.SERVER_BUSY, "ollama"),
        (Fault.CUT_SHORT, ErrorKind.CUT_SHORT, "openai"),
        (Fault.CUT_SHORT, ErrorKind.CUT_SHORT, "ollama"),
        (Fault.MALFORMED, ErrorKind.MALFORMED, "openai"),
        (Fault.MALFORMED, ErrorKind.MALFORMED, "ollama"),
        (Fault.STREAM_ERROR, ErrorKind.STREAM_ERROR, "openai"),
        (Fault.STREAM_ERROR, ErrorKind.STREAM_ERROR, "ollama"),
        (Fault.REDIRECT, "http_302", "openai"),
    ],
)
def test_it_classifies_each_failure_without_raising(fault, kind, api):
    server_kind = ServerKind.OLLAMA if api == "ollama" else ServerKind.VLLM
    with ScriptedServer(kind=server_kind, tokens=6) as server:
        server.push_faults(fault)
        out = send(server, api=api)
        paths = [entry.path for entry in server.log]
    assert not out.success
    assert out.error_kind == kind
    assert out.error
    assert len(paths) == 1  # a redirect is never followed


def test_it_times_out_a_hung_stream():
    with ScriptedServer(tokens=4) as server:
        server.push_faults(Fault.HANG)
        out = send(server, timeout_s=0.3)
    assert out.error_kind == ErrorKind.TIMEOUT


def test_it_reports_a_refused_connection(unused_port):
    server = ScriptedServer()
    server.port = unused_port  # never started: nothing listens there
    out = send(server)
    assert out.error_kind == ErrorKind.REFUSED


@pytest.mark.skipif(not KERNEL_TIMESTAMPS, reason="kernel receive timestamps are Linux's")
def test_timestamps_do_not_wait_for_a_busy_client():
    """The first chunk lands while the client's thread is stuck for 200 ms: the wire client
    still times it when it arrived (the kernel's stamp, on the raw bytes before decryption for
    https). (Only one chunk lands in the stall: the kernel merges packets queued on one socket
    and keeps the latest stamp, so chunks that pile up behind a stalled reader share the last
    one's time.)"""
    # The error is the client's stamp against the server's, which a busy machine can delay by a
    # few ms in one try (7 ms seen with a core kept busy): up to ROUNDS tries. Waiting for the
    # stalled client would put it 100+ ms off in every one.
    errors = []
    for _ in range(ROUNDS):
        out, true_ttft = stalled_first_chunk()
        assert out.success, out.error
        errors.append(abs(out.ttft - true_ttft))
        if errors[-1] < TOLERANCE_S:
            return
    pytest.fail(f"the client's TTFT was off by {errors} s (tolerance {TOLERANCE_S} s)")


def stalled_first_chunk():
    """One request whose first chunk lands while the client's thread sleeps 200 ms:
    (its outcome, the TTFT by the server's clock)."""
    with ScriptedServer(ttft_s=0.1, itl_s=0.3, tokens=2) as server:
        spec = spec_for(server, max_tokens=2)

        async def main():
            loop = asyncio.get_running_loop()
            client = client_for(server, tls=CLIENT_TLS)
            await client.send(spec, timeout_s=5, headers={})  # connect outside the timing
            loop.call_later(0.03, time.sleep, 0.2)
            try:
                return await client.send(spec, timeout_s=5, headers={})
            finally:
                client.close()

        out = asyncio.run(main())
        log = server.log[-1]
    return out, log.chunks[0] - log.received
