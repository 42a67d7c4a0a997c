"""The servers probe against real HTTP servers on loopback that answer like each engine."""

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from probes import servers
from probes.base import Status

OLLAMA = {
    "/api/version": {"version": "0.12.3"},
    "/api/tags": {"models": [{"name": "llama3.1:8b", "size": 4920753328}]},
    "/api/ps": {"models": [{"name": "llama3.1:8b", "size": 6654289920, "size_vram": 5000000000}]},
    # Ollama also serves the OpenAI API; /api/version must win.
    "/v1/models": {"object": "list", "data": [{"id": "llama3.1:8b", "owned_by": "library"}]},
}
VLLM = {
    "/version": {"version": "0.11.0"},
    "/v1/models": {
        "object": "list",
        "data": [{"id": "Qwen/Qwen2.5-0.5B-Instruct", "object": "model", "owned_by": "vllm"}],
    },
    "/metrics": (
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
        "# TYPE vllm:num_requests_running gauge\n"
        'vllm:num_requests_running{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 3.0\n'
        'vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 0.25\n'
    ),
}
# llama-cpp-python's server (llama_cpp/server/app.py get_models): owned_by "me", no /version.
LLAMA_CPP_PYTHON = {
    "/v1/models": {
        "object": "list",
        "data": [{"id": "qwen2.5-0.5b", "object": "model", "owned_by": "me", "permissions": []}],
    },
}
OTHER_OPENAI = {"/v1/models": {"object": "list", "data": [{"id": "gpt-x", "owned_by": "acme"}]}}
# An OpenAI-compatible server with /version whose metrics are not vLLM's is not vLLM.
VERSIONED_OPENAI = {**OTHER_OPENAI, "/version": {"version": "2.0"}, "/metrics": "up 1\n"}
ADVISOR = {"/healthz": {"database": "ok", "broker": "ok", "worker": "ok", "version": "0.1.0"}}


@contextlib.contextmanager
def fake_server(routes: dict):
    """A real HTTP server on 127.0.0.1 answering ``routes`` (JSON or text) and 404 elsewhere."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = routes.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(200)
            self.send_header(
                "Content-Type", "text/plain" if isinstance(body, str) else "application/json"
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def probe_one(routes: dict) -> tuple:
    with fake_server(routes) as url:
        outcome = servers.probe([url])
    return outcome, url


def test_it_recognises_ollama_with_its_models_and_loaded_model():
    outcome, url = probe_one(OLLAMA)
    (server,) = outcome.data["servers"]
    assert outcome.status == Status.OK
    assert server["kind"] == "ollama"
    assert server["base_url"] == url
    assert server["version"] == "0.12.3"
    assert server["models"] == ["llama3.1:8b"]
    assert server["loaded"] == [
        {"name": "llama3.1:8b", "size_bytes": 6654289920, "size_vram_bytes": 5000000000}
    ]


def test_it_recognises_vllm_with_its_version_and_metrics():
    outcome, _ = probe_one(VLLM)
    (server,) = outcome.data["servers"]
    assert server["kind"] == "vllm"
    assert server["version"] == "0.11.0"
    assert server["models"] == ["Qwen/Qwen2.5-0.5B-Instruct"]
    assert server["metrics"] == {"vllm:num_requests_running": 3.0, "vllm:kv_cache_usage_perc": 0.25}


def test_it_recognises_llama_cpp_python_by_owned_by_me():
    outcome, _ = probe_one(LLAMA_CPP_PYTHON)
    (server,) = outcome.data["servers"]
    assert server["kind"] == "llamacpp"
    assert server["models"] == ["qwen2.5-0.5b"]


@pytest.mark.parametrize("routes", [OTHER_OPENAI, VERSIONED_OPENAI])
def test_it_labels_other_openai_compatible_servers_openai(routes):
    outcome, _ = probe_one(routes)
    assert outcome.data["servers"][0]["kind"] == "openai"


def test_it_does_not_mistake_the_advisor_itself_for_an_llm_server():
    outcome, url = probe_one(ADVISOR)
    assert outcome.status == Status.ABSENT
    assert outcome.data["servers"] == []
    assert outcome.data["skipped"] == {url: "the LLM Serving Advisor itself"}


def test_it_probes_several_urls_at_once_and_ignores_closed_ports():
    closed = closed_port_url()
    with fake_server(OLLAMA) as ollama, fake_server(VLLM) as vllm:
        outcome = servers.probe([closed, ollama, vllm])
    assert [s["kind"] for s in outcome.data["servers"]] == ["ollama", "vllm"]
    assert outcome.data["checked"] == [closed, ollama, vllm]


def test_it_is_absent_when_nothing_answers():
    outcome = servers.probe([closed_port_url()])
    assert outcome.status == Status.ABSENT
    assert "no LLM server answered" in outcome.detail


def test_it_adds_configured_urls_to_the_defaults(monkeypatch):
    monkeypatch.setenv(servers.SERVER_URLS_ENV, "127.0.0.1:9000, http://127.0.0.1:8001/v1/")
    urls = servers.configured_urls(["http://localhost:7000/"])
    assert urls == [*servers.DEFAULT_SERVER_URLS, "http://127.0.0.1:9000", "http://localhost:7000"]


def test_it_includes_the_demo_engine_ports_by_default():
    assert {"http://127.0.0.1:11435", "http://127.0.0.1:8001"} <= set(servers.DEFAULT_SERVER_URLS)


@pytest.mark.parametrize("bad", ["ftp://127.0.0.1/", "http://", "file:///etc/passwd"])
def test_it_refuses_a_url_that_is_not_http(bad):
    with pytest.raises(ValueError, match="not an http"):
        servers.normalize_url(bad)
