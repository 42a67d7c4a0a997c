"""The advisor names the real engines for what they are: llama.cpp (Ollama's engine) and vLLM.

Both discoveries are checked: the probes' (``probes.servers``, what a hardware report lists) and
the load test's (``advisor.loadtest.discover``, what a load test's ``backend_kind`` says).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from advisor.loadtest import ServerKind, discover
from probes import servers
from tests.engines.conftest import LLAMACPP, MODEL, VLLM
from tests.waiting import wait_until


def probed_both() -> dict | None:
    """The probes' servers by URL once both engines are listed; None while one is skipped."""
    found = {s["base_url"]: s for s in servers.probe([LLAMACPP.url, VLLM.url]).data["servers"]}
    return found if {LLAMACPP.url, VLLM.url} <= found.keys() else None


@pytest.mark.engines
def test_it_labels_both_engines_in_the_probes_report(engines):
    # The probes give each server 0.8 s (a local server answers in milliseconds): on a busy
    # machine, or while llama.cpp finishes another test's answer, one is "busy" for a moment.
    found = wait_until(probed_both, "both engines in the probes' report")
    assert found[LLAMACPP.url]["kind"] == "llamacpp"
    assert found[VLLM.url]["kind"] == "vllm"
    assert found[VLLM.url]["version"] == "0.32.0"  # engines/requirements-vllm.txt
    assert "vllm:num_requests_running" in found[VLLM.url]["metrics"]
    for engine in (LLAMACPP, VLLM):
        assert found[engine.url]["models"] == [MODEL]


@pytest.mark.engines
def test_it_labels_both_engines_for_load_tests(engines):
    # discover() gives a server 5 s: llama.cpp still finishing another answer may need longer.
    llama = wait_until(lambda: discover(LLAMACPP.url), "llama.cpp's discovery")
    vllm = wait_until(lambda: discover(VLLM.url), "vLLM's discovery")
    assert (llama.kind, llama.api, llama.models) == (ServerKind.LLAMACPP, "openai", [MODEL])
    assert (vllm.kind, vllm.api, vllm.models) == (ServerKind.VLLM, "openai", [MODEL])
    assert vllm.version == "0.32.0"


def test_it_reports_a_server_too_busy_to_answer_instead_of_dropping_it():
    """A busy llama-cpp-python holds /v1/models until its generation ends (seen on 0.3.36)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    accepted = []

    def hold() -> None:  # accept, read the request, never answer
        listener.settimeout(5)
        try:
            while len(accepted) < 1:
                conn, _ = listener.accept()
                accepted.append(conn)
                conn.recv(4096)
        except OSError:
            pass

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        outcome = servers.probe([url])
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert outcome.data["servers"] == []
    assert "did not answer" in outcome.data["skipped"][url]
    # Gave up rather than waiting for an answer that never comes (bounded generously: the
    # machine may be busy; without a timeout this would wait for ever).
    assert time.monotonic() - started < 30
