"""advisor.services.hardware: reports are validated, re-matched to the catalog, then stored."""

import copy
import importlib.util
import json

import pytest

from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.models import HardwareReport, HardwareSource
from advisor.services import hardware
from tests.probes.test_schema import VALID

pytestmark = pytest.mark.django_db
has_catalog = importlib.util.find_spec("advisor.capacity.catalog") is not None


def standalone_report() -> dict:
    """What a standalone host uploads: GPUs without catalog ids."""
    report = copy.deepcopy(VALID)
    report["gpus"][0]["catalog_id"] = None
    return report


@pytest.mark.skipif(not has_catalog, reason="advisor.capacity.catalog not present")
def test_it_stores_an_upload_with_catalog_ids_matched_on_arrival():
    row = hardware.hardware_report_create(report=standalone_report(), source="upload")
    row.refresh_from_db()
    assert row.source == HardwareSource.UPLOAD
    assert row.host_name == "gpu-1"
    assert row.schema_version == 1
    assert row.report["gpus"][0]["catalog_id"] == "h100-sxm-80gb"
    assert row.report["gpus"][0]["bandwidth_gbps"] == 3350


def test_it_does_not_trust_a_catalog_id_sent_with_the_report():
    report = standalone_report()
    report["gpus"][0]["name"] = "Mystery Accelerator 9000"
    report["gpus"][0]["catalog_id"] = "h100-sxm-80gb"
    row = hardware.hardware_report_create(report=report, source=HardwareSource.UPLOAD)
    assert row.report["gpus"][0]["catalog_id"] is None


def test_it_names_the_bad_field_and_stores_nothing():
    report = standalone_report()
    report["gpus"][0]["memory_total_bytes"] = "80GB"
    report["memory"]["total_bytes"] = -5
    with pytest.raises(AdvisorValidationError) as caught:
        hardware.hardware_report_create(report=report, source="upload")
    error = caught.value
    assert error.field == "memory.total_bytes"  # the first in schema order
    assert set(error.errors) == {"gpus.0.memory_total_bytes", "memory.total_bytes"}
    assert error.message.startswith("Invalid report: memory.total_bytes:")
    assert error.message.endswith("(and 1 more)")
    assert error.as_dict()["errors"]["gpus.0.memory_total_bytes"]
    assert HardwareReport.objects.count() == 0


@pytest.mark.parametrize("report", [[], "text", None])
def test_it_refuses_a_report_that_is_not_an_object(report):
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_create(report=report, source="upload")
    assert caught.value.field == "report"
    assert HardwareReport.objects.count() == 0


def test_it_refuses_an_unknown_source():
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_create(report=standalone_report(), source="carrier-pigeon")
    assert caught.value.field == "source"


def test_it_refuses_an_oversized_report():
    report = standalone_report()
    report["software"] = {"notes": "x" * (hardware.MAX_REPORT_BYTES + 1)}
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_create(report=report, source="upload")
    assert caught.value.field == "report"


def test_it_parses_an_uploaded_file_or_says_where_the_json_breaks():
    assert hardware.hardware_report_load_json(text=json.dumps(VALID).encode()) == VALID
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_load_json(text='{"schema_version": 1,\n oops}')
    assert caught.value.field == "report"
    assert "line 2" in caught.value.message
    with pytest.raises(AdvisorError, match="UTF-8"):
        hardware.hardware_report_load_json(text=b"\xff\xfe{")


def test_it_probes_this_host_and_stores_a_local_report():
    row = hardware.hardware_report_probe_local()
    assert row.source == HardwareSource.LOCAL
    assert row.report["memory"]["total_bytes"] > 0
    assert row.host_name == row.report["host"]["hostname"]
    assert set(row.report["probes"]) >= {"nvidia", "cpu", "servers"}


def test_it_refuses_a_bad_server_url_with_the_field():
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_probe_local(server_urls=["ftp://127.0.0.1"])
    assert caught.value.field == "server_urls"


@pytest.mark.parametrize("host", ["", "bad host", "../etc", "x" * 101])
def test_it_refuses_a_bad_remote_host_name_without_sending_anything(host, monkeypatch):
    sent = []
    monkeypatch.setattr(hardware.app, "send_task", lambda *a, **k: sent.append(a))
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_probe_remote(host=host)
    assert caught.value.field == "host"
    assert sent == []


def test_it_lists_reports_for_an_owner_with_the_unowned_ones(django_user_model):
    alice = django_user_model.objects.create(username="alice")
    bob = django_user_model.objects.create(username="bob")
    mine = hardware.hardware_report_create(report=standalone_report(), source="upload", owner=alice)
    shared = hardware.hardware_report_create(report=standalone_report(), source="upload")
    hardware.hardware_report_create(report=standalone_report(), source="upload", owner=bob)
    assert set(hardware.hardware_report_list(owner=alice)) == {mine, shared}
    assert hardware.hardware_report_list().count() == 3


def test_it_reports_an_unreachable_broker_as_a_host_error(monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(hardware.app, "send_task", broker_down)
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_probe_remote(host="gpu-1")
    assert caught.value.field == "host"
    assert "broker is unavailable" in caught.value.message


def test_it_refuses_a_bad_server_url_for_a_remote_probe_without_sending(monkeypatch):
    sent = []
    monkeypatch.setattr(hardware.app, "send_task", lambda *a, **k: sent.append(a))
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_probe_remote(host="gpu-1", server_urls=["gopher://x"])
    assert caught.value.field == "server_urls"
    assert sent == []


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3:8000", "http://169.254.169.254/latest", "http://user:pw@127.0.0.1:1"]
)
def test_it_refuses_server_urls_outside_the_allow_list_without_connecting(url, monkeypatch):
    def no_probing(**kwargs):
        raise AssertionError("must not probe")

    monkeypatch.setattr(hardware, "collect_report", no_probing)
    with pytest.raises(AdvisorError) as caught:
        hardware.hardware_report_probe_local(server_urls=[url])
    assert caught.value.field == "server_urls"


def test_it_allows_server_urls_in_the_allow_list(settings, monkeypatch):
    settings.ADVISOR_LOADTEST_ALLOWED_HOSTS = ["127.0.0.0/8", "10.0.0.0/8"]
    seen = {}

    def fake_collect(**kwargs):
        seen.update(kwargs)
        return copy.deepcopy(VALID)

    monkeypatch.setattr(hardware, "collect_report", fake_collect)
    hardware.hardware_report_probe_local(server_urls=["10.1.2.3:8000/v1"])
    assert seen["server_urls"] == ["http://10.1.2.3:8000"]
