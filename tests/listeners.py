"""Loopback listeners for the outbound-policy tests: a "refused" host that counts every
connection, and an allowed server that answers every request with a redirect.

The refused host is 127.0.0.2 (a loopback address; the tests allow only 127.0.0.1/32), so a test
that fails reaches nothing outside this machine.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REFUSED_HOST = "127.0.0.2"
ALLOWED_ONLY = ["127.0.0.1/32"]
# What the refused host answers, were it ever reached: Ollama's and OpenAI's shapes at once, so a
# probe or a discovery that got there would store it and the test would see it.
_BAIT = json.dumps(
    {
        "version": "from-the-refused-host",
        "data": [{"id": "from-the-refused-host", "owned_by": "vllm"}],
        "models": [{"name": "from-the-refused-host"}],
    }
).encode()


class RefusedListener:
    """A TCP listener on 127.0.0.2 (``port`` 0: any) that counts connections in ``hits`` and
    answers each with a JSON 200."""

    def __init__(self, port: int = 0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((REFUSED_HOST, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            self.hits += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BAIT), _BAIT)
                    )
                except OSError:
                    pass

    def __enter__(self) -> RefusedListener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        self.sock.close()
        self._thread.join(5)


class RedirectingServer:
    """An HTTP server on 127.0.0.1 answering every GET and POST with ``302 Location: location``."""

    def __init__(self, location: str):
        class Handler(BaseHTTPRequestHandler):
            def _redirect(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _redirect  # noqa: N815 - http.server's names

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RedirectingServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class Rebinding:
    """A fake DNS (``probes.outbound.resolve``'s signature) whose name answers 127.0.0.1 the first
    time and 127.0.0.2 after: DNS rebinding. ``lookups`` counts the questions."""

    def __init__(self, name: str = "rebinding.test"):
        self.name = name
        self.lookups = 0

    def __call__(self, host: str) -> list[str]:
        if host != self.name:
            return []
        self.lookups += 1
        return ["127.0.0.1"] if self.lookups == 1 else [REFUSED_HOST]
