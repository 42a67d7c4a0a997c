"""The wire client's HTTP framing gives the same answer however the network splits the bytes.

The one seam: a fake socket whose ``recvmsg_into`` hands over the given reads (no kernel stamp),
driving ``_Exchange.on_readable`` as the event loop would.
"""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.loadtest.client import RequestOutcome, SseStream, TokensSource
from advisor.loadtest.wire import _Connection, _Exchange


class FakeSocket:
    def __init__(self, reads: list[bytes]):
        self.reads = list(reads)

    def recvmsg_into(self, buffers, ancillary_size):
        data = self.reads.pop(0) if self.reads else b""
        buffers[0][: len(data)] = data
        return len(data), [], 0, None


class Waiter:
    def __init__(self):
        self.result = None

    def done(self) -> bool:
        return self.result is not None

    def set_result(self, value) -> None:
        self.result = value


def sse_body(tokens: int) -> bytes:
    events = [
        b"data: " + json.dumps({"choices": [{"delta": {"content": f"t{i}"}}]}).encode() + b"\n\n"
        for i in range(tokens)
    ]
    usage = {"choices": [], "usage": {"completion_tokens": tokens, "prompt_tokens": 3}}
    events.append(b"data: " + json.dumps(usage).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return b"".join(events)


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, pos = [], 0
    for size in sizes:
        if pos >= len(body):
            break
        piece = body[pos : pos + size]
        out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        pos += size
    if pos < len(body):
        out.append(b"%x\r\n%s\r\n" % (len(body) - pos, body[pos:]))
    return b"".join(out) + b"0\r\n\r\n"


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False) if b > a]


def exchange(reads: list[bytes]) -> tuple[RequestOutcome, bool | None]:
    out = RequestOutcome()
    waiter = Waiter()
    sock = FakeSocket(reads)
    read_view = memoryview(bytearray(64 * 1024))
    ex = _Exchange(_Connection(sock), out, SseStream(out, 0.0), waiter, 0.0, read_view)
    while not waiter.done():
        ex.on_readable()
    return out, waiter.result


HEAD_CHUNKED = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 12),
    st.lists(st.integers(1, 90), min_size=1, max_size=20),
    st.lists(st.integers(0, 5000), max_size=25),
)
def test_chunked_bodies_parse_whatever_the_chunk_and_read_boundaries(tokens, sizes, cuts):
    response = HEAD_CHUNKED + chunked(sse_body(tokens), sizes)
    reads = split(response, cuts)
    out, reusable = exchange(reads)
    assert out.success, out.error
    assert out.output_tokens == tokens and out.tokens_source is TokensSource.USAGE
    # With the last chunk's terminator in one read, the connection serves the next request; split
    # across reads it is closed instead (safe: nothing is left unread on a reused connection).
    if reads[-1].endswith(b"0\r\n\r\n"):
        assert reusable is True


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.lists(st.integers(0, 5000), max_size=25))
def test_content_length_and_read_to_close_bodies_parse_too(tokens, cuts):
    body = sse_body(tokens)
    sized = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    out, reusable = exchange(split(sized, cuts))
    assert out.success and out.output_tokens == tokens and reusable is True
    until_close = b"HTTP/1.0 200 OK\r\n\r\n" + body
    out, reusable = exchange(split(until_close, cuts))
    assert out.success and out.output_tokens == tokens and reusable is False


def test_a_connection_closed_before_the_last_chunk_is_a_stream_cut_short():
    response = HEAD_CHUNKED + chunked(sse_body(3), [40])
    out, reusable = exchange([response[: len(response) - 5]])
    assert out.error_kind == "stream_cut_short" and reusable is False


def test_an_error_status_keeps_the_start_of_its_body():
    body = b'{"error": "model not found"}'
    response = b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    out, _ = exchange([response[:30], response[30:]])
    assert out.error_kind == "http_404" and "model not found" in out.error


def test_bad_framing_fails_the_request_instead_of_raising():
    out, _ = exchange([HEAD_CHUNKED + b"zz\r\nnot hex\r\n"])
    assert out.error_kind == "stream_cut_short" and "framing" in out.error
    out, _ = exchange([b"SSH-2.0-OpenSSH\r\n\r\n"])
    assert out.error_kind == "connection"
