"""tests/waiting.py: every failed attempt is retried; only the deadline (or a dead process) fails."""

import http.server
import socket
import subprocess
import sys
import threading

import pytest
import requests

from tests.waiting import process_alive, wait_for_http, wait_until


def test_it_retries_every_kind_of_failure_until_the_probe_succeeds():
    failures = [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("refused"),
        TimeoutError("timed out"),
        ValueError("half an answer"),
        None,  # answered, but not ready yet
    ]

    def probe():
        if failures:
            failure = failures.pop(0)
            if failure is None:
                return None
            raise failure
        return "ready"

    assert wait_until(probe, "the probe", interval_s=0) == "ready"
    assert failures == []


def test_it_fails_at_the_deadline_naming_the_last_attempt():
    def probe():
        raise requests.ReadTimeout("read timed out after 5 s")

    with pytest.raises(AssertionError, match="the server not ready .*ReadTimeout: read timed out"):
        wait_until(probe, "the server", timeout_s=0.2, interval_s=0.05)


def test_it_stops_waiting_at_once_when_the_process_exited():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    with pytest.raises(AssertionError, match="exited with 3"):
        wait_until(lambda: None, "a server", timeout_s=600, alive=process_alive(process))


class _Flaky(http.server.BaseHTTPRequestHandler):
    """503 for the first two requests, then 200."""

    seen = 0

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).seen += 1
        status = 503 if self.seen <= 2 else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_it_waits_over_http_until_the_answer_is_ready():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/healthz"
        status, body = wait_for_http(url, ready=lambda status, _: status == 200)
    finally:
        server.shutdown()
        server.server_close()
    assert (status, body, _Flaky.seen) == (200, b"ok", 3)


def test_it_treats_a_refused_connection_as_not_yet():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(AssertionError, match="not ready after 0 s .*(refused|URLError)"):
        wait_for_http(f"http://127.0.0.1:{port}/", timeout_s=0.3)
