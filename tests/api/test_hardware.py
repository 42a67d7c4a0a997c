"""Hardware reports over the API: upload, read your own, probe this host or a remote one."""

from unittest import mock

import pytest
from django.test import override_settings

from advisor.api.hardware import REPORT_EXAMPLE
from advisor.models import HardwareReport, HardwareSource
from advisor.services.hardware import hardware_report_create
from tests.api.factories import make_user, probe_report, throttle_rates

pytestmark = pytest.mark.django_db

URL = "/api/v1/hardware-reports/"


def test_it_stores_an_uploaded_report_for_the_token_owner(user, api):
    response = api.post(URL, probe_report(hostname="gpu-box-7"), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["source"] == "upload" and body["host_name"] == "gpu-box-7"
    assert body["report"]["gpus"][0]["catalog_id"] == "h100-sxm-80gb"
    assert HardwareReport.objects.get(pk=body["id"]).owner == user


def test_it_accepts_the_documented_example(api):
    assert api.post(URL, REPORT_EXAMPLE, format="json").status_code == 201


def test_it_names_every_bad_field_by_its_dotted_path(api):
    report = probe_report()
    report["gpus"][0]["memory_total_bytes"] = -1
    del report["memory"]
    response = api.post(URL, report, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "gpus.0.memory_total_bytes" in errors and "memory" in errors
    assert not HardwareReport.objects.exists()


@pytest.mark.parametrize("body", [[1, 2], "text", {}])
def test_it_refuses_a_body_that_is_not_a_report(api, body):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["message"]


def test_it_refuses_a_body_that_is_not_json(api):
    response = api.post(URL, "not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("JSON parse error")


def test_it_refuses_form_bodies_with_415(api):
    response = api.post(URL, {"a": "b"}, format="multipart")
    assert response.status_code == 415


def test_it_needs_a_token_to_upload_or_read(anon):
    assert anon.post(URL, REPORT_EXAMPLE, format="json").status_code == 401
    assert anon.get(URL).status_code == 401


def test_it_shows_only_your_own_reports(user, api):
    mine = hardware_report_create(report=probe_report(), source="upload", owner=user)
    theirs = hardware_report_create(report=probe_report(), source="upload", owner=make_user())
    unowned = hardware_report_create(report=probe_report(), source="local")
    assert api.get(f"{URL}{mine.pk}/").status_code == 200
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.get(f"{URL}{unowned.pk}/").status_code == 404
    listed = [r["id"] for r in api.get(URL).json()["results"]]
    assert listed == [str(mine.pk)]


def test_it_answers_404_for_a_malformed_id(api):
    response = api.get(f"{URL}not-a-uuid/")
    assert response.status_code == 404 and response.json()["message"]


def test_it_probes_this_host_for_real(user, api):
    response = api.post(f"{URL}probe/", {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["source"] == HardwareSource.LOCAL
    assert body["report"]["memory"]["total_bytes"] > 0
    assert HardwareReport.objects.get(pk=body["id"]).owner == user


def test_it_names_a_bad_server_url(api):
    response = api.post(f"{URL}probe/", {"server_urls": ["ftp://x"]}, format="json")
    assert response.status_code == 400
    assert "server_urls" in response.json()["errors"]


def test_it_names_a_bad_host(api):
    response = api.post(f"{URL}probe/", {"host": "bad host!"}, format="json")
    assert response.status_code == 400
    assert "host" in response.json()["errors"]


def test_it_refuses_unknown_fields(api):
    response = api.post(f"{URL}probe/", {"hots": "gpu-box-1"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"hots": ["Unknown field; see the schema at /api/schema/."]}


def test_it_probes_a_remote_host_through_the_service(user, api):
    stored = hardware_report_create(report=probe_report(), source="remote", owner=user)
    with mock.patch(
        "advisor.api.hardware.hardware_report_probe_remote", autospec=True, return_value=stored
    ) as probe:
        response = api.post(
            f"{URL}probe/",
            {"host": "gpu-box-1", "server_urls": ["http://127.0.0.1:8000"]},
            format="json",
        )
    assert response.status_code == 201 and response.json()["id"] == str(stored.pk)
    probe.assert_called_once_with(
        host="gpu-box-1", owner=user, server_urls=["http://127.0.0.1:8000"]
    )


def test_it_answers_503_for_a_remote_probe_when_the_broker_is_down(api):
    with mock.patch("advisor.api.broker.broker_status", return_value="unavailable"):
        response = api.post(f"{URL}probe/", {"host": "gpu-box-1"}, format="json")
    assert response.status_code == 503
    assert "broker" in response.json()["message"]


def test_it_throttles_probes(api):
    with override_settings(REST_FRAMEWORK=throttle_rates(probes="2/hour")):
        codes = [api.post(f"{URL}probe/", {}, format="json").status_code for _ in range(3)]
        last = api.post(f"{URL}probe/", {}, format="json")
    assert codes == [201, 201, 429]
    assert int(last["Retry-After"]) > 0
    assert last.json()["message"].startswith("Request was throttled")


def test_it_lists_remote_hosts(api):
    response = api.get(f"{URL}hosts/")
    assert response.status_code == 200
    # None with the embedded broker (it cannot broadcast); under CI's Redis, any live host workers.
    for host in response.json()["results"]:
        assert host["queue"] == f"host.{host['name']}" and host["workers"]
