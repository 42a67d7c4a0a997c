"""``manage.py tryservers``: two scripted servers on loopback that a first load test can measure."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from advisor.loadtest import LoadTestConfig, run_load_test

READY_DEADLINE_S = 60.0  # generous: the machine may be busy


def _start(out: io.StringIO, minutes: float) -> threading.Thread:
    thread = threading.Thread(
        target=call_command,
        args=("tryservers",),
        kwargs={"vllm_port": 0, "ollama_port": 0, "minutes": minutes, "stdout": out},
        daemon=True,
    )
    thread.start()
    return thread


def _urls(out: io.StringIO) -> dict[str, str]:
    deadline = time.monotonic() + READY_DEADLINE_S
    while time.monotonic() < deadline:
        text = out.getvalue()
        if "Measure both" in text:
            return dict(
                re.findall(r"^(vLLM|Ollama)-like .*?: (http://127\.0\.0\.1:\d+)", text, re.M)
            )
        time.sleep(0.05)
    pytest.fail(f"tryservers printed no URLs within {READY_DEADLINE_S} s: {out.getvalue()!r}")


def test_it_serves_a_batching_and_a_queueing_server_that_a_load_test_tells_apart():
    out = io.StringIO()
    thread = _start(out, minutes=0.25)
    urls = _urls(out)
    assert set(urls) == {"vLLM", "Ollama"}
    ttft = {}
    for name, url in urls.items():
        config = LoadTestConfig(
            base_url=url,
            model="demo-model",
            concurrency=(4,),
            requests_per_level=4,
            warmup=0,
            max_tokens=4,
        )
        level = run_load_test(config).levels[0]
        assert level.succeeded == 4
        ttft[name] = level.ttft_ms.p95
    # Four requests at once: the Ollama-like server makes the last one wait for three others.
    assert ttft["Ollama"] > 2 * ttft["vLLM"]
    thread.join(READY_DEADLINE_S + 30)
    assert not thread.is_alive()


def test_it_refuses_a_lifetime_that_is_not_positive():
    with pytest.raises(CommandError, match="--minutes"):
        call_command("tryservers", minutes=0, stdout=io.StringIO())
