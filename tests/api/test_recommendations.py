"""Recommendations over the API: the questionnaire in, the verdict out, the bundle as files or zip."""

import io
import zipfile

import pytest
import yaml
from django.test import override_settings

from advisor.models import Assessment, HardwareReport, LoadTest, LoadTestStatus, Recommendation
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, setup_of
from advisor.services.hardware import hardware_report_create
from tests.api.factories import client_for, make_token, make_user, probe_report, throttle_rates

pytestmark = pytest.mark.django_db

URL = "/api/v1/recommendations/"
ANSWERS = {
    "use_case": "production",
    "peak_concurrent_users": 40,
    "model": "llama-3.1-8b",
    "gpu": "h100",
    "gpu_count": 1,
    "deployment_target": "server",
}


def recommend(api, **changes):
    return api.post(URL, ANSWERS | changes, format="json")


def test_it_answers_201_with_the_verdict_and_stores_it_for_the_caller(user, api):
    response = recommend(api, title="chat for support")
    assert response.status_code == 201
    body = response.json()
    assert body["backend"] in ("ollama", "vllm") and 0 <= body["confidence"] <= 1
    assert body["title"] == "chat for support" and body["answers"]["peak_concurrent_users"] == 40
    assert body["result"]["backend"] == body["backend"] and body["estimate"]["vllm"]
    assert response["Location"] == f"{URL}{body['id']}/" == body["links"]["self"]
    assert Recommendation.objects.get(pk=body["id"]).assessment.owner == user


# The token lookup and one INSERT each for the assessment and the recommendation: nothing is read
# back (a guard against queries creeping into the hot path; bench/api.py measures the time).
# The token; the service's transaction (a savepoint and its release inside the test's own) around
# two INSERTs (assessment, recommendation); the answer's load-test ids.
MAX_QUERIES_PER_RECOMMENDATION = 6


def test_it_answers_a_recommendation_without_a_query_per_row(api, django_assert_max_num_queries):
    recommend(api)  # the token's first use also records last_used_at
    with django_assert_max_num_queries(MAX_QUERIES_PER_RECOMMENDATION):
        assert recommend(api, peak_concurrent_users=12).status_code == 201


def test_it_recommends_vllm_for_many_users_on_a_datacenter_gpu(api):
    assert recommend(api, peak_concurrent_users=200).json()["backend"] == "vllm"


def test_it_recommends_ollama_on_a_mac(api):
    body = recommend(
        api, use_case="prototype", peak_concurrent_users=1, gpu="apple-m3-max", platform="macos"
    ).json()
    assert body["backend"] == "ollama", body


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"use_case": "x", "gpu_count": 99}, {"use_case", "gpu_count"}),  # all at once
        ({"model": "no-such-model"}, {"model"}),  # the catalog's answer, naming the field
        ({"peak_concurrent_users": 0}, {"peak_concurrent_users"}),
        ({"peak_concurrent_users": "40"}, {"peak_concurrent_users"}),  # no coercion
        ({"features": ["teleportation"]}, {"features.0"}),  # dotted path to the item
        ({"colour": "blue"}, {"colour"}),  # unknown question
        ({"hardware_report": "not-a-uuid"}, {"hardware_report"}),
        ({"load_tests": ["00000000-0000-0000-0000-000000000000"]}, {"load_tests"}),
    ],
)
def test_it_names_every_bad_field(api, changes, fields):
    response = recommend(api, **changes)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert fields <= set(body["errors"]), body
    assert body["message"]
    assert not Assessment.objects.exists()


def test_it_attaches_your_stored_hardware_report(user, api):
    report = hardware_report_create(report=probe_report(), source="upload", owner=user)
    body = recommend(api, hardware_report=str(report.pk), gpu=None, gpu_count=None).json()
    assert body["hardware_report"] == str(report.pk)


def test_it_refuses_someone_elses_hardware_report(api):
    theirs = hardware_report_create(report=probe_report(), source="upload", owner=make_user())
    response = recommend(api, hardware_report=str(theirs.pk))
    assert response.status_code == 400 and "hardware_report" in response.json()["errors"]


def test_it_stores_an_inline_report_with_the_assessment(user, api):
    body = recommend(api, hardware=probe_report(hostname="inline-box")).json()
    report = HardwareReport.objects.get(pk=body["hardware_report"])
    assert report.host_name == "inline-box" and report.owner == user


def test_it_rolls_back_everything_when_the_inline_report_is_bad(api):
    bad = probe_report()
    del bad["memory"]
    response = recommend(api, hardware=bad)
    assert response.status_code == 400 and "memory" in response.json()["errors"]
    assert not HardwareReport.objects.exists() and not Assessment.objects.exists()


def test_it_refuses_both_a_report_id_and_an_inline_report(user, api):
    report = hardware_report_create(report=probe_report(), source="upload", owner=user)
    response = recommend(api, hardware_report=str(report.pk), hardware=probe_report())
    assert response.status_code == 400 and "hardware" in response.json()["errors"]


def test_it_weighs_your_finished_load_tests(user, api):
    result = {
        "target": {"base_url": "http://127.0.0.1:9", "kind": "vllm", "model": "m"},
        "levels": [],
        "stopped_reason": "done",
    }
    finished = LoadTest.objects.create(
        owner=user, base_url="http://127.0.0.1:9", status=LoadTestStatus.SUCCEEDED, result=result
    )
    theirs = LoadTest.objects.create(
        owner=make_user(),
        base_url="http://127.0.0.1:9",
        status=LoadTestStatus.SUCCEEDED,
        result=result,
    )
    ok = recommend(api, load_tests=[str(finished.pk)])
    assert ok.status_code == 201, ok.json()
    assert ok.json()["load_tests"] == [str(finished.pk)]
    refused = recommend(api, load_tests=[str(theirs.pk)])
    assert refused.status_code == 400 and "load_tests" in refused.json()["errors"]


def test_it_lists_each_load_test_with_the_hardware_it_ran_on(user, api):
    """A test measured on a CPU-only host is listed as other hardware, and a warning names it."""
    result = {"target": {"base_url": "http://127.0.0.1:9", "kind": "ollama", "model": "m"},
              "levels": [], "stopped_reason": "done"}  # fmt: skip
    cpu = MeasuredOn(setup_of(gpu=None, gpu_count=0, model="m"), MeasuredOnSource.PROBE)
    row = LoadTest.objects.create(owner=user, base_url="http://127.0.0.1:9", result=result,
                                  status=LoadTestStatus.SUCCEEDED, measured_on=cpu.as_dict())  # fmt: skip
    body = recommend(api, gpu="h100", load_tests=[str(row.pk)]).json()
    [listed] = body["result"]["measurements"]
    assert listed["id"] == str(row.pk) and listed["measured_on"] == cpu.as_dict()
    assert listed["same_hardware"] is False
    assert (
        listed["label"]
        == "measured on other hardware (CPU only, m, auto quantization; from the probe of its host)"
    )
    assert "measured_on_other_hardware" in {w["id"] for w in body["result"]["warnings"]}


def test_it_needs_a_token(anon):
    assert anon.post(URL, ANSWERS, format="json").status_code == 401


def test_it_throttles_recommendations_per_user(api):
    other = client_for(make_token())
    with override_settings(REST_FRAMEWORK=throttle_rates(recommendations="2/min")):
        codes = [recommend(api).status_code for _ in range(3)]
        assert recommend(other).status_code == 201  # another user has their own budget
        assert api.get(URL).status_code == 200  # reading is not throttled
    assert codes == [201, 201, 429]


def test_it_shows_only_your_recommendations(api):
    mine = recommend(api).json()["id"]
    theirs = recommend(client_for(make_token())).json()["id"]
    assert api.get(f"{URL}{mine}/").status_code == 200
    assert api.get(f"{URL}{theirs}/").status_code == 404
    assert api.get(f"{URL}{theirs}/bundle/").status_code == 404
    assert api.get(f"{URL}{theirs}/bundle.zip").status_code == 404
    assert [r["id"] for r in api.get(URL).json()["results"]] == [mine]


def test_it_lists_the_bundle_files_with_their_contents(api):
    body = recommend(api).json()
    bundle = api.get(f"{URL}{body['id']}/bundle/").json()
    assert bundle["backend"] == body["backend"]
    paths = [f["path"] for f in bundle["files"]]
    assert "README.md" in paths and all(f["content"] for f in bundle["files"])


def test_it_serves_the_same_files_as_a_zip(api):
    rid = recommend(api).json()["id"]
    listing = api.get(f"{URL}{rid}/bundle/").json()
    response = api.get(f"{URL}{rid}/bundle.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{listing["filename"]}"'
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == sorted(f"{listing['root']}/{f['path']}" for f in listing["files"])
    assert api.get(f"{URL}{rid}/bundle.zip").content == response.content  # deterministic


def test_it_renders_the_other_backend_on_request(api):
    body = recommend(api).json()
    other = "ollama" if body["backend"] == "vllm" else "vllm"
    assert api.get(f"{URL}{body['id']}/bundle/?backend={other}").json()["backend"] == other


def test_it_names_a_bad_backend_parameter(api):
    rid = recommend(api).json()["id"]
    response = api.get(f"{URL}{rid}/bundle.zip?backend=tgi")
    assert response.status_code == 400 and "backend" in response.json()["errors"]


def test_it_removes_the_inline_report_when_the_answers_are_refused(api):
    response = recommend(api, hardware=probe_report(), model="no-such-model")
    assert response.status_code == 400 and "model" in response.json()["errors"]
    assert not HardwareReport.objects.exists() and not Assessment.objects.exists()


# ---- vLLM's flags and the readings of your own servers -----------------------------------------

SEVENTY_B = {"model": "llama-3.3-70b", "gpu": "a100-sxm-80gb", "gpu_count": 4}


def test_it_sizes_vllm_with_the_flags_you_pass_and_the_bundle_deploys_them(api):
    body = recommend(api, **SEVENTY_B, tensor_parallel_size=4, gpu_memory_utilization=0.9).json()
    plan = body["estimate"]["plan"]["vllm"]
    assert (plan["tensor_parallel_size"], plan["data_parallel_size"]) == (4, 1)
    assert plan["gpu_memory_utilization"] == 0.9
    assert body["answers"]["tensor_parallel_size"] == 4
    files = api.get(f"{body['links']['bundle']}?backend=vllm").json()["files"]
    compose = next(f["content"] for f in files if f["path"].endswith("compose.nvidia.yaml"))
    command = yaml.safe_load(compose)["services"]["vllm"]["command"]
    assert command[command.index("--tensor-parallel-size") + 1] == "4"
    assert command[command.index("--gpu-memory-utilization") + 1] == "0.9"


def test_a_pasted_vllm_log_makes_the_kv_budget_measured(api):
    log = "INFO 10-03 16:22:17 [gpu_worker.py:298] Available KV cache memory: 30.00 GiB\n"
    plan = recommend(api, vllm_log=log).json()["estimate"]["plan"]["vllm"]
    assert plan["kv_source"] == "measured" and plan["kv_budget_bytes"] == 30 * 1024**3
    assert plan["kv_budget_error_pct"] is not None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({**SEVENTY_B, "tensor_parallel_size": 3}, "tensor_parallel_size"),  # heads do not split
        ({**SEVENTY_B, "tensor_parallel_size": 4, "data_parallel_size": 2}, "data_parallel_size"),
        ({"gpu_memory_utilization": 1.2}, "gpu_memory_utilization"),
        ({"kv_cache_dtype": "int8"}, "kv_cache_dtype"),
        ({"vllm_version": "0.2.0"}, "vllm_version"),
        ({"vllm_log": "nothing useful"}, "vllm_log"),
        ({"ollama_ps": 42}, "ollama_ps"),  # no coercion: pasted text is a string
    ],
)
def test_it_names_the_vllm_setting_at_fault_and_stores_nothing(api, changes, field):
    response = recommend(api, **changes)
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]
    assert not Assessment.objects.exists()


def test_it_names_the_tensor_parallel_size_your_reports_gpus_cannot_hold(api):
    report = probe_report()  # one H100
    response = recommend(api, gpu=None, gpu_count=None, hardware=report, tensor_parallel_size=2)
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == ["tensor_parallel_size"]
    assert not Assessment.objects.exists() and not HardwareReport.objects.exists()
