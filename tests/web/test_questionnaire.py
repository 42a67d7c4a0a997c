"""The questionnaire: defaults from the probe, submit, field errors, inline checks per field."""

from __future__ import annotations

import re

import pytest

from advisor.models import Assessment, HardwareSource
from tests.web.conftest import HTMX
from tests.web.factories import make_report

pytestmark = pytest.mark.django_db

VALID = {
    "use_case": "production",
    "peak_concurrent_users": "40",
    "model": "llama-3.1-8b",
    "quantization": "auto",
    "context_length": "8192",
    "avg_prompt_tokens": "512",
    "avg_output_tokens": "256",
    "gpu": "h100-sxm-80gb",
    "gpu_count": "1",
    "platform": "auto",
    "deployment_target": "server",
    "lora_adapters": "0",
}


def test_it_groups_the_questions_with_help_and_defaults(client):
    html = client.get("/assess/").content.decode()
    for legend in ("Workload", "Model", "Latency targets", "Hardware", "Features", "Team"):
        assert f"<legend>{legend}</legend>" in html
    assert "Concurrency is the dividing line" in html  # help text says why it matters
    assert 'name="context_length"' in html and 'value="8192"' in html


def test_it_prefills_the_hardware_answers_from_the_latest_local_probe(client):
    report = make_report(source=HardwareSource.LOCAL)
    html = client.get("/assess/").content.decode()
    assert 'value="h100-sxm-80gb"' in html  # the probed H100, by its catalog id
    assert f'<option value="{report.pk}" selected>' in html


def test_it_offers_the_catalogs_in_the_pickers(client):
    html = client.get("/assess/").content.decode()
    assert '<datalist id="models-options">' in html and 'value="llama-3.1-8b"' in html
    assert '<datalist id="gpus-options">' in html and 'value="h100-sxm-80gb"' in html
    assert 'list="models-options"' in html and 'hx-get="/catalog/models/"' in html


def test_it_creates_the_assessment_and_redirects_to_its_recommendation(client):
    response = client.post("/assess/", VALID | {"title": "Chatbot"})
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/assessments/{assessment.pk}/"
    assert assessment.title == "Chatbot"
    assert assessment.answers["peak_concurrent_users"] == 40
    assert assessment.recommendations.get().backend == "vllm"


def test_it_attaches_the_chosen_hardware_report(client):
    report = make_report()
    data = VALID | {"hardware_report": str(report.pk), "gpu": "", "gpu_count": ""}
    response = client.post("/assess/", data)
    assert response.status_code == 302
    assert Assessment.objects.get().hardware_report == report


def test_it_shows_every_bad_answer_on_its_field_and_stores_nothing(client):
    data = VALID | {"peak_concurrent_users": "0", "model": "no-such-model-xyz", "features": ["x"]}
    response = client.post("/assess/", data)
    form = response.context["form"]
    assert response.status_code == 400
    assert "at least 1" in form.errors["peak_concurrent_users"][0]
    assert "model" in form.errors and "features" in form.errors
    assert 'id="error-peak_concurrent_users"' in response.content.decode()
    assert Assessment.objects.count() == 0


def test_it_rejects_a_custom_model_that_is_not_json(client):
    response = client.post("/assess/", VALID | {"custom_model": "{not json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.context["form"].errors["custom_model"][0]


def test_it_asks_for_a_gpu_when_no_report_is_attached(client):
    response = client.post("/assess/", VALID | {"gpu": "", "gpu_count": ""})
    assert response.status_code == 400
    assert "say which GPU" in response.context["form"].errors["gpu"][0]


def test_it_checks_the_field_that_changed_inline(client):
    data = VALID | {"peak_concurrent_users": "0"}
    response = client.post(
        "/assess/validate/", data, HTTP_HX_TRIGGER_NAME="peak_concurrent_users", **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-peak_concurrent_users"' in html and "at least 1" in html
    assert "<html" not in html


def test_it_answers_an_empty_error_for_a_good_answer(client):
    response = client.post("/assess/validate/", VALID, HTTP_HX_TRIGGER_NAME="model", **HTMX)
    assert response.status_code == 200
    assert response.content.decode().startswith(
        '<p class="field-error" id="error-model" aria-live="polite"></p>'
    )


def test_it_answers_the_changed_fields_error_first_and_the_others_out_of_band(client):
    data = VALID | {"peak_concurrent_users": "0", "model": "no-such-model-xyz"}
    html = client.post(
        "/assess/validate/", data, HTTP_HX_TRIGGER_NAME="model", **HTMX
    ).content.decode()
    assert html.startswith('<p class="field-error" id="error-model" aria-live="polite">')
    assert re.search(
        r'id="error-peak_concurrent_users"[^>]*hx-swap-oob="true">[^<]*at least 1', html
    )


def test_it_shows_a_cross_field_conflict_on_the_other_field_as_soon_as_one_changes(client):
    data = VALID | {"platform": "macos"}
    html = client.post(
        "/assess/validate/", data, HTTP_HX_TRIGGER_NAME="platform", **HTMX
    ).content.decode()
    assert re.search(r'id="error-gpu"[^>]*hx-swap-oob="true">[^<]*cannot serve from macOS', html)
    # Back to Linux: the same swap clears it.
    html = client.post(
        "/assess/validate/", VALID | {"platform": "linux"}, HTTP_HX_TRIGGER_NAME="platform", **HTMX
    ).content.decode()
    assert re.search(r'id="error-gpu"[^>]*hx-swap-oob="true"></p>', html)


def test_it_keeps_quiet_about_fields_left_blank(client):
    data = {"peak_concurrent_users": "4"}
    html = client.post(
        "/assess/validate/", data, HTTP_HX_TRIGGER_NAME="peak_concurrent_users", **HTMX
    ).content.decode()
    assert 'id="error-gpu"' not in html


def test_it_checks_cross_field_rules_inline(client):
    data = VALID | {"context_length": "512", "avg_prompt_tokens": "512"}
    html = client.post(
        "/assess/validate/", data, HTTP_HX_TRIGGER_NAME="context_length", **HTMX
    ).content.decode()
    assert "more than the context length" in html


def test_it_takes_the_field_from_a_form_value_without_htmx(client):
    data = VALID | {"gpu_count": "999", "_field": "gpu_count"}
    html = client.post("/assess/validate/", data).content.decode()
    assert "at most 64" in html


def test_it_names_an_unknown_field_in_the_inline_check(client):
    response = client.post("/assess/validate/", VALID, HTTP_HX_TRIGGER_NAME="bogus", **HTMX)
    assert response.status_code == 400
    assert "unknown question &#x27;bogus&#x27;" in response.content.decode()


def test_it_only_accepts_posts_for_the_inline_check(client):
    assert client.get("/assess/validate/").status_code == 405


def test_it_starts_from_a_stored_assessments_answers(client):
    from tests.web.factories import make_assessment

    assessment = make_assessment(title="Bot", peak_concurrent_users=33, features=["metrics"])
    html = client.get("/assess/", {"from": str(assessment.pk)}).content.decode()
    assert 'value="33"' in html and 'value="Bot"' in html
    assert re.search(r'value="metrics"[^>]*checked', html)
    assert not re.search(r'value="kubernetes"[^>]*checked', html)


def test_it_ignores_a_malformed_from_id(client):
    assert client.get("/assess/", {"from": "nope"}).status_code == 200


# ---- vLLM settings and the readings of your servers (the advanced, folded section) -------------

VLLM_LOG = "INFO [gpu_worker.py:298] Available KV cache memory: 30.00 GiB\nINFO more lines\n"


def test_it_folds_the_vllm_settings_until_one_is_answered(client):
    html = client.get("/assess/").content.decode()
    folded = re.search(r'<details class="advanced" id="details-servers"( open)?>', html)
    assert folded is not None and folded.group(1) is None
    for name in ("tensor_parallel_size", "max_num_seqs", "kv_cache_dtype", "vllm_log", "ollama_ps"):
        assert f'name="{name}"' in html
    assert '<textarea name="vllm_log"' in html


def test_it_keeps_every_answer_and_the_pasted_log_when_a_vllm_setting_is_wrong(client):
    data = VALID | {
        "model": "llama-3.3-70b",
        "gpu_count": "4",
        "tensor_parallel_size": "3",
        "vllm_log": VLLM_LOG,
        "title": "70B on four",
    }
    response = client.post("/assess/", data)
    html = response.content.decode()
    assert response.status_code == 400 and Assessment.objects.count() == 0
    assert "1, 2, 4 or 8 work" in response.context["form"].errors["tensor_parallel_size"][0]
    assert '<details class="advanced" id="details-servers" open>' in html  # the error shows
    assert "Available KV cache memory: 30.00 GiB" in html  # the pasted log is still there
    assert 'value="70B on four"' in html and 'value="llama-3.3-70b"' in html


def test_it_checks_a_vllm_setting_inline(client):
    data = VALID | {"max_num_seqs": "512", "max_num_batched_tokens": "256"}
    response = client.post(
        "/assess/validate/", data, HTTP_HX_TRIGGER_NAME="max_num_batched_tokens", **HTMX
    )
    assert "below max_num_seqs 512" in response.content.decode()


def test_a_pasted_vllm_log_shows_as_measured_with_the_models_error_on_the_page(client):
    response = client.post("/assess/", VALID | {"vllm_log": VLLM_LOG})
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    plan = assessment.recommendations.get().estimate["plan"]["vllm"]
    html = client.get(response["Location"]).content.decode()
    measured = re.search(r'<li class="measured" id="vllm-kv-measured">(.*?)</li>', html, re.S)
    assert measured is not None
    assert "<strong>Measured</strong> on your server: 30.0 GiB" in measured.group(1)
    assert f"the model's error: {plan['kv_budget_error_pct']:+.1f}%" in measured.group(1)
    assert "pasted, 3 lines" not in html and "pasted, 2 lines" in html  # not the whole log
    assert "INFO more lines" not in html
