"""How fast is the load generator? Against a fast local server in another process, on one core.

Targets (issue 5): at least 1,000 concurrent streams and 50,000 streamed tokens/s on one core,
under 1 ms of added latency per request; report CPU seconds per 1,000 tokens.

The server (``--serve``, started here in a subprocess pinned to another core) is a bare asyncio
HTTP/1.1 server: one clock tick every ``--itl`` seconds writes one SSE token chunk to every open
stream, so it costs little and its own clock (``perf_counter``, CLOCK_MONOTONIC: shared by all
processes on Linux) records when each request arrived and when its first and last chunk left.
Added latency = the client's mean (TTFT, E2EL) minus the server's mean for the same requests.

    .venv/bin/python bench/loadtest.py [--concurrency 1000] [--requests 3000] [--tokens 64] [--pin]

The engine runs on one asyncio thread, so it uses at most one core by construction; ``cpu_share``
is the share of one core it used. ``--pin`` also pins it (and the server) to a core each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

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
        self.reset()

    def reset(self) -> None:
        self.done: list[tuple[float, float, float]] = []  # (received, first chunk, last chunk)
        self.peak = 0

    def stats(self) -> dict:
        return {"requests": self.done, "peak_streams": self.peak}

    def tick(self) -> None:
        still = []
        clock = time.perf_counter
        for stream in self.active:
            transport, received, left, first, total = stream
            if transport.is_closing():
                continue
            transport.write(TOKEN)
            now = clock()  # after the write: the chunk is in the kernel, on its way
            if first is None:
                first = now
            left -= 1
            if left:
                still.append([transport, received, left, first, total])
                continue
            usage = (
                b'data: {"id":"b","choices":[],"usage":{"prompt_tokens":16,"completion_tokens":%d}}\n\n'
                % total
            )
            transport.write(_chunked(usage) + _chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            self.done.append((received, first, now))
        self.active = still
        self.peak = max(self.peak, len(still))


class _Connection(asyncio.Protocol):
    def __init__(self, server: _Server):
        self.server = server
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
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
            self.transport.write(HEAD)
            self.server.active.append([self.transport, time.perf_counter(), tokens, None, tokens])

    def _json(self, path: str) -> None:
        if path == "/reset":
            self.server.reset()
        payload = json.dumps(self.server.stats()).encode()
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(payload), payload)
        )


async def _serve(itl_s: float) -> None:
    server = _Server(itl_s)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: _Connection(server), "127.0.0.1", 0, backlog=4096)
    print(listener.sockets[0].getsockname()[1], flush=True)
    next_tick = loop.time()
    while True:
        next_tick += itl_s
        await asyncio.sleep(max(0.0, next_tick - loop.time()))
        server.tick()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def measure(url: str, *, concurrency: int, requests: int, tokens: int) -> dict:
    from advisor.loadtest import LoadTestConfig, run_load_test
    from advisor.loadtest.discovery import ServerKind, Target

    _get(f"{url}/reset")
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
    result = run_load_test(config, target=Target(url, ServerKind.OPENAI, "openai"))
    cpu = time.process_time() - cpu
    server = _get(f"{url}/stats")
    level = result.levels[0]
    begin = min(o.start for o in level.outcomes)
    seen = [r for r in server["requests"] if r[0] >= begin]  # the measured level's requests
    ok = [o for o in level.outcomes if o.success]
    # One clock (CLOCK_MONOTONIC) on both sides, the same requests on both sides: differences of
    # means are exact whatever the pairing. send = client t0 -> server has the request (includes
    # the server's own loop lag); receive = server wrote the chunk -> client timestamped it.
    send_ms = (statistics.fmean(r[0] for r in seen) - statistics.fmean(o.start for o in ok)) * 1000
    first_ms = (
        statistics.fmean(o.start + o.ttft for o in ok) - statistics.fmean(r[1] for r in seen)
    ) * 1000
    last_ms = (
        statistics.fmean(o.start + o.latency for o in ok) - statistics.fmean(r[2] for r in seen)
    ) * 1000
    total_tokens = sum(o.output_tokens for o in level.outcomes)  # warm-up excluded
    return {
        "concurrency": concurrency,
        "requests": level.requests,
        "failed": level.failed,
        "peak_streams": server["peak_streams"],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--itl", type=float, default=0.015, help="server tick (s between tokens)")
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
        asyncio.run(_serve(args.itl))
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--itl", str(args.itl)]
        + (["--pin"] if args.pin else []),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        if args.pin:  # the client gets one core, the server another
            os.sched_setaffinity(0, {cores[0]})
        server_process = psutil.Process(server.pid)
        rows = []
        for concurrency, requests in ((1, args.single_requests), (args.concurrency, args.requests)):
            before = sum(server_process.cpu_times()[:2])
            row = measure(url, concurrency=concurrency, requests=requests, tokens=args.tokens)
            # The server's CPU in the same span: near 100% of a core means it, not the client,
            # limited the tokens/s.
            row["server_cpu_s"] = sum(server_process.cpu_times()[:2]) - before
            rows.append(row)
        light, heavy = rows
        # The client's CPU per request (set-up, send, a 1-token stream, release): what a burst of
        # N simultaneous starts queues behind (N x this), apart from any per-token cost.
        short = measure(url, concurrency=50, requests=2000, tokens=1)
        per_request_us = short["cpu_s"] / (short["requests"] + 50) * 1e6  # + the warm-up
    finally:
        server.terminate()
        server.wait(10)
    report = {
        "cores": len(cores),
        "load_average": os.getloadavg()[0],
        "single_stream": light,
        "many_streams": heavy,
        "cpu_us_per_request": per_request_us,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    load = os.getloadavg()[0]
    where = "pinned to 1 core" if args.pin else "one asyncio thread (one core at a time)"
    print(
        f"client: {where} of {len(cores)}; server: own process; tick {args.itl}s; load {load:.1f}"
    )
    for name, row in (("1 stream", light), (f"{args.concurrency} streams", heavy)):
        print(
            f"{name:>12}: {row['requests']} req ({row['failed']} failed), peak {row['peak_streams']} "
            f"streams, {row['tokens_per_s']:,.0f} tok/s, client CPU {row['cpu_share']:.0%} of a "
            f"core, {row['cpu_s_per_1k_tokens'] * 1000:.1f} ms CPU per 1k tokens; added latency "
            f"{row['added_e2e_ms']:.2f} ms = send {row['send_ms']:.2f} + receive "
            f"{row['receive_last_ms']:.2f} (first token received {row['receive_first_ms']:.2f}); "
            f"server CPU {row['server_cpu_s']:.1f} s over {row['duration_s']:.1f} s"
        )
    print(f"client CPU per request (1-token answers, 50 users): {per_request_us:.0f} us")
    print(
        f"targets: >= {TARGETS['streams']} streams, >= {TARGETS['tokens_per_s']:,} tok/s, "
        f"< {TARGETS['added_ms']} ms added per request"
    )


if __name__ == "__main__":
    main()
