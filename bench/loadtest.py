"""How fast is the load generator? Against a fast local server in another process, on one core.

Targets, so that the client is never what limits a measurement: at least 1,000 concurrent streams
and 50,000 streamed tokens/s on one core, under 1 ms of added latency per request; report CPU
seconds per 1,000 tokens.

The server (``--serve``, started here in a subprocess) is a bare asyncio HTTP/1.1 server on
non-blocking sockets: one clock tick every ``--itl`` seconds writes one SSE token chunk to every
open stream, so it costs little. It records, on the clock the client uses (``perf_counter``,
CLOCK_MONOTONIC: shared by all processes on Linux), when each request arrived (the kernel's receive
stamp, so its own loop lag is not charged to the client) and when it wrote each stream's first and
last chunk (read just before the write). Added latency per request is what the client adds to
the latency it reports, as differences of means over the same requests:
send (client t0 -> the request arrived at the server) + receive (the server wrote the last chunk
-> the client's timestamp of it). "TTFT error" is the receive side for the first chunk: how much
later than it arrived the client timed the first token.

    .venv/bin/python bench/loadtest.py [--concurrency 1000] [--requests 3000] [--tokens 64] [--pin]
        [--scheme http|https|both]

https: the server decrypts and encrypts through ``ssl.MemoryBIO`` on the same bare sockets (so it
still reads the kernel's receive stamps), with a throw-away certificate the client is told to
trust; the client is the same wire client, with TLS.

The engine runs on one asyncio thread, so it uses at most one core by construction; ``cpu_share``
is the share of one core it used. ``--pin`` also pins it (and the server) to a core each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from advisor.loadtest.testserver import self_signed_tls  # noqa: E402  (the path is set above)
from advisor.loadtest.wire import (  # noqa: E402
    CMSG_SPACE,
    SO_TIMESTAMPNS,
    kernel_arrival,
    realtime_offset,
)
from probes import outbound  # noqa: E402

TARGETS = {"streams": 1000, "tokens_per_s": 50_000, "added_ms": 1.0}

_CHUNK = b'data: {"id":"b","object":"chat.completion.chunk","model":"bench","choices":[{"index":0,"delta":{"content":"tok"},"finish_reason":null}]}\n\n'


def _chunked(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


TOKEN = _chunked(_CHUNK)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


class _Server:
    def __init__(self, itl_s: float):
        self.itl_s = itl_s
        self.active: list = []
        self.offset = realtime_offset()  # CLOCK_REALTIME - perf_counter, for the kernel stamps
        self.reset()

    def reset(self) -> None:
        self.done: list[tuple[float, float, float]] = []  # (arrived, first chunk, last chunk)
        self.peak = 0
        self.accepted = 0  # connections opened since the reset: 0 when the client reuses them

    def stats(self) -> dict:
        return {"requests": self.done, "peak_streams": self.peak, "accepted": self.accepted}

    def tick(self) -> None:
        still = []
        clock = time.perf_counter
        for stream in self.active:
            connection, received, left, first, total = stream
            if connection.closed:
                continue
            now = clock()  # before the write: the chunk cannot arrive before it
            connection.write(TOKEN)
            if first is None:
                first = now
            left -= 1
            if left:
                still.append([connection, received, left, first, total])
                continue
            usage = (
                b'data: {"id":"b","choices":[],"usage":{"prompt_tokens":16,"completion_tokens":%d}}\n\n'
                % total
            )
            now = clock()
            connection.write(_chunked(usage) + _chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            self.done.append((received, first, now))
        self.active = still
        self.peak = max(self.peak, len(still))


class _Connection:
    """One client connection on a bare non-blocking socket (recvmsg, for the arrival stamps);
    with ``tls`` (a server context) the bytes go through an ``ssl.SSLObject`` in memory."""

    def __init__(self, server: _Server, sock: socket.socket, tls: ssl.SSLContext | None = None):
        self.server = server
        self.sock = sock
        self.buffer = b""
        self.pending = b""  # what the kernel did not take yet (a client far behind)
        self.closed = False
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = tls.wrap_bio(self.incoming, self.outgoing, server_side=True) if tls else None
        self.handshaken = tls is None
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        asyncio.get_running_loop().add_reader(sock.fileno(), self.readable)

    def readable(self) -> None:
        try:
            data, ancillary, _, _ = self.sock.recvmsg(65536, CMSG_SPACE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            return self.close()
        # The kernel's receive stamp: the server's own loop lag is not the client's send time.
        arrived = time.perf_counter()
        stamped = kernel_arrival(ancillary, self.server.offset)
        if stamped is not None:
            arrived = min(arrived, stamped)
        if self.tls is not None:
            data = self._decrypt(data)
            if data is None:
                return self.close()
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path = head.split(" ", 2)[:2]
            if method == "GET":
                self._json(path)
                continue
            tokens = json.loads(body).get("max_tokens", 16)
            self.write(HEAD)
            self.server.active.append([self, arrived, tokens, None, tokens])

    def _decrypt(self, data: bytes) -> bytes | None:
        """The plaintext in ``data`` (handshake first); None when the session is over."""
        self.incoming.write(data)
        try:
            if not self.handshaken:
                try:
                    self.tls.do_handshake()
                    self.handshaken = True
                finally:
                    self._send_raw(self.outgoing.read())
            parts = []
            while True:
                parts.append(self.tls.read(65536))
        except ssl.SSLWantReadError:
            return b"".join(parts) if self.handshaken else b""
        except (ssl.SSLZeroReturnError, ssl.SSLError):
            return None

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if self.tls is not None:
            self.tls.write(data)
            data = self.outgoing.read()
        self._send_raw(data)

    def _send_raw(self, data: bytes) -> None:
        if self.closed:
            return
        data = self.pending + data if self.pending else data
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return self.close()
        self.pending = data[sent:]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()

    def _json(self, path: str) -> None:
        if path == "/reset":
            self.server.reset()
        payload = json.dumps(self.server.stats()).encode()
        self.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(payload), payload)
        )


async def _serve(itl_s: float, tls: ssl.SSLContext | None) -> None:
    server = _Server(itl_s)
    loop = asyncio.get_running_loop()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    listener.setblocking(False)

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            server.accepted += 1
            _Connection(server, sock, tls)

    loop.add_reader(listener.fileno(), accept)
    print(listener.getsockname()[1], flush=True)
    next_tick = loop.time()
    while True:
        next_tick += itl_s
        await asyncio.sleep(max(0.0, next_tick - loop.time()))
        server.tick()


def _get(url: str, path: str, tls: ssl.SSLContext | None) -> dict:
    _, body = outbound.get(outbound.pin(url), path, timeout_s=10, max_bytes=2**26, tls=tls)
    return json.loads(body)


def measure(
    url: str, *, concurrency: int, requests: int, tokens: int, tls: ssl.SSLContext | None = None
) -> dict:
    from advisor.loadtest import LoadTestConfig, run_load_test
    from advisor.loadtest.discovery import DiscoveredServer, ServerKind

    _get(url, "/reset", tls)
    config = LoadTestConfig(
        base_url=url,
        model="bench",
        concurrency=(concurrency,),
        requests_per_level=requests,
        # Warm-up at full width: the measured level reuses open connections, as a long test does.
        warmup=concurrency,
        max_tokens=tokens,
        prompt_tokens=16,
        early_stop=False,
        request_timeout_s=120,
    )
    cpu = time.process_time()
    result = run_load_test(
        config, target=DiscoveredServer(url, ServerKind.OPENAI, "openai"), tls=tls
    )
    cpu = time.process_time() - cpu
    server = _get(url, "/stats", tls)
    level = result.levels[0]
    begin = min(o.start for o in level.outcomes)
    seen = [r for r in server["requests"] if r[0] >= begin]  # the measured level's requests
    ok = [o for o in level.outcomes if o.success]
    # One clock (CLOCK_MONOTONIC) on both sides, the same requests on both sides: differences of
    # means are exact whatever the pairing. send = client t0 -> the request arrived at the server
    # (kernel stamp); receive = the server was about to write the chunk -> the client's stamp.
    send_ms = (statistics.fmean(r[0] for r in seen) - statistics.fmean(o.start for o in ok)) * 1000
    first_ms = (
        statistics.fmean(o.start + o.ttft for o in ok) - statistics.fmean(r[1] for r in seen)
    ) * 1000
    last_ms = (
        statistics.fmean(o.start + o.latency for o in ok) - statistics.fmean(r[2] for r in seen)
    ) * 1000
    total_tokens = sum(o.output_tokens for o in level.outcomes)  # warm-up excluded
    return {
        "scheme": url.split(":", 1)[0],
        "concurrency": concurrency,
        "requests": level.requests,
        "failed": level.failed,
        "peak_streams": server["peak_streams"],
        # warm-up included: about `concurrency` when the measured level reuses every connection
        "connections": server["accepted"],
        "tokens": level.total_output_tokens,
        "duration_s": level.duration_s,
        "tokens_per_s": level.output_token_throughput,
        "cpu_s": cpu,
        "cpu_share": cpu / result.duration_s,
        # CPU over the whole run (warm-up included) per measured token: a slight overestimate.
        "cpu_s_per_1k_tokens": cpu / max(total_tokens, 1) * 1000,
        "matched": len(seen) == len(ok),
        "send_ms": send_ms,
        "receive_first_ms": first_ms,
        "receive_last_ms": last_ms,
        "added_e2e_ms": send_ms + last_ms,
        "client_itl_p99_ms": level.itl_ms.p99,
    }


def run_scheme(scheme: str, args: argparse.Namespace, cores: list[int]) -> dict:
    """Start the server (https: with a throw-away certificate) and measure the three rows."""
    tls_dir = tempfile.mkdtemp(prefix="bench-tls-")
    client_tls = self_signed_tls(Path(tls_dir))[1] if scheme == "https" else None
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--itl", str(args.itl)]
        + (["--tls-dir", tls_dir] if client_tls else [])
        + (["--pin"] if args.pin else []),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"{scheme}://127.0.0.1:{int(server.stdout.readline())}"
        if args.pin:  # the client gets one core, the server another
            os.sched_setaffinity(0, {cores[0]})
        server_process = psutil.Process(server.pid)
        rows = []
        for concurrency, requests in ((1, args.single_requests), (args.concurrency, args.requests)):
            before = sum(server_process.cpu_times()[:2])
            row = measure(
                url, concurrency=concurrency, requests=requests, tokens=args.tokens, tls=client_tls
            )
            # The server's CPU in the same span: near 100% of a core means it, not the client,
            # limited the tokens/s.
            row["server_cpu_s"] = sum(server_process.cpu_times()[:2]) - before
            rows.append(row)
        light, heavy = rows
        # The client's CPU per request (set-up, send, a 1-token stream, release): what a burst of
        # N simultaneous starts queues behind (N x this), apart from any per-token cost.
        short = measure(url, concurrency=50, requests=2000, tokens=1, tls=client_tls)
        per_request_us = short["cpu_s"] / (short["requests"] + 50) * 1e6  # + the warm-up
    finally:
        server.terminate()
        server.wait(10)
    return {
        "scheme": scheme,
        "load_average": os.getloadavg()[0],
        "single_stream": light,
        "many_streams": heavy,
        "cpu_us_per_request": per_request_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tls-dir", help=argparse.SUPPRESS)  # the server's cert.pem and key.pem
    parser.add_argument("--scheme", choices=["http", "https", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument(
        "--itl",
        type=float,
        default=0.01,
        help="server tick (s between tokens): 1,000 streams x 100/s",
    )
    parser.add_argument("--single-requests", type=int, default=20)
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin client and server to separate cores (skews figures when others load that core)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if args.serve:
        if args.pin:
            os.sched_setaffinity(0, {cores[-1]})
        tls = None
        if args.tls_dir:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(Path(args.tls_dir) / "cert.pem", Path(args.tls_dir) / "key.pem")
        asyncio.run(_serve(args.itl, tls))
        return
    schemes = ["http", "https"] if args.scheme == "both" else [args.scheme]
    reports = [run_scheme(scheme, args, cores) for scheme in schemes]
    if args.json:
        print(json.dumps({"cores": len(cores), "runs": reports}, indent=2))
        return
    where = "pinned to 1 core" if args.pin else "one asyncio thread (one core at a time)"
    print(f"client: {where} of {len(cores)}; server: own process; tick {args.itl}s")
    for report in reports:
        light, heavy = report["single_stream"], report["many_streams"]
        print(f"{report['scheme']} (load {report['load_average']:.1f}):")
        for name, row in (("1 stream", light), (f"{args.concurrency} streams", heavy)):
            print(
                f"{name:>12}: {row['requests']} req ({row['failed']} failed), peak "
                f"{row['peak_streams']} streams on {row['connections']} connections, "
                f"{row['tokens_per_s']:,.0f} tok/s, client CPU "
                f"{row['cpu_share']:.0%} of a core, {row['cpu_s_per_1k_tokens'] * 1000:.1f} ms CPU "
                f"per 1k tokens; added latency {row['added_e2e_ms']:.2f} ms = send "
                f"{row['send_ms']:.2f} + receive {row['receive_last_ms']:.2f}; TTFT error "
                f"{row['receive_first_ms']:.2f} ms; server CPU {row['server_cpu_s']:.1f} s over "
                f"{row['duration_s']:.1f} s"
            )
        print(
            f"client CPU per request (1-token answers, 50 users): "
            f"{report['cpu_us_per_request']:.0f} us"
        )
    print(
        f"targets: >= {TARGETS['streams']} streams, >= {TARGETS['tokens_per_s']:,} tok/s, "
        f"< {TARGETS['added_ms']} ms added per request"
    )


if __name__ == "__main__":
    main()
