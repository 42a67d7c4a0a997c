"""Streamed requests over HTTP/1.1 sockets, plain or TLS, timed by the kernel.

Why a socket client of our own: a client timestamps a chunk when its code gets to it. vLLM's decode
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

https: the socket still delivers the raw bytes with their kernel stamps; ``ssl.SSLObject`` over
two ``ssl.MemoryBIO`` buffers decrypts them in place (Python's ssl module, "Memory BIO Support"),
so a chunk is stamped when the last byte of the TLS record that carries it arrived, by the same
clock as plain http. Certificates and host names are verified (``probes.outbound.tls_context``).

Scope: what a load test sends, a POST with a JSON body, answered by a body in chunked,
Content-Length or read-to-close framing; keep-alive reuse of idle connections; redirects are not
followed (a 3xx is an ``http_3xx`` error, as everywhere in the load test). It connects only to the
addresses the policy checked (a ``probes.outbound.Destination``), never resolving a name itself.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
import struct
import sys
import time
from urllib.parse import urlsplit

from advisor.loadtest.client import (
    ERROR_BODY_BYTES,
    ErrorKind,
    NdjsonStream,
    RequestOutcome,
    RequestSpec,
    SseStream,
    fail,
    http_error,
)
from probes import outbound

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
    best_width, best_offset = float("inf"), 0.0
    for _ in range(5):
        before = time.perf_counter()
        real = time.time()
        after = time.perf_counter()
        if after - before < best_width:
            best_width, best_offset = after - before, real - (before + after) / 2
    return best_offset


def kernel_arrival(ancillary: list[tuple[int, int, bytes]], offset: float) -> float | None:
    """The ``perf_counter`` time the kernel stamped on a read (``recvmsg``'s ancillary data from a
    socket with ``SO_TIMESTAMPNS`` on), or None without one. ``offset``: ``realtime_offset()``."""
    for _, kind, stamp in ancillary:
        if kind == SO_TIMESTAMPNS and len(stamp) == 16:
            seconds: int
            nanoseconds: int
            seconds, nanoseconds = struct.unpack("qq", stamp)
            return seconds - offset + nanoseconds * 1e-9
    return None


class _Failure(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class _Connection:
    """A socket to a checked address and, for https, its TLS state (decrypted in memory)."""

    __slots__ = ("sock", "tls", "incoming", "outgoing")

    def __init__(self, sock: socket.socket, tls: ssl.SSLObject | None = None):
        self.sock = sock
        self.tls = tls
        self.incoming = ssl.MemoryBIO()  # bytes read from the socket, not yet decrypted
        self.outgoing = ssl.MemoryBIO()  # bytes the TLS layer wants sent

    def plaintext(self, data: bytes) -> tuple[bytes, bool]:
        """The application bytes in ``data`` (raw from the socket), and True once the peer closed
        the TLS session. Plain http: ``data`` itself. Raises ``ssl.SSLError``."""
        if self.tls is None:
            return data, False
        self.incoming.write(data)
        parts: list[bytes] = []
        try:
            while True:
                piece = self.tls.read(_READ_SIZE)
                if not piece:
                    return b"".join(parts), True
                parts.append(piece)
        except ssl.SSLWantReadError:  # the rest of a record is still on its way
            return b"".join(parts), False
        except ssl.SSLZeroReturnError:  # close_notify
            return b"".join(parts), True

    def wire_bytes(self, data: bytes) -> bytes:
        """What to send on the socket for the application bytes ``data``."""
        if self.tls is None:
            return data
        self.tls.write(data)
        return self.outgoing.read()

    def close(self) -> None:
        self.sock.close()


class _Exchange:
    """One response, decoded by the event loop's read callback as bytes arrive."""

    __slots__ = (
        "conn",
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
        "read_view",
    )

    def __init__(
        self,
        conn: _Connection,
        out: RequestOutcome,
        stream: SseStream | NdjsonStream,
        waiter: asyncio.Future[bool],
        offset: float,
        read_view: memoryview,
    ):
        self.read_view = read_view
        self.conn = conn
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

    def on_readable(self) -> None:
        if self.state == _DONE:
            return  # finished; the reader is removed when the request's task resumes
        try:
            size, ancillary, _, _ = self.conn.sock.recvmsg_into((self.read_view,), CMSG_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            return self._lost(f"{type(exc).__name__}: {exc}")
        now = time.perf_counter()
        if not size:
            return self._eof()
        if ancillary:
            arrived = kernel_arrival(ancillary, self.offset)
            if arrived is not None and self.out.start <= arrived < now:  # inside the read window
                now = arrived
        try:
            data, closed = self.conn.plaintext(self.read_view[:size].tobytes())
        except ssl.SSLError as exc:
            return self._lost(f"TLS: {exc}")
        try:
            if data:
                self._feed(data, now)
        except _Failure as failure:
            fail(self.out, failure.kind, str(failure))
            self._complete(reusable=False)
        except ValueError as exc:  # bad framing: a status line, a chunk size, a length
            fail(self.out, ErrorKind.CUT_SHORT, f"malformed HTTP framing: {exc}")
            self._complete(reusable=False)
        if closed and self.state != _DONE:
            self._eof()

    def _feed(self, data: bytes, now: float) -> None:
        if self.state == _HEAD:
            body = self._head(data)
            if body is None:
                return
            data = body
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
            if finished or len(self.error_body) >= ERROR_BODY_BYTES:
                http_error(self.out, self.status, self.error_body[:ERROR_BODY_BYTES])
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
        return buffer[end + 4 :]

    def _dechunk(self, data: bytes) -> tuple[bytes, bool]:
        """The payload in ``data`` with the chunked framing removed; True once the last chunk."""
        buffer = self.buffer + data if self.buffer else data
        self.buffer = b""
        parts: list[bytes] = []
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
                self.left, self.in_chunk = 0, False
                return b"".join(parts), True
            in_chunk = True
        self.left, self.in_chunk = left, in_chunk
        if pos < size:
            self.buffer = buffer[pos:]
        return (parts[0] if len(parts) == 1 else b"".join(parts)), False

    def _eof(self) -> None:
        if self.state == _HEAD:
            fail(
                self.out, ErrorKind.CONNECTION, "the server closed the connection before answering"
            )
        elif self.status != 200:
            http_error(self.out, self.status, self.error_body[:ERROR_BODY_BYTES])
        elif self.framing == _UNTIL_CLOSE:
            self.stream.end()  # the close is the end of this body
        else:
            fail(self.out, ErrorKind.CUT_SHORT, "the server closed the connection mid-stream")
        self._complete(reusable=False)

    def _lost(self, message: str) -> None:
        kind = ErrorKind.CONNECTION if self.state == _HEAD else ErrorKind.CUT_SHORT
        fail(self.out, kind, message)
        self._complete(reusable=False)

    def _complete(self, *, reusable: bool) -> None:
        self.state = _DONE
        if not self.waiter.done():
            self.waiter.set_result(reusable)


class WireClient:
    """Streamed POSTs to one checked destination (http or https), with a pool of idle keep-alive
    connections.

    ``destination``: the policy's check of the target (``policy.check_target``); requests go to
    its addresses only, and a request for another host, port or scheme fails. ``tls``: the https
    context (default: ``probes.outbound.tls_context()``, certificates verified).
    """

    def __init__(self, destination: outbound.Destination, *, tls: ssl.SSLContext | None = None):
        self.destination = destination
        self.tls = (tls or outbound.tls_context()) if destination.tls else None
        self._idle: list[_Connection] = []
        self._heads: dict[tuple[str, str], bytes] = {}
        # One read buffer for this client's exchanges: its loop reads one socket at a time.
        self._read_view = memoryview(bytearray(_READ_SIZE))
        self._offset = realtime_offset()
        self._offset_read = time.perf_counter()
        self._sends = 0  # requests started in this turn of the loop
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

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

    async def send(
        self, spec: RequestSpec, *, timeout_s: float, headers: dict[str, str]
    ) -> RequestOutcome:
        """Send ``spec`` and time it (see ``advisor.loadtest.client``). Never raises (but lets
        cancellation through)."""
        loop = asyncio.get_running_loop()
        await self._turn(loop)
        out = RequestOutcome()
        st = time.perf_counter()
        out.start = st
        conn = None
        try:
            head = self._head(spec, headers)
            async with asyncio.timeout(timeout_s):
                conn = self._idle_connection() or await self._connect(loop)
                if st - self._offset_read > 1.0:  # re-read each second: a clock step moves it
                    self._offset = realtime_offset()
                    self._offset_read = st
                request = conn.wire_bytes(head + spec.body)
                try:
                    sent = conn.sock.send(request)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                if sent < len(request):
                    await loop.sock_sendall(conn.sock, request[sent:])
                stream = (NdjsonStream if spec.ndjson else SseStream)(out, st)
                exchange = _Exchange(
                    conn, out, stream, loop.create_future(), self._offset, self._read_view
                )
                loop.add_reader(conn.sock.fileno(), exchange.on_readable)
                try:
                    reusable = await exchange.waiter
                finally:
                    loop.remove_reader(conn.sock.fileno())
        except asyncio.CancelledError:
            _close(conn)
            raise
        except TimeoutError:
            _close(conn)
            fail(out, ErrorKind.TIMEOUT, f"no complete answer within {timeout_s:g} s")
            return out
        except _Failure as failure:
            _close(conn)
            fail(out, failure.kind, str(failure))
            return out
        except OSError as exc:  # the send failed: the connection was reset or closed
            _close(conn)
            fail(out, ErrorKind.CONNECTION, f"{type(exc).__name__}: {exc}")
            return out
        except Exception as exc:  # never let one request crash the run
            _close(conn)
            fail(out, ErrorKind.CLIENT, f"{type(exc).__name__}: {exc}")
            return out
        if reusable:
            self._idle.append(conn)
        else:
            conn.close()
        return out

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    def _head(self, spec: RequestSpec, headers: dict[str, str]) -> bytes:
        """The request head for a URL (cached: a run sends to one or two URLs). Raises
        ``_Failure`` for a URL outside the destination or a header that would inject others."""
        key = (spec.url, repr(sorted(headers.items())))
        cached = self._heads.get(key)
        if cached is None:
            parts = urlsplit(spec.url)
            destination = self.destination
            if (
                parts.scheme != destination.scheme
                or outbound.normalize_host(parts.hostname or "") != destination.host
                or (parts.port or outbound.SCHEMES[parts.scheme]) != destination.port
            ):
                raise _Failure(ErrorKind.CLIENT, f"{spec.url} is not the checked target")
            try:
                for name, value in headers.items():
                    outbound.check_header(name, value)
            except outbound.Refused as exc:
                raise _Failure(ErrorKind.CLIENT, str(exc)) from None
            path = parts.path or "/"
            if parts.query:
                path += f"?{parts.query}"
            lines = [
                f"POST {path} HTTP/1.1",
                f"Host: {destination.authority}",
                f"User-Agent: {_USER_AGENT.decode()}",
                "Accept: */*",
            ]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            if not any(name.lower() == "content-type" for name in headers):
                lines.append("Content-Type: application/json")
            lines.append("Content-Length: ")
            cached = "\r\n".join(lines).encode("latin-1")
            self._heads[key] = cached
        return cached + b"%d\r\n\r\n" % len(spec.body)

    def _idle_connection(self) -> _Connection | None:
        """An idle connection the server has not closed meanwhile (a peek finds nothing to read)."""
        while self._idle:
            conn = self._idle.pop()
            try:
                conn.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return conn  # nothing to read: open and idle
            except OSError:
                pass
            conn.close()  # closed by the server (EOF), or bytes we did not ask for
        return None

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        """A connection to the first checked address that accepts (TLS handshake done for https)."""
        destination = self.destination
        errors = []
        for address in destination.addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if KERNEL_TIMESTAMPS:
                    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                await loop.sock_connect(sock, (address, destination.port))
            except BaseException as exc:
                sock.close()
                if not isinstance(exc, OSError):
                    raise
                errors.append(exc)
                continue
            conn = _Connection(sock)
            if self.tls is not None:
                try:
                    await self._handshake(loop, conn)
                except BaseException:
                    sock.close()
                    raise
            return conn
        refused = bool(errors) and all(isinstance(e, ConnectionRefusedError) for e in errors)
        kind = ErrorKind.REFUSED if refused else ErrorKind.CONNECTION
        detail = "; ".join(str(e) for e in errors) or "no address"
        raise _Failure(kind, f"cannot connect to {destination.authority}: {detail}")

    async def _handshake(self, loop: asyncio.AbstractEventLoop, conn: _Connection) -> None:
        """The TLS handshake over ``conn``'s memory buffers; ``_Failure(TLS)`` when it fails."""
        assert self.tls is not None
        conn.tls = self.tls.wrap_bio(
            conn.incoming, conn.outgoing, server_hostname=self.destination.host
        )
        while True:
            try:
                conn.tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            except ssl.SSLError as exc:
                message = f"TLS handshake with {self.destination.host}: {exc}"
                raise _Failure(ErrorKind.TLS, message) from None
            if conn.outgoing.pending:
                await loop.sock_sendall(conn.sock, conn.outgoing.read())
            if done:
                return
            data = await loop.sock_recv(conn.sock, _READ_SIZE)
            if not data:
                raise _Failure(ErrorKind.TLS, "the server closed the connection in the handshake")
            conn.incoming.write(data)


def _close(conn: _Connection | None) -> None:
    if conn is not None:
        conn.close()
