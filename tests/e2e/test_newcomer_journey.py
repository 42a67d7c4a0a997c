"""Browser: the whole journey a newcomer takes, for four workloads, at 1,400 and 390 px.

Questionnaire -> verdict -> charts -> a load test against a scripted server on loopback (started
from the verdict's "Measure it" link, so it inherits the workload) -> recommend again with the
measurement -> bundle preview -> download. Screenshots go to test-artifacts/screenshots/journey-*.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import pytest

from advisor.loadtest.discovery import ServerKind
from advisor.loadtest.testserver import Discipline, ScriptedServer
from tests.e2e.conftest import snap

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUN_TIMEOUT_MS = 120_000  # a busy 2-core machine runs the worker, the app and the browser
TTFT_TARGET_MS = 2000
E2E_TARGET_MS = 20000


@dataclass(frozen=True)
class Workload:
    name: str
    verdict: str  # the server the verdict must name
    answers: dict[str, str] = field(default_factory=dict)


WORKLOADS = (
    Workload(
        "solo-mac",
        "Ollama",
        {
            "use_case": "prototype",
            "peak_concurrent_users": "1",
            "platform": "macos",
            "gpu": "apple-m3-max",
            "gpu_count": "1",
        },
    ),
    Workload(
        "h100-200-users",
        "vLLM",
        {
            "use_case": "production",
            "peak_concurrent_users": "200",
            "gpu": "h100-sxm-80gb",
            "gpu_count": "1",
        },
    ),
    Workload(
        "llama70b-4xa100",
        "vLLM",
        {
            "use_case": "production",
            "peak_concurrent_users": "50",
            "model": "llama-3.3-70b",
            "gpu": "a100-sxm-80gb",
            "gpu_count": "4",
        },
    ),
    Workload(
        "cpu-laptop",
        "Ollama",
        {"use_case": "prototype", "peak_concurrent_users": "1", "gpu": "", "gpu_count": "0"},
    ),
)

CHART_FACTS = """() => [...document.querySelectorAll('canvas[data-chart-ready]')].map(canvas => {
  const chart = Chart.getChart(canvas);
  return {
    type: chart.config.type,
    y: chart.scales.y ? chart.scales.y.type : null,
    datasets: chart.data.datasets.map(d => ({
      label: d.label,
      points: (d.data || []).map(p => (typeof p === 'object' && p) ? p.x : p),
    })),
  };
})"""


def _answer(page, name: str, value: str) -> None:
    field = page.locator(f"#id_{name}")
    if field.evaluate("el => el.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)


@pytest.fixture
def scripted_servers():
    with (
        ScriptedServer(
            kind=ServerKind.VLLM, discipline=Discipline.ALL_AT_ONCE, ttft_s=0.02, itl_s=0.01
        ) as vllm,
        ScriptedServer(
            kind=ServerKind.OLLAMA, discipline=Discipline.ONE_AT_A_TIME, ttft_s=0.02, itl_s=0.01
        ) as ollama,
    ):
        yield {"vLLM": vllm, "Ollama": ollama}


@pytest.mark.parametrize("workload", WORKLOADS, ids=[w.name for w in WORKLOADS])
def test_a_newcomer_goes_from_questions_to_a_measured_verdict_and_the_files(
    page, scripted_servers, workload
):
    # 1. The questionnaire, with latency targets so the charts have lines to draw.
    page.goto("/assess/")
    page.locator("#id_hardware_report").select_option("")
    answers = {"slo_ttft_ms": str(TTFT_TARGET_MS), "slo_e2e_p95_ms": str(E2E_TARGET_MS)}
    for name, value in {**answers, **workload.answers}.items():
        _answer(page, name, value)
    snap(page, f"journey-{workload.name}-questionnaire")
    page.locator("#questionnaire button[type=submit]").click()

    # 2. The verdict.
    page.wait_for_url("**/assessments/*/", timeout=RUN_TIMEOUT_MS)
    assessment_url = page.url
    assert workload.verdict in page.locator("#verdict-heading").inner_text()
    snap(page, f"journey-{workload.name}-verdict")

    # 3. A load test from the verdict's own link: it inherits the workload; keep it small here.
    page.get_by_role("link", name="Measure it: run a load test").click()
    page.wait_for_url("**/loadtests/new/**")
    server = scripted_servers[workload.verdict]
    page.get_by_label("Server base URL").fill(server.url)
    page.get_by_label("Model name on that server").fill(server.model)
    page.get_by_label("Concurrency levels").fill("1,2")
    page.get_by_label("Requests per level").fill("2")
    page.get_by_label("Warm-up requests").fill("0")
    page.get_by_label("Output tokens per request").fill("4")
    page.get_by_label("Prompt tokens per request").fill("16")
    page.get_by_role("button", name="Start the load test").click()
    page.wait_for_url("**/loadtests/*/")
    page.locator("#run-status", has_text="Succeeded").wait_for(timeout=RUN_TIMEOUT_MS)

    # 4. Recommend again with the measurement; the charts show it beside the prediction.
    page.goto(assessment_url)
    page.get_by_role("button", name="Recommend again with these measurements").click()
    page.wait_for_url(assessment_url)
    page.locator("canvas[data-chart-ready='1']").first.wait_for(timeout=RUN_TIMEOUT_MS)
    charts = page.evaluate(CHART_FACTS)
    latency = [c for c in charts if c["type"] == "line" and c["y"] == "logarithmic"]
    assert len(latency) == 2, charts  # TTFT and end-to-end, both on log axes
    for chart in latency:
        labels = [d["label"] for d in chart["datasets"]]
        assert any("target" in label.lower() for label in labels), labels
        measured = [d for d in chart["datasets"] if "measured" in d["label"]]
        assert measured and sorted(measured[0]["points"]) == [1, 2], chart
    assert any(c["type"] == "bar" for c in charts), "the users-at-target chart is drawn"
    snap(page, f"journey-{workload.name}-measured")

    # 5. The bundle: preview, then download.
    page.get_by_role("link", name="Preview the files").click()
    page.locator("#preview .highlight").wait_for()
    snap(page, f"journey-{workload.name}-bundle")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all files").click()
    with zipfile.ZipFile(io.BytesIO(open(download_info.value.path(), "rb").read())) as archive:  # noqa: SIM115
        assert archive.testzip() is None
        assert any(name.endswith("README.md") for name in archive.namelist())


def test_it_flags_macos_with_an_h100_on_the_gpu_field_before_submit(page):
    page.goto("/assess/")
    page.locator("#id_hardware_report").select_option("")
    _answer(page, "gpu", "h100-sxm-80gb")
    page.locator("#id_gpu").press("Tab")
    page.locator("#id_platform").select_option("macos")
    page.locator("#error-gpu", has_text="cannot serve from macOS").wait_for()
    page.locator("#id_platform").select_option("linux")
    page.wait_for_function("() => document.querySelector('#error-gpu').textContent.trim() === ''")
