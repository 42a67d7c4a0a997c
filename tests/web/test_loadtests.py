"""Load-test pages: the start form, refusals on their fields, live polling, cancel, compare."""

from __future__ import annotations

import pytest

from advisor.models import HardwareSource, LoadTest, LoadTestStatus
from tests.web.conftest import HTMX
from tests.web.factories import make_assessment, make_load_test, make_report

pytestmark = pytest.mark.django_db

FORM = {
    "base_url": "http://127.0.0.1:8000",
    "model": "test-model",
    "api": "auto",
    "concurrency": "1,2,4",
    "requests_per_level": "8",
    "warmup": "1",
    "max_tokens": "32",
    "prompt_tokens": "64",
}


def test_it_lists_servers_the_probes_found_as_targets(client):
    make_report(
        source=HardwareSource.REMOTE,
        hostname="gpu1",
        servers=[{"kind": "vllm", "base_url": "http://127.0.0.1:8000", "models": ["meta-llama/x"]}],
    )
    html = client.get("/loadtests/new/").content.decode()
    assert "http://127.0.0.1:8000" in html and "vLLM" in html and "meta-llama/x" in html
    assert 'value="host.gpu1"' in html  # run it from a worker on that host
    assert "Use this server" in html


def test_it_prefills_the_form_from_the_query(client):
    html = client.get("/loadtests/new/", {"base_url": "http://127.0.0.1:11434"}).content.decode()
    assert 'value="http://127.0.0.1:11434"' in html


def test_it_starts_a_load_test_and_attaches_it_to_an_assessment(
    client, django_capture_on_commit_callbacks
):
    assessment = make_assessment()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/loadtests/new/", FORM | {"assessment": str(assessment.pk)})
    load_test = LoadTest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/loadtests/{load_test.pk}/"
    assert load_test.config["concurrency"] == [1, 2, 4] and load_test.status == "queued"
    assert list(assessment.load_tests.all()) == [load_test]
    assert len(callbacks) == 1  # enqueued once the row is committed


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_url", "not a url", "base URL"),
        ("concurrency", "1,x", "concurrency"),
        ("requests_per_level", "0", "at least 1"),
        ("slo_ttft_ms", "-5", "positive"),
        ("requests_per_level", "5001", "between 1 and 5000"),
        ("slo_ttft_ms", "0.01", "between 0.1 and"),
        ("prompt_tokens", "1000000000000", "between 1 and 131072"),
        ("max_tokens", "99999999999", "between 1 and 32768"),
        ("concurrency", "1,100000", "between 1 and 1024"),
        ("warmup", "1000", "between 0 and 100"),
    ],
)
def test_it_shows_a_bad_setting_on_its_field(client, field, value, message):
    response = client.post("/loadtests/new/", FORM | {field: value})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert LoadTest.objects.count() == 0


def test_it_refuses_a_target_off_the_allow_list_without_connecting(client):
    response = client.post("/loadtests/new/", FORM | {"base_url": "http://169.254.169.254"})
    assert response.status_code == 400
    assert response.context["form"].errors["base_url"]
    assert LoadTest.objects.count() == 0


def test_it_refuses_a_malformed_host_queue(client):
    response = client.post("/loadtests/new/", FORM | {"queue": "host.bad queue"})
    assert response.status_code == 400
    assert "queue" in response.context["form"].errors


def test_it_polls_the_live_part_while_the_test_runs(client):
    run = make_load_test(
        status=LoadTestStatus.RUNNING,
        levels=(1,),
        progress={
            "levels_done": 1,
            "levels_total": 3,
            "requests_done": 5,
            "requests_total": 8,
            "concurrency": 2,
        },
    )
    response = client.get(f"/loadtests/{run.pk}/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'hx-trigger="every 1s"' in html
    assert 'id="levels-progress" max="3" value="1"' in html
    assert 'max="8" value="5"' in html and "at concurrency 2" in html


def test_it_stops_polling_with_286_once_the_test_finished(client):
    run = make_load_test(status=LoadTestStatus.SUCCEEDED, levels=(1, 4))
    response = client.get(f"/loadtests/{run.pk}/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 286
    assert "hx-trigger" not in html and "<table" in html and "chart-ttft_ms-data" in html


def test_it_shows_a_failed_test_with_its_reason(client):
    run = make_load_test(
        status=LoadTestStatus.FAILED, levels=(1,), error="connection refused at 127.0.0.1:8000"
    )
    html = client.get(f"/loadtests/{run.pk}/").content.decode()
    assert "The load test failed" in html and "connection refused at 127.0.0.1:8000" in html
    assert "levels finished before the failure are kept" in html


def test_it_draws_the_assessments_prediction_beside_the_measurement(client):
    assessment = make_assessment()
    run = make_load_test(levels=(1, 4))
    assessment.load_tests.add(run)
    html = client.get(f"/loadtests/{run.pk}/").content.decode()
    assert "vLLM measured" in html and "vLLM predicted" in html and "Ollama predicted" in html


def test_it_cancels_a_running_test(client, visitor):
    run = make_load_test(status=LoadTestStatus.RUNNING, levels=(), visitor=visitor)
    response = client.post(f"/loadtests/{run.pk}/cancel/")
    run.refresh_from_db()
    assert response.status_code == 302 and run.cancel_requested


def test_it_cancels_a_queued_test_at_once(client, visitor):
    run = make_load_test(status=LoadTestStatus.QUEUED, levels=(), visitor=visitor)
    client.post(f"/loadtests/{run.pk}/cancel/")
    run.refresh_from_db()
    assert run.status == LoadTestStatus.CANCELLED


def test_it_says_a_finished_test_cannot_be_cancelled(client, visitor):
    run = make_load_test(status=LoadTestStatus.SUCCEEDED, visitor=visitor)
    response = client.post(f"/loadtests/{run.pk}/cancel/", follow=True)
    assert "had already succeeded" in response.content.decode()


def test_it_compares_runs_on_one_chart(client):
    vllm = make_load_test(kind="vllm")
    ollama = make_load_test(kind="ollama")
    html = client.get("/loadtests/compare/", {"id": [vllm.pk, ollama.pk]}).content.decode()
    assert "vLLM measured" in html and "Ollama measured" in html


def test_it_answers_404_when_a_compared_run_does_not_exist(client):
    response = client.get("/loadtests/compare/", {"id": "not-a-uuid"})
    assert response.status_code == 404 and "No load test" in response.content.decode()


def test_it_lists_runs_with_compare_checkboxes(client):
    run = make_load_test()
    html = client.get("/loadtests/").content.decode()
    assert f'id="compare-{run.pk}"' in html and 'action="/loadtests/compare/"' in html


def test_the_list_and_the_poll_never_write(client):
    """Reads never write: a run whose worker died stays as stored until the worker-side reaper
    fails it (no UPDATE on each 1 s htmx poll); the next poll then shows it failed."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from advisor.services.loadtests import loadtest_reap_stale

    run = make_load_test(
        status=LoadTestStatus.RUNNING, levels=(), heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    with CaptureQueriesContext(connection) as queries:
        client.get("/loadtests/")
        polled = client.get(f"/loadtests/{run.pk}/", **HTMX)
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert polled.status_code == 200  # still polling: the row still reads running
    loadtest_reap_stale()
    html = client.get(f"/loadtests/{run.pk}/").content.decode()
    assert "Failed" in html and "stopped reporting" in html


def test_it_takes_the_latency_targets_from_the_assessment(client):
    assessment = make_assessment(slo_ttft_ms=500, slo_e2e_p95_ms=8000)
    html = client.get("/loadtests/new/", {"assessment": str(assessment.pk)}).content.decode()
    assert 'name="slo_ttft_ms" value="500.0"' in html
    assert 'name="slo_e2e_ms" value="8000.0"' in html
    assert f'<option value="{assessment.pk}" selected>' in html


def test_it_takes_the_workload_and_levels_around_the_peak_from_the_assessment(client):
    assessment = make_assessment(
        peak_concurrent_users=40, avg_prompt_tokens=1200, avg_output_tokens=300
    )
    html = client.get("/loadtests/new/", {"assessment": str(assessment.pk)}).content.decode()
    assert 'name="prompt_tokens" value="1200"' in html
    assert 'name="max_tokens" value="300"' in html
    assert 'value="1,2,4,8,16,32,40,64"' in html
    assert 'name="requests_per_level" value="64"' in html
