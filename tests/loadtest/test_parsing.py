"""The lean stream parsers give the same answer however the network splits the bytes."""

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.loadtest.client import NdjsonStream, RequestOutcome, SseStream, TokensSource


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False) if b > a]


def parse(stream_class, reads: list[bytes]) -> RequestOutcome:
    """Feed the reads as the network delivered them (one arrival time each), then end the body."""
    out = RequestOutcome()
    stream = stream_class(out, time.perf_counter())
    for read in reads:
        if not stream.feed(read, time.perf_counter()):
            return out
    stream.end()
    return out


def sse_stream(tokens: int, *, usage: bool) -> bytes:
    role = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    parts = [b"data: " + json.dumps(role).encode() + b"\n\n", b": ping\n\n"]
    for i in range(tokens):
        chunk = {"choices": [{"index": 0, "delta": {"content": f"t{i} \u00e9"}}]}
        parts.append(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
    if usage:
        final = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": tokens}}
        parts.append(b"data: " + json.dumps(final).encode() + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def ndjson_stream(tokens: int) -> bytes:
    lines = [
        json.dumps({"message": {"role": "assistant", "content": f"t{i}"}, "done": False})
        for i in range(tokens)
    ]
    lines.append(json.dumps({"done": True, "eval_count": tokens, "prompt_eval_count": 7}))
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.booleans(), st.lists(st.integers(0, 10_000), max_size=30))
def test_it_parses_sse_whatever_the_read_boundaries(tokens, usage, cuts):
    out = parse(SseStream, split(sse_stream(tokens, usage=usage), cuts))
    assert out.success, out.error
    assert out.output_tokens == tokens
    assert out.tokens_source is (TokensSource.USAGE if usage else TokensSource.COUNTED)
    # the role-only chunk opens the stream (TTFT, as vLLM times it), so every token adds a gap
    assert len(out.itl) == tokens


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.lists(st.integers(0, 10_000), max_size=30))
def test_it_parses_ndjson_whatever_the_read_boundaries(tokens, cuts):
    out = parse(NdjsonStream, split(ndjson_stream(tokens), cuts))
    assert out.success, out.error
    assert out.output_tokens == tokens and out.tokens_source is TokensSource.USAGE
    assert len(out.itl) == tokens - 1
    assert out.prompt_tokens == 7


def test_it_reports_a_stream_without_done_as_cut_short():
    out = parse(SseStream, [sse_stream(3, usage=True).replace(b"data: [DONE]\n\n", b"")])
    assert out.error_kind == "stream_cut_short"
