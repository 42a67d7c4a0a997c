"""The recommendation page (a permalink per assessment), recommending again, the history."""

from __future__ import annotations

from unittest import mock

import pytest

from advisor.errors import AdvisorError
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, setup_of
from tests.web.factories import make_assessment, make_load_test

pytestmark = pytest.mark.django_db


def test_it_shows_the_verdict_with_confidence_reasons_and_evidence(client):
    assessment = make_assessment(peak_concurrent_users=40, use_case="production")
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert '<span class="backend">vLLM</span>' in html
    assert "Confidence:" in html
    assert 'id="decisive-heading"' in html and "Evidence:" in html
    assert 'href="/how-we-decide/#rule-' in html  # each reason links to its rule


def test_it_shows_switch_triggers_comparison_capacity_and_cost(client):
    assessment = make_assessment(peak_concurrent_users=40)
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "When the answer would change" in html
    assert "Side by side, with your numbers" in html and "Apple Silicon" in html
    assert "Predicted by the capacity model" in html and "KV cache" in html
    assert "$ per 1M output tokens" in html


def test_its_cost_table_quotes_the_reasons_figures_at_the_users_load(client):
    assessment = make_assessment(peak_concurrent_users=200, use_case="production")
    result = assessment.recommendations.get().result
    evidence = next(r for r in result["supporting"] + result["decisive"]
                    if r["rule_id"] == "cost.vllm_cheaper")["evidence"]  # fmt: skip
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    caption = "Cost per million output tokens at 200 concurrent users, $2.99/h for 1x NVIDIA H100"
    assert caption in html
    for name, usd in (("vLLM", evidence["vllm_cost"]), ("Ollama", evidence["ollama_cost"])):
        assert f'<tr><td>{name}</td><td class="n">200</td>' in html
        assert f'<td class="n">{usd}</td></tr>' in html


def test_a_mac_page_has_no_vllm_cost_row_only_the_reason(client):
    assessment = make_assessment(gpu="apple-m3-max", peak_concurrent_users=30)
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    table = html[html.index("Cost per million output tokens") :]
    table = table[: table.index("</table>")]
    assert "<td>Ollama</td>" in table and "<td>vLLM</td>" not in table
    assert "vLLM: no cost row, not available on macOS." in html


def test_it_links_the_bundle_download_and_the_load_test(client):
    assessment = make_assessment()
    rec = assessment.recommendations.get()
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert f'href="/recommendations/{rec.pk}/bundle.zip"' in html
    assert f'href="/loadtests/new/?assessment={assessment.pk}"' in html


def test_it_says_when_the_model_does_not_fit(client):
    assessment = make_assessment(model="llama-3.1-405b", gpu="rtx-4090", gpu_count=1)
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "does not fit" in html.lower()


def test_it_charts_attached_measurements_beside_the_prediction(client):
    assessment = make_assessment()
    assessment.load_tests.add(make_load_test(kind="ollama"))
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Ollama measured" in html and "vLLM predicted" in html
    assert "Recommend again with these measurements" in html


def test_it_labels_a_load_test_measured_on_other_hardware_after_recommending_again(client):
    """A CPU host's run attached to an H100 assessment: listed and charted as other hardware,
    and the recommendation's warnings name it."""
    assessment = make_assessment()
    cpu = MeasuredOn(setup_of(gpu=None, gpu_count=0, model="test-model"), MeasuredOnSource.PROBE)
    run = make_load_test(kind="ollama", measured_on=cpu.as_dict())
    run.result = {"target": {"kind": "ollama", "base_url": run.base_url}, "levels": []}
    run.save()
    assessment.load_tests.add(run)
    before = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "measured on CPU only, test-model" in before and "not weighed yet" in before
    client.post(f"/assessments/{assessment.pk}/recommend/")
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "measured on other hardware (CPU only, test-model, auto quantization" in html
    assert "Ollama measured on other hardware" in html  # the chart's series
    assert "Not used: this load test ran on other hardware" in html


def test_it_recommends_again(client):
    assessment = make_assessment()
    response = client.post(f"/assessments/{assessment.pk}/recommend/")
    assert response.status_code == 302
    assert assessment.recommendations.count() == 2


@mock.patch("advisor.views.assessments.recommendation_refresh", autospec=True)
def test_it_shows_why_recommending_again_failed(recommend, client):
    recommend.side_effect = AdvisorError("the hardware report is gone", field="hardware_report")
    assessment = make_assessment()
    response = client.post(f"/assessments/{assessment.pk}/recommend/", follow=True)
    assert "Could not recommend again: the hardware report is gone" in response.content.decode()


def test_it_answers_404_for_an_unknown_assessment(client):
    response = client.get("/assessments/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_it_lists_the_history_with_permalinks_and_pages(client):
    first = make_assessment(title="first")
    for n in range(25):
        make_assessment(title=f"more {n}")
    page_one = client.get("/history/").content.decode()
    page_two = client.get("/history/", {"page": 2}).content.decode()
    assert "Page 1 of 2" in page_one and "first" not in page_one
    assert f'href="/assessments/{first.pk}/"' in page_two


def test_it_copes_with_a_bad_page_number(client):
    assert client.get("/history/", {"page": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({"gpu": "apple-m3-max", "platform": "macos"}, "vLLM is not available on macOS"),
        ({"gpu_count": 0}, "vLLM is not available without a GPU"),
    ],
)
def test_it_sizes_and_steps_only_the_server_that_runs_here(client, answers, reason):
    """On a Mac or CPU only: no vLLM capacity box or predictions, no "start vLLM" next step; the
    page says why vLLM is not an option, and shows vLLM only as a move to a Linux GPU server."""
    assessment = make_assessment(peak_concurrent_users=3, **answers)
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Not an option here" in html and reason in html
    assert "KV cache: " not in html and "Your requests (" not in html
    assert '<td>vLLM</td><td class="n">1</td>' not in html  # no predicted vLLM level
    assert "Start vLLM" not in html
    for at in [i for i in range(len(html)) if html.startswith("vllm serve", i)]:
        assert "move to a Linux server with an NVIDIA or AMD GPU" in html[at - 200 : at]


def test_it_shows_vllm_concurrency_at_the_workloads_request_size(client):
    """The capacity box and the comparison agree: the plan's requests of 768 tokens on one H100."""
    assessment = make_assessment(peak_concurrent_users=200, avg_prompt_tokens=512,
                                 avg_output_tokens=256, context_length=8192)  # fmt: skip
    held = assessment.recommendations.first().estimate["plan"]["vllm"]["requests_held"]["held"]
    html = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert f"Your requests (768 tokens, prompt + output) at once: {held}" in html
    assert f"Continuous batching: {held} requests of 768 tokens" in html
    assert "Start vLLM next to Ollama: vllm serve" in html
