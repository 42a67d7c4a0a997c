"""Browser: run load tests against scripted servers on loopback and watch them in the page.

The servers are the load-test engine's ``ScriptedServer``, in this process; the real
worker (a subprocess) sends the traffic. One behaves like vLLM (all requests at once), one like
Ollama with one slot (requests in turn), so the comparison chart has two different curves.
"""

from __future__ import annotations

import pytest

from advisor.loadtest.discovery import ServerKind
from advisor.loadtest.testserver import Discipline, ScriptedServer
from tests.e2e.conftest import snap
from tests.e2e.harness import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Small and quick: three levels of 6 requests of 12 tokens, 30 ms apart: about 5 s in all, long
# enough for the page (polling every second) to show the bars moving.
LEVELS = "1,2,4"
REQUESTS = "6"
TOKENS = "12"
ITL_S = 0.03
RUN_TIMEOUT_MS = 90_000


@pytest.fixture
def vllm_like():
    with ScriptedServer(
        kind=ServerKind.VLLM, discipline=Discipline.ALL_AT_ONCE, ttft_s=0.03, itl_s=ITL_S
    ) as server:
        yield server


@pytest.fixture
def ollama_like():
    with ScriptedServer(
        kind=ServerKind.OLLAMA, discipline=Discipline.ONE_AT_A_TIME, ttft_s=0.03, itl_s=ITL_S
    ) as server:
        yield server


def start_load_test(page, server, *, levels: str = LEVELS, requests: str = REQUESTS) -> str:
    """Fill the form for ``server``, start it, and return the run's URL."""
    page.goto("/loadtests/new/")
    page.get_by_label("Server base URL").fill(server.url)
    page.get_by_label("Model name on that server").fill(server.model)
    page.get_by_label("Concurrency levels").fill(levels)
    page.get_by_label("Requests per level").fill(requests)
    page.get_by_label("Warm-up requests").fill("1")
    page.get_by_label("Output tokens per request").fill(TOKENS)
    page.get_by_label("Prompt tokens per request").fill("32")
    page.get_by_role("button", name="Start the load test").click()
    page.wait_for_url("**/loadtests/*/")
    return page.url


def test_it_runs_a_load_test_with_live_progress_and_draws_the_charts(page, vllm_like):
    start_load_test(page, vllm_like)
    # The live part polls every second: the bars move while the worker runs the levels.
    page.wait_for_function(
        "() => { const bar = document.querySelector('#requests-progress');"
        " return bar && Number(bar.getAttribute('value')) > 0; }",
        timeout=RUN_TIMEOUT_MS,
    )
    assert page.locator("#run-status").inner_text() == "Running"
    snap(page, "loadtest-running")
    page.locator("#run-status", has_text="Succeeded").wait_for(timeout=RUN_TIMEOUT_MS)
    assert page.locator("#levels-progress").count() == 0  # polling stopped, results swapped in
    assert (
        page.get_by_role("button", name="Cancel the load test").count() == 0
    )  # removed out of band
    rows = page.locator("table.levels tbody tr")
    assert rows.count() == 3
    # Chart.js drew every chart (the canvas is marked once a chart is attached to it).
    page.locator("canvas[data-chart-ready='1']").first.wait_for()
    assert page.locator("canvas[data-chart-ready='1']").count() == 3
    snap(page, "loadtest-done")


def test_it_draws_vllm_and_ollama_on_one_chart(page, vllm_like, ollama_like):
    urls = [start_load_test(page, server) for server in (vllm_like, ollama_like)]
    for url in urls:
        page.goto(url)
        page.locator("#run-status", has_text="Succeeded").wait_for(timeout=RUN_TIMEOUT_MS)
    page.goto("/loadtests/")
    for url in urls:
        run_id = url.rstrip("/").rsplit("/", 1)[-1]
        page.locator(f"#compare-{run_id}").check()
    page.get_by_role("button", name="Compare selected").click()
    page.locator("canvas[data-chart-ready='1']").first.wait_for()
    labels = page.locator("canvas[data-chart]").first.get_attribute("aria-label")
    assert "vLLM measured" in labels and "Ollama measured" in labels
    snap(page, "loadtest-compare")


def test_it_shows_why_a_load_test_cannot_start(page):
    page.goto("/loadtests/new/")
    page.get_by_label("Server base URL").fill("http://169.254.169.254/")
    page.get_by_label("Model name on that server").fill("m")
    page.get_by_role("button", name="Start the load test").click()
    error = page.locator("#error-base_url")
    error.wait_for()
    assert "169.254" in error.inner_text() or "not allowed" in error.inner_text().lower()
    snap(page, "loadtest-refused")


def test_it_shows_a_failed_load_test_with_its_reason(page):
    port = free_port()  # nothing listens there: the worker's connection is refused
    start_load_test(page, type("Nowhere", (), {"url": f"http://127.0.0.1:{port}", "model": "m"}))
    page.locator("#run-status", has_text="Failed").wait_for(timeout=RUN_TIMEOUT_MS)
    reason = page.locator(".error-box").inner_text()
    assert "The load test failed" in reason and str(port) in reason
    snap(page, "loadtest-failed")


def test_it_cancels_a_running_load_test_from_the_page(page, vllm_like):
    start_load_test(page, vllm_like, levels="1,2", requests="40")  # about 20 s if left alone
    page.locator("#run-status", has_text="Running").wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_role("button", name="Cancel the load test").click()
    # The engine stops within 2 s of the request; the page picks that up on its next poll.
    page.locator("#run-status", has_text="Cancelled").wait_for(timeout=RUN_TIMEOUT_MS)
    snap(page, "loadtest-cancelled")
