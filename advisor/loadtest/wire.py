"""Streamed requests over plain HTTP/1.1 sockets, timed by the kernel.

Why not aiohttp for these: a client timestamps a chunk when its code gets to it. vLLM's decode
step emits a token for every running request at once, so with 1,000 streams 1,000 chunks land
together and, on one client thread, the last one is timestamped after the other 999 have been
parsed: tens of milliseconds of error in its TTFT and ITL. Linux records when each packet arrived
(``SO_TIMESTAMPNS``); reading it with ``recvmsg`` makes every timestamp independent of how busy
this thread is. Where the kernel sends no timestamp (not Linux), the time of the read is used, as
aiohttp's would be. One limit, the kernel's: packets queued on one socket behind a stalled reader
are merged and keep the latest stamp, so chunks that pile up on a stream share the time of the
last of them (never later than the read; a client that keeps up reads one chunk at a time). The read path is also lean: the event loop calls ``_Exchange.on_readable``
for a socket with data, which decodes the HTTP framing and feeds the stream parser in place (no
task switch, no stream reader per chunk).

Scope: what a load test sends, a POST with a JSON body, answered by a body in chunked,
Content-Length or read-to-close framing; keep-alive reuse of idle connections; redirects are not
followed (a 3xx is an ``http_3xx`` error, as everywhere in the engine). https targets go through
aiohttp (``client.send_request``).
"""

from __future__ import annotations

import asyncio
import collections
import socket
import struct
import sys
import time
from urllib.parse import urlsplit

from advisor.loadtest.client import (
    _ERROR_BODY_BYTES,
    ErrorKind,
    NdjsonStream,
    RequestOutcome,
    RequestSpec,
    SseStream,
    _fail,
    http_error,
)

# asm-generic/socket.h: SO_TIMESTAMPNS (SO_TIMESTAMPNS_OLD; the socket module has no name for it).
# The control message carries a struct timespec of CLOCK_REALTIME.
SO_TIMESTAMPNS = 35
KERNEL_TIMESTAMPS = sys.platform.startswith("linux")
CMSG_SPACE = socket.CMSG_SPACE(16) if KERNEL_TIMESTAMPS else 0
# Each client reads every socket into one buffer (its loop reads one socket at a time): no
# allocation per read beyond the bytes received. 64 KiB holds hundreds of chunks of a stream that
# fell behind. One per client, not per module: a worker with a thread pool runs several load
# tests at once, each on its own loop and thread.
_READ_SIZE = 64 * 1024
_MAX_HEAD = 64 * 1024
# Requests started per turn of the event loop. When a level's streams end together (a fixed
# output length on a batching server ends them in the same step), every user starts its next
# request at once; started in one turn, 1,000 requests would keep the loop from reading any socket
# for tens of milliseconds, and chunks that pile up on a socket share one kernel stamp (see above).
# Between turns the loop polls the sockets. t0 is taken after the wait, when the request leaves.
SENDS_PER_TURN = 16
_USER_AGENT = b"llm-serving-advisor-loadtest"

# _Exchange states
_HEAD, _BODY, _DONE = 0, 1, 2
# body framings
_CHUNKED, _LENGTH, _UNTIL_CLOSE = 0, 1, 2


def realtime_offset() -> float:
    """CLOCK_REALTIME minus ``perf_counter``, read so a preemption between the two reads can't
    skew it: the best of five bracketed readings. Kernel stamps are realtime; timings are not."""
    best = None
    for _ in range(5):
        before = time.perf_counter()
        real = time.time()
        after = time.perf_counter()
        if best is None or after - before < best[0]:
            best = (after - before, real - (before + after) / 2)
    return best[1]


def kernel_arrival(ancillary: list, offset: float) -> float | None:
    """The ``perf_counter`` time the kernel stamped on a read (``recvmsg``'s ancillary data from a
    socket with ``SO_TIMESTAMPNS`` on), or None without one. ``offset``: ``realtime_offset()``."""
    for _, kind, stamp in ancillary:
        if kind == SO_TIMESTAMPNS and len(stamp) == 16:
            seconds, nanoseconds = struct.unpack("qq", stamp)
            return seconds - offset + nanoseconds * 1e-9
    return None


class _Failure(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class _Exchange:
    """One response, decoded by the event loop's read callback as bytes arrive."""

    __slots__ = (
        "sock",
        "out",
        "stream",
        "waiter",
        "offset",
        "state",
        "buffer",
        "status",
        "framing",
        "left",
        "in_chunk",
        "keep_alive",
        "error_body",
        "reusable",
        "between_chunks",
        "read_view",
    )

    def __init__(
        self,
        sock: socket.socket,
        out: RequestOutcome,
        stream,
        waiter,
        offset: float,
        read_view: memoryview | None = None,
    ):
        self.read_view = read_view if read_view is not None else memoryview(bytearray(_READ_SIZE))
        self.sock = sock
        self.out = out
        self.stream = stream
        self.waiter = waiter
        self.offset = offset  # CLOCK_REALTIME - perf_counter
        self.state = _HEAD
        self.buffer = b""
        self.status = 0
        self.framing = _UNTIL_CLOSE
        self.left = 0  # bytes left: of the current chunk's payload, or of a Content-Length body
        self.in_chunk = False  # inside a chunk's payload (or its trailing CRLF)
        self.keep_alive = True
        self.error_body = b""
        self.reusable = False
        self.between_chunks = False  # a 200 chunked body, nothing buffered: the fast path holds

    def on_readable(self) -> None:
        if self.state == _DONE:
            return  # finished; the reader is removed when the request's task resumes
        try:
            size, ancillary, _, _ = self.sock.recvmsg_into((self.read_view,), CMSG_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            return self._lost(f"{type(exc).__name__}: {exc}")
        now = time.perf_counter()
        data = self.read_view[:size].tobytes()
        if ancillary:
            arrived = kernel_arrival(ancillary, self.offset)
            if arrived is not None and self.out.start <= arrived < now:  # inside the read window
                now = arrived
        if not data:
            return self._eof()
        if self.between_chunks:
            # The steady state: one read, one whole chunk ("<size>\r\n<payload>\r\n").
            end = data.find(b"\r\n", 0, 10)
            if end > 0 and data[-2:] == b"\r\n":
                try:
                    length = int(data[:end], 16)
                except ValueError:
                    length = 0
                if length and len(data) == end + length + 4:
                    if not self.stream.feed(data[end + 2 : -2], now):
                        self._complete(reusable=False)
                    return
        try:
            self._feed(data, now)
        except _Failure as failure:
            _fail(self.out, failure.kind, str(failure))
            self._complete(reusable=False)
        except ValueError as exc:  # bad framing: a status line, a chunk size, a length
            _fail(self.out, ErrorKind.CUT_SHORT, f"malformed HTTP framing: {exc}")
            self._complete(reusable=False)

    def _feed(self, data: bytes, now: float) -> None:
        if self.state == _HEAD:
            data = self._head(data)
            if data is None:
                return
        if self.framing == _CHUNKED:
            payload, finished = self._dechunk(data)
        elif self.framing == _LENGTH:
            payload = data[: self.left]
            self.left -= len(payload)
            finished = self.left == 0
        else:
            payload, finished = data, False
        if self.status != 200:
            self.error_body += payload
            if finished or len(self.error_body) >= _ERROR_BODY_BYTES:
                http_error(self.out, self.status, self.error_body[:_ERROR_BODY_BYTES])
                self._complete(reusable=False)
            return
        if payload and not self.stream.feed(payload, now):
            return self._complete(reusable=False)  # the parser failed the request
        if finished:
            self.stream.end()
            self._complete(reusable=self.reusable and self.keep_alive)

    def _head(self, data: bytes) -> bytes | None:
        """Parse the status line and headers; the rest of ``data`` is body (None: need more)."""
        buffer = self.buffer + data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > _MAX_HEAD:
                raise _Failure(ErrorKind.CONNECTION, "no end to the HTTP response head")
            self.buffer = buffer
            return None
        self.buffer = b""
        lines = buffer[:end].split(b"\r\n")
        status_line = lines[0].split(None, 2)
        if (
            len(status_line) < 2
            or not status_line[0].startswith(b"HTTP/1.")
            or not status_line[1].isdigit()
        ):
            raise _Failure(ErrorKind.CONNECTION, f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        version = status_line[0]
        self.status = int(status_line[1])
        self.keep_alive = version == b"HTTP/1.1"
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"transfer-encoding":
                if b"chunked" in value.lower():
                    self.framing = _CHUNKED
            elif name == b"content-length":
                length = int(value)
            elif name == b"connection":
                value = value.strip().lower()
                self.keep_alive = value == b"keep-alive" or (self.keep_alive and value != b"close")
        if self.framing != _CHUNKED and length is not None:
            self.framing = _LENGTH
            self.left = length
            self.reusable = True
        self.state = _BODY
        self.between_chunks = self.framing == _CHUNKED and self.status == 200
        return buffer[end + 4 :]

    def _dechunk(self, data: bytes) -> tuple[bytes, bool]:
        """The payload in ``data`` with the chunked framing removed; True once the last chunk."""
        buffer = self.buffer + data if self.buffer else data
        self.buffer = b""
        parts = []
        pos = 0
        size = len(buffer)
        left = self.left
        in_chunk = self.in_chunk
        while pos < size:
            if in_chunk:
                if left:
                    piece = buffer[pos : pos + left]
                    parts.append(piece)
                    left -= len(piece)
                    pos += len(piece)
                    continue
                if size - pos < 2:
                    break
                if buffer[pos : pos + 2] != b"\r\n":
                    raise ValueError("a chunk longer than its size")
                pos += 2
                in_chunk = False
                continue
            end = buffer.find(b"\r\n", pos)
            if end < 0:
                if size - pos > 1024:
                    raise ValueError("a chunk-size line without an end")
                break
            line = buffer[pos:end]
            left = int(line.split(b";", 1)[0] if b";" in line else line, 16)
            pos = end + 2
            if left == 0:
                # The last chunk; only a bare CRLF after it (no trailers) leaves the connection
                # in a known state for the next request.
                self.reusable = buffer[pos:] == b"\r\n"
                self.left, self.in_chunk, self.between_chunks = 0, False, False
                return b"".join(parts), True
            in_chunk = True
        self.left, self.in_chunk = left, in_chunk
        if pos < size:
            self.buffer = buffer[pos:]
        self.between_chunks = not in_chunk and pos == size and self.status == 200
        return (parts[0] if len(parts) == 1 else b"".join(parts)), False

    def _eof(self) -> None:
        if self.state == _HEAD:
            _fail(
                self.out, ErrorKind.CONNECTION, "the server closed the connection before answering"
            )
        elif self.status != 200:
            http_error(self.out, self.status, self.error_body[:_ERROR_BODY_BYTES])
        elif self.framing == _UNTIL_CLOSE:
            self.stream.end()  # the close is the end of this body
        else:
            _fail(self.out, ErrorKind.CUT_SHORT, "the server closed the connection mid-stream")
        self._complete(reusable=False)

    def _lost(self, message: str) -> None:
        kind = ErrorKind.CONNECTION if self.state == _HEAD else ErrorKind.CUT_SHORT
        _fail(self.out, kind, message)
        self._complete(reusable=False)

    def _complete(self, *, reusable: bool) -> None:
        self.state = _DONE
        if not self.waiter.done():
            self.waiter.set_result(reusable)


class WireClient:
    """Streamed POSTs to plain-http targets, with a pool of idle keep-alive connections.

    ``resolver``: the policy's pinned resolver (an object with ``async resolve(host, port)``
    returning aiohttp-style dicts); without it the loop's ``getaddrinfo`` resolves.
    """

    def __init__(self, *, resolver=None):
        self.resolver = resolver
        self._idle: dict[tuple[str, int], list[socket.socket]] = {}
        self._heads: dict[tuple[str, str], tuple[tuple[str, int], bytes]] = {}
        self._read_view = memoryview(
            bytearray(_READ_SIZE)
        )  # for this client's exchanges (one loop)
        self._offset = realtime_offset()
        self._offset_read = time.perf_counter()
        self._sends = 0  # requests started in this turn of the loop
        self._waiting: collections.deque[asyncio.Future] = collections.deque()

    async def _turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for a turn of the loop with room for one more request (``SENDS_PER_TURN``)."""
        if self._sends < SENDS_PER_TURN and not self._waiting:
            if self._sends == 0:
                loop.call_soon(self._next_turn, loop)
            self._sends += 1
            return
        waiter = loop.create_future()
        self._waiting.append(waiter)
        await waiter

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        released = 0
        while self._waiting and released < SENDS_PER_TURN:
            waiter = self._waiting.popleft()
            if not waiter.done():  # a cancelled wait is skipped
                waiter.set_result(None)
                released += 1
        self._sends = released
        if released:
            loop.call_soon(self._next_turn, loop)

    async def send(self, spec: RequestSpec, *, timeout_s: float, headers: dict) -> RequestOutcome:
        """Send ``spec`` and time it as ``client.send_request`` does. Never raises (but lets
        cancellation through)."""
        loop = asyncio.get_running_loop()
        await self._turn(loop)
        out = RequestOutcome()
        st = time.perf_counter()
        out.start = st
        address, head = self._head(spec, headers)
        sock = None
        try:
            async with asyncio.timeout(timeout_s):
                sock = self._idle_socket(address) or await self._connect(*address)
                if st - self._offset_read > 1.0:  # re-read each second: a clock step moves it
                    self._offset = realtime_offset()
                    self._offset_read = st
                request = head + spec.body
                try:
                    sent = sock.send(request)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                if sent < len(request):
                    await loop.sock_sendall(sock, request[sent:])
                stream = (NdjsonStream if spec.ndjson else SseStream)(out, st)
                exchange = _Exchange(
                    sock, out, stream, loop.create_future(), self._offset, self._read_view
                )
                loop.add_reader(sock.fileno(), exchange.on_readable)
                try:
                    reusable = await exchange.waiter
                finally:
                    loop.remove_reader(sock.fileno())
        except asyncio.CancelledError:
            _close(sock)
            raise
        except TimeoutError:
            _close(sock)
            _fail(out, ErrorKind.TIMEOUT, f"no complete answer within {timeout_s:g} s")
            return out
        except _Failure as failure:
            _close(sock)
            _fail(out, failure.kind, str(failure))
            return out
        except OSError as exc:  # the send failed: the connection was reset or closed
            _close(sock)
            _fail(out, ErrorKind.CONNECTION, f"{type(exc).__name__}: {exc}")
            return out
        except Exception as exc:  # never let one request crash the run
            _close(sock)
            _fail(out, ErrorKind.CLIENT, f"{type(exc).__name__}: {exc}")
            return out
        if reusable:
            self._idle.setdefault(address, []).append(sock)
        else:
            sock.close()
        return out

    def close(self) -> None:
        for sockets in self._idle.values():
            for sock in sockets:
                sock.close()
        self._idle.clear()

    def _head(self, spec: RequestSpec, headers: dict) -> tuple[tuple[str, int], bytes]:
        """The address and request head for a URL (cached: a run sends to one or two URLs)."""
        key = (spec.url, repr(sorted(headers.items())))
        cached = self._heads.get(key)
        if cached is None:
            parts = urlsplit(spec.url)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"the wire client speaks plain http only, not {spec.url!r}")
            port = parts.port or 80
            host = parts.hostname
            authority = f"[{host}]" if ":" in host else host
            if parts.port:
                authority += f":{parts.port}"
            path = parts.path or "/"
            if parts.query:
                path += f"?{parts.query}"
            lines = [
                f"POST {path} HTTP/1.1",
                f"Host: {authority}",
                f"User-Agent: {_USER_AGENT.decode()}",
                "Accept: */*",
            ]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            if not any(name.lower() == "content-type" for name in headers):
                lines.append("Content-Type: application/json")
            lines.append("Content-Length: ")
            cached = ((host, port), "\r\n".join(lines).encode("latin-1"))
            self._heads[key] = cached
        address, head = cached
        return address, head + b"%d\r\n\r\n" % len(spec.body)

    def _idle_socket(self, address: tuple[str, int]) -> socket.socket | None:
        """An idle connection the server has not closed meanwhile (a peek sees no EOF)."""
        sockets = self._idle.get(address)
        while sockets:
            sock = sockets.pop()
            try:
                if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    sock.close()  # closed by the server while idle
                    continue
                sock.close()  # unexpected bytes on an idle connection: not ours to read
                continue
            except (BlockingIOError, InterruptedError):
                return sock
            except OSError:
                sock.close()
        return None

    async def _connect(self, host: str, port: int) -> socket.socket:
        loop = asyncio.get_running_loop()
        try:
            if self.resolver is not None:
                infos = [
                    (info["family"], (info["host"], info["port"]))
                    for info in await self.resolver.resolve(host, port)
                ]
            else:
                infos = [
                    (family, address[:2])
                    for family, _, _, _, address in await loop.getaddrinfo(
                        host, port, type=socket.SOCK_STREAM
                    )
                ]
        except OSError as exc:
            raise _Failure(ErrorKind.CONNECTION, f"cannot resolve {host}: {exc}") from exc
        errors = []
        for family, address in infos:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if KERNEL_TIMESTAMPS:
                    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                await loop.sock_connect(sock, address)
                return sock
            except BaseException as exc:
                sock.close()
                if not isinstance(exc, OSError):
                    raise
                errors.append(exc)
        refused = bool(errors) and all(isinstance(e, ConnectionRefusedError) for e in errors)
        kind = ErrorKind.REFUSED if refused else ErrorKind.CONNECTION
        detail = "; ".join(str(e) for e in errors) or "no address"
        raise _Failure(kind, f"cannot connect to {host}:{port}: {detail}")


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()
