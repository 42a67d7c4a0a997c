"""One streamed request, timed exactly as ``vllm bench serve`` times it.

- t0 is taken just before the request is sent;
- TTFT = arrival of the first chunk that carries choices (OpenAI) or a ``done: false`` message
  (Ollama) minus t0; ITL = each gap between consecutive such chunks; E2EL = the last one minus t0
  (a trailing usage chunk or Ollama's final ``done: true`` summary is not content);
- output tokens = ``usage.completion_tokens`` (Ollama ``eval_count``) when sent, else the count of
  content chunks (``tokens_source`` says which).

Source: vllm/benchmarks/lib/endpoint_request_func.py (async_request_openai_chat_completions).

The per-chunk path is lean: bytes searches on each line; ``json.loads`` only on the first content
chunk (to prove the stream is JSON) and on the non-content chunks (usage, summary, errors).
Every failure becomes an ``ErrorKind``. The bytes come from ``advisor.loadtest.wire`` (the one
load-test transport, http and https).
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any

# A content chunk: a non-empty "choices" array (vLLM's trailing usage chunk has "choices": []).
_CHOICES = re.compile(rb'"choices"\s*:\s*\[\s*\{')
# A chunk that carries generated text: a non-empty "content" (chat delta) or "text" (completions).
# Counting tokens without usage counts these, not every chunk with choices: llama-cpp-python
# opens with a role-only delta and closes with an empty delta carrying finish_reason (seen on
# llama-cpp-python 0.3.36 by tests/engines), which are no tokens.
_TEXT = re.compile(rb'"(?:content|text)"\s*:\s*"(?!")')
# An Ollama streaming message that is not the final summary.
_NOT_DONE = re.compile(rb'"done"\s*:\s*false')
ERROR_BODY_BYTES = 2048
# Ollama's queue-full answer (server/sched.go, OLLAMA_MAX_QUEUE): HTTP 503 "server busy, ...".
_OLLAMA_BUSY = b"server busy"


class ErrorKind(enum.StrEnum):
    """Why a request failed. HTTP statuses are counted as ``http_<status>``."""

    TIMEOUT = "timeout"
    REFUSED = "refused"
    CONNECTION = "connection"
    TLS = "tls"  # the TLS handshake failed: a certificate not trusted, a wrong host name
    CUT_SHORT = "stream_cut_short"
    MALFORMED = "malformed_chunk"
    STREAM_ERROR = "stream_error"  # an {"error": ...} event inside a 200 stream
    NO_CONTENT = "no_content"  # a complete stream without a single content chunk
    SERVER_BUSY = "server_busy"  # Ollama's 503 when its queue is full
    CLIENT = "client_error"  # anything else on our side; the message says what


class TokensSource(enum.StrEnum):
    USAGE = "usage"  # the server's count (usage.completion_tokens, Ollama eval_count)
    COUNTED = "counted"  # no count sent: one token per content chunk


@dataclass(slots=True)
class RequestOutcome:
    """One request's timings in seconds (perf_counter clock) and what came back."""

    success: bool = False
    start: float = 0.0
    ttft: float = 0.0
    latency: float = 0.0  # E2EL
    itl: list[float] = field(default_factory=list)
    output_tokens: int = 0
    tokens_source: TokensSource = TokensSource.COUNTED
    prompt_tokens: int | None = None
    error_kind: str = ""
    error: str = ""
    server: dict[str, float] | None = None  # Ollama's own durations (ns) and counts


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What to send: a ready URL and JSON body (built by ``build_request``)."""

    url: str
    body: bytes
    ndjson: bool  # Ollama's native stream


def build_request(
    *,
    base_url: str,
    api: str,
    endpoint: str,
    model: str,
    prompt: str,
    max_tokens: int,
    ignore_eos: bool,
) -> RequestSpec:
    """The payload ``vllm bench serve`` sends, or Ollama's ``/api/chat`` equivalent."""
    base = base_url.rstrip("/")
    if api == "ollama":
        payload = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "stream": True,
            # num_predict fixes the output length; Ollama has no ignore_eos.
            "options": {"num_predict": max_tokens, "temperature": 0},
        }
        return RequestSpec(f"{base}/api/chat", json.dumps(payload).encode(), ndjson=True)
    payload = {
        "model": model,
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0,
    }
    if ignore_eos:
        payload["ignore_eos"] = True  # vLLM's extension; other servers ignore unknown fields
    if endpoint == "completions":
        payload["prompt"] = prompt
        url = f"{base}/v1/completions"
    else:
        payload["messages"] = [{"role": "user", "content": prompt}]
        url = f"{base}/v1/chat/completions"
    return RequestSpec(url, json.dumps(payload).encode(), ndjson=False)


def http_error(out: RequestOutcome, status: int, body: bytes) -> None:
    """A non-200 answer: ``http_<status>``, or Ollama's queue-full 503 as ``server_busy``."""
    if status == 503 and _OLLAMA_BUSY in body.lower():
        out.error_kind = ErrorKind.SERVER_BUSY
    else:
        out.error_kind = f"http_{status}"
    out.error = f"HTTP {status}: {body[:200].decode(errors='replace')}"


def fail(out: RequestOutcome, kind: str, message: str) -> bool:
    """Mark ``out`` failed with ``kind`` and ``message``; False (the parsers' "stop reading")."""
    out.success = False
    out.error_kind = str(kind)
    out.error = message
    return False


class _LineStream:
    """A streamed body read line by line, fed as it arrives: ``feed(bytes, arrival time)`` answers
    False once the stream has failed (stop reading), ``end()`` closes a body that ended.

    The per-chunk path is the hot loop of a load test: locals, bytes searches, no JSON parse of
    content chunks after the first."""

    __slots__ = ("out", "st", "buffer", "first", "last", "chunks")

    def __init__(self, out: RequestOutcome, st: float):
        self.out = out
        self.st = st
        self.buffer = b""  # an incomplete last line
        self.first = True  # no content chunk yet
        self.last = st  # when the last content chunk arrived
        self.chunks = 0

    def _lines(self, data: bytes) -> list[bytes]:
        """The complete lines that ``data`` ends (none while a line is still arriving)."""
        buffer = self.buffer + data if self.buffer else data
        if b"\n" not in buffer:
            self.buffer = buffer
            return []
        *lines, self.buffer = buffer.split(b"\n")
        return lines


class SseStream(_LineStream):
    """An OpenAI-compatible SSE body (``data:`` events)."""

    __slots__ = ("text_chunks", "done", "usage")

    def __init__(self, out: RequestOutcome, st: float):
        super().__init__(out, st)
        self.text_chunks = 0
        self.done = False
        self.usage = None

    def feed(self, data: bytes, now: float) -> bool:
        lines = self._lines(data)
        out = self.out
        itl = out.itl
        last = self.last
        try:
            for line in lines:
                if not line.startswith(b"data:"):
                    continue  # blank separators, ": ping" comments, event:/id: fields
                payload = line[5:].strip()
                if _CHOICES.search(payload):
                    if self.first:
                        if not _is_json_object(payload):
                            return fail(out, ErrorKind.MALFORMED, _snippet(payload))
                        self.first = False
                        out.ttft = now - self.st
                    elif payload[-1:] != b"}":
                        return fail(out, ErrorKind.MALFORMED, _snippet(payload))
                    else:
                        itl.append(now - last)
                    last = now
                    self.chunks += 1
                    if _TEXT.search(payload):
                        self.text_chunks += 1
                elif payload == b"[DONE]":
                    self.done = True
                elif not self._other(payload):
                    return False
        finally:
            self.last = last
        return True

    def _other(self, payload: bytes) -> bool:
        """An event without choices: the usage chunk, or an error."""
        out = self.out
        try:
            message = json.loads(payload)
        except ValueError:
            return fail(out, ErrorKind.MALFORMED, _snippet(payload))
        if not isinstance(message, dict):
            return fail(out, ErrorKind.MALFORMED, _snippet(payload))
        if message.get("error"):
            return fail(out, ErrorKind.STREAM_ERROR, _snippet(payload))
        usage = message.get("usage")
        if isinstance(usage, dict):
            self.usage = usage.get("completion_tokens")
            out.prompt_tokens = usage.get("prompt_tokens")
        return True

    def end(self) -> None:
        if not self.done:
            fail(
                self.out,
                ErrorKind.CUT_SHORT,
                f"stream ended after {self.chunks} chunks without [DONE]",
            )
            return
        _finish(self.out, self.first, self.last, self.st, self.text_chunks, self.usage)


class NdjsonStream(_LineStream):
    """Ollama's native NDJSON body (``/api/chat``): one JSON message a line."""

    __slots__ = ("summary",)

    def __init__(self, out: RequestOutcome, st: float):
        super().__init__(out, st)
        self.summary: dict[str, Any] | None = None

    def feed(self, data: bytes, now: float) -> bool:
        out = self.out
        for line in self._lines(data):
            line = line.strip()
            if not line:
                continue
            if _NOT_DONE.search(line):
                if self.first:
                    if not _is_json_object(line):
                        return fail(out, ErrorKind.MALFORMED, _snippet(line))
                    self.first = False
                    out.ttft = now - self.st
                elif line[-1:] != b"}":
                    return fail(out, ErrorKind.MALFORMED, _snippet(line))
                else:
                    out.itl.append(now - self.last)
                self.last = now
                self.chunks += 1
                continue
            if not self._other(line):
                return False
        return True

    def _other(self, line: bytes) -> bool:
        """A line that is not a content message: the final summary, or an error."""
        try:
            message = json.loads(line)
        except ValueError:
            return fail(self.out, ErrorKind.MALFORMED, _snippet(line))
        if not isinstance(message, dict):
            return fail(self.out, ErrorKind.MALFORMED, _snippet(line))
        if message.get("error"):
            return fail(self.out, ErrorKind.STREAM_ERROR, _snippet(line))
        if message.get("done"):
            self.summary = message
        return True

    def end(self) -> None:
        out = self.out
        tail = self.buffer.strip()
        if tail and self.summary is None and not self._other(tail):
            return
        summary = self.summary
        if summary is None:
            fail(out, ErrorKind.CUT_SHORT, f"stream ended after {self.chunks} chunks, no done:true")
            return
        out.prompt_tokens = summary.get("prompt_eval_count")
        out.server = {
            key: summary[key]
            for key in (
                "total_duration",
                "load_duration",
                "prompt_eval_count",
                "prompt_eval_duration",
                "eval_count",
                "eval_duration",
            )
            if isinstance(summary.get(key), int | float)
        }
        _finish(out, self.first, self.last, self.st, self.chunks, summary.get("eval_count"))


def _finish(
    out: RequestOutcome, first: bool, last: float, st: float, chunks: int, tokens: object
) -> None:
    if first:
        fail(out, ErrorKind.NO_CONTENT, "the stream finished without a content chunk")
        return
    out.latency = last - st
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 0:
        out.output_tokens = tokens
        out.tokens_source = TokensSource.USAGE
    else:
        out.output_tokens = chunks
        out.tokens_source = TokensSource.COUNTED
    out.success = True


def _is_json_object(payload: bytes) -> bool:
    try:
        return isinstance(json.loads(payload), dict)
    except ValueError:
        return False


def _snippet(payload: bytes) -> str:
    return payload[:200].decode(errors="replace")
