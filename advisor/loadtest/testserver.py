"""A scripted LLM server on loopback for tests, demos and the benchmark (aiohttp.web).

It speaks vLLM's OpenAI SSE (``/v1/chat/completions``, ``/v1/completions``), Ollama's NDJSON
(``/api/chat``) and the discovery endpoints of vLLM, Ollama and llama.cpp. Timing is scripted
(``ttft_s``, ``itl_s``, ``tokens``) and every request is logged with the server's own clock
(``time.perf_counter``, the same monotonic clock the client uses) so tests can compare.

Disciplines: ``ALL_AT_ONCE`` serves every request concurrently (continuous batching, like vLLM);
``ONE_AT_A_TIME`` serves them in turn (Ollama with ``OLLAMA_NUM_PARALLEL=1``).

Faults are queued with ``push_faults``: each incoming generation request takes the next one.

    with ScriptedServer(kind=ServerKind.VLLM, ttft_s=0.05, itl_s=0.01, tokens=20) as server:
        run_load_test(LoadTestConfig(base_url=server.url, model=server.model, ...))
"""

from __future__ import annotations

import asyncio
import collections
import enum
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from probes.kinds import ServerKind

HANG_S = 30.0  # a hung request outlives any test's request timeout


class Discipline(enum.StrEnum):
    ALL_AT_ONCE = "all_at_once"
    ONE_AT_A_TIME = "one_at_a_time"


class Fault(enum.StrEnum):
    HTTP_500 = "http_500"
    HTTP_429 = "http_429"
    SERVER_BUSY = "server_busy"  # Ollama's 503 "server busy" (queue full)
    CUT_SHORT = "cut_short"  # drop the connection half-way through the stream
    MALFORMED = "malformed"  # a chunk that is not JSON
    STREAM_ERROR = "stream_error"  # an {"error": ...} event inside the 200 stream
    HANG = "hang"  # answer headers, then never finish (for timeouts)
    REDIRECT = "redirect"  # 302 to another host
    NO_USAGE = "no_usage"  # no usage chunk (llama-cpp-python)


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throw-away certificate for 127.0.0.1 and localhost, made with the ``openssl`` command in
    ``directory``: (server context, client context that trusts only it). RuntimeError without
    ``openssl``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout", str(key)]
        + ["-out", str(cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


# What ``_generate`` asks a stream writer for: the content chunk with this index, a malformed
# line (None) or an in-stream error ("error").
Chunk = int | str | None


@dataclass
class RequestLog:
    """The server's view of one request (perf_counter seconds)."""

    path: str
    received: float
    chunks: list[float] = field(default_factory=list)  # when each content chunk was written
    finished: float | None = None
    fault: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    authorization: str = ""  # the Authorization header sent, if any


class ScriptedServer:
    """Start with ``start()`` (or as a context manager); ``url`` is ``http://127.0.0.1:<port>``
    (``https://`` with a ``tls`` server context)."""

    def __init__(
        self,
        *,
        kind: ServerKind = ServerKind.VLLM,
        discipline: Discipline = Discipline.ALL_AT_ONCE,
        ttft_s: float = 0.0,
        itl_s: float = 0.0,
        tokens: int | None = None,
        model: str = "test-model",
        host: str = "127.0.0.1",
        port: int = 0,
        redirect_all: bool = False,
        tls: ssl.SSLContext | None = None,
    ):
        self.kind = kind
        self.discipline = discipline
        self.ttft_s = ttft_s
        self.itl_s = itl_s
        self.tokens = tokens  # None: honour max_tokens / num_predict from the request
        self.model = model
        self.host = host
        self.redirect_all = redirect_all  # every path answers 302 to the metadata address
        self.tls = tls  # a server context (certificate loaded): serve https
        self.port = port  # 0: any free port
        self.log: list[RequestLog] = []
        self._faults: collections.deque[Fault | None] = collections.deque()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._lock: asyncio.Lock | None = None
        self.waiting = 0
        self.running = 0

    # --- life cycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def push_faults(self, *faults: Fault | None) -> None:
        """The next requests take these faults in order (None: a normal answer)."""
        self._faults.extend(faults)

    def start(self) -> ScriptedServer:
        self._thread = threading.Thread(target=self._serve, name="scripted-llm-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the scripted server did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            future.result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start_site())
        self._ready.set()
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _start_site(self) -> None:
        self._lock = asyncio.Lock()
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.tls)
        await site.start()
        self.port = self._runner.addresses[0][1]

    # --- the application --------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._redirect] if self.redirect_all else [])
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/completions", self._openai)
        app.router.add_get("/v1/models", self._models)
        if self.kind is ServerKind.OLLAMA:
            app.router.add_post("/api/chat", self._ollama)
            app.router.add_get("/api/version", self._json({"version": "0.12.0"}))
            app.router.add_get("/api/tags", self._json({"models": [{"name": self.model}]}))
            app.router.add_get("/api/ps", self._ps)
        if self.kind is ServerKind.VLLM:
            app.router.add_get("/version", self._json({"version": "0.11.0"}))
            app.router.add_get("/health", self._json({}))
            app.router.add_get("/metrics", self._metrics)
        return app

    @web.middleware
    async def _redirect(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    def _json(self, payload: dict[str, Any]) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(payload)

        return handler

    async def _models(self, request: web.Request) -> web.Response:
        owned_by = {ServerKind.VLLM: "vllm", ServerKind.LLAMACPP: "llamacpp"}.get(
            self.kind, "library"
        )
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": self.model, "object": "model", "owned_by": owned_by}],
            }
        )

    async def _ps(self, request: web.Request) -> web.Response:
        size = 5_000_000_000
        return web.json_response(
            {"models": [{"name": self.model, "size": size, "size_vram": size}]}
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        text = (
            "# HELP vllm:num_requests_waiting Number of requests waiting.\n"
            f'vllm:num_requests_waiting{{model_name="{self.model}"}} {float(self.waiting)}\n'
            f'vllm:num_requests_running{{model_name="{self.model}"}} {float(self.running)}\n'
            f'vllm:kv_cache_usage_perc{{model_name="{self.model}"}} {min(self.running * 0.01, 1.0)}\n'
            f'vllm:num_preemptions_total{{model_name="{self.model}"}} 0.0\n'
        )
        return web.Response(text=text, content_type="text/plain")

    async def _begin(self, request: web.Request) -> tuple[RequestLog, dict[str, Any], Fault | None]:
        entry = RequestLog(
            path=request.path,
            received=time.perf_counter(),
            authorization=request.headers.get("Authorization", ""),
        )
        self.log.append(entry)
        body: dict[str, Any] = await request.json()
        entry.body = body
        fault = self._faults.popleft() if self._faults else None
        entry.fault = fault
        return entry, body, fault

    def _token_count(self, body: dict[str, Any]) -> int:
        if self.tokens is not None:
            return self.tokens
        return int(body.get("max_tokens") or body.get("options", {}).get("num_predict") or 16)

    async def _early_fault(self, fault: Fault | None) -> web.StreamResponse | None:
        if fault is Fault.HTTP_500:
            return web.json_response({"error": "internal"}, status=500)
        if fault is Fault.HTTP_429:
            return web.json_response({"error": "too many requests"}, status=429)
        if fault is Fault.SERVER_BUSY:
            message = "server busy, please try again.  maximum pending requests exceeded"
            return web.json_response({"error": message}, status=503)
        if fault is Fault.REDIRECT:
            raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")
        return None

    async def _generate(
        self,
        request: web.Request,
        entry: RequestLog,
        fault: Fault | None,
        n: int,
        write_chunk: Callable[[Chunk], Awaitable[None]],
        write_end: Callable[[], Awaitable[None]],
    ) -> None:
        """Shared timing loop: wait TTFT, then one chunk every ITL, under the discipline."""
        self.waiting += 1
        lock = self._lock if self.discipline is Discipline.ONE_AT_A_TIME else None
        if lock:
            await lock.acquire()
        self.waiting -= 1
        self.running += 1
        try:
            await asyncio.sleep(self.ttft_s)
            for i in range(n):
                if i:
                    await asyncio.sleep(self.itl_s)
                if fault is Fault.CUT_SHORT and i == n // 2:
                    if request.transport is not None:  # None once the client has gone
                        request.transport.close()
                    return
                if fault is Fault.MALFORMED and i == n // 2:
                    await write_chunk(None)
                    continue
                if fault is Fault.STREAM_ERROR and i == n // 2:
                    await write_chunk("error")
                    return
                if fault is Fault.HANG:
                    await asyncio.sleep(HANG_S)
                await write_chunk(i)
                entry.chunks.append(time.perf_counter())
            await write_end()
            entry.finished = time.perf_counter()
        except ConnectionError:
            return  # the client went away (a cancel, a timeout): nothing to answer
        finally:
            self.running -= 1
            if lock:
                lock.release()

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        entry, body, fault = await self._begin(request)
        early = await self._early_fault(fault)
        if early is not None:
            return early
        n = self._token_count(body)
        chat = request.path.endswith("chat/completions")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        created = int(time.time())
        head = f'data: {{"id":"cmpl-1","object":"chat.completion.chunk","created":{created},"model":"{self.model}","choices":[{{"index":0,'

        async def write_chunk(i: Chunk) -> None:
            if i is None:
                await response.write(b"data: {not json\n\n")
            elif i == "error":
                await response.write(b'data: {"error":{"message":"engine died","code":500}}\n\n')
            else:
                part = '"delta":{"content":"tok "}' if chat else '"text":"tok "'
                await response.write(f'{head}{part},"finish_reason":null}}]}}\n\n'.encode())

        async def write_end() -> None:
            if fault is not Fault.NO_USAGE:
                usage = {"prompt_tokens": 10, "completion_tokens": n, "total_tokens": 10 + n}
                chunk = {"id": "cmpl-1", "choices": [], "usage": usage}
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")

        await self._generate(request, entry, fault, n, write_chunk, write_end)
        return response

    async def _ollama(self, request: web.Request) -> web.StreamResponse:
        entry, body, fault = await self._begin(request)
        early = await self._early_fault(fault)
        if early is not None:
            return early
        n = self._token_count(body)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        head = f'{{"model":"{self.model}","created_at":"2026-01-01T00:00:00Z","message":{{"role":"assistant","content":"tok "}},"done":false}}\n'.encode()

        async def write_chunk(i: Chunk) -> None:
            if i is None:
                await response.write(b"{not json\n")
            elif i == "error":
                await response.write(b'{"error":"model runner has unexpectedly stopped"}\n')
            else:
                await response.write(head)

        async def write_end() -> None:
            elapsed = int((time.perf_counter() - entry.received) * 1e9)
            summary = {
                "model": self.model,
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "length",
                "total_duration": elapsed,
                "load_duration": 1000,
                "prompt_eval_count": 10,
                "prompt_eval_duration": int(self.ttft_s * 1e9),
                "eval_count": n,
                "eval_duration": int(self.itl_s * max(n - 1, 0) * 1e9),
            }
            await response.write(json.dumps(summary).encode() + b"\n")

        await self._generate(request, entry, fault, n, write_chunk, write_end)
        return response
