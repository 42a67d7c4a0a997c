"""Hardware pages: the local report, probing, remote hosts, uploads with field errors."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from advisor.errors import AdvisorError
from advisor.models import HardwareReport, HardwareSource
from advisor.services.hardware import RemoteHost
from tests.web.conftest import HTMX
from tests.web.factories import make_report, report_data

pytestmark = pytest.mark.django_db


def test_it_shows_the_local_report_and_the_forms(client):
    make_report(
        servers=[
            {"kind": "ollama", "base_url": "http://127.0.0.1:11434", "models": ["llama3.1:8b"]}
        ]
    )
    html = client.get("/hardware/").content.decode()
    assert "NVIDIA H100 80GB HBM3" in html and "Ollama" in html and "llama3.1:8b" in html
    assert 'action="/hardware/upload/"' in html and 'enctype="multipart/form-data"' in html
    assert 'href="/hardware/hosts/"' in html and 'hx-get="/hardware/hosts/"' in html


def test_it_probes_this_host_for_real_and_shows_the_report(client):
    response = client.post("/hardware/probe/")
    report = HardwareReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/hardware/{report.pk}/"
    assert report.source == HardwareSource.LOCAL
    html = client.get(response["Location"]).content.decode()
    assert report.host_name in html and "Probes" in html


def test_it_shows_a_bad_server_url_on_its_field(client):
    response = client.post("/hardware/probe/", {"server_urls": "ftp://nope"})
    assert response.status_code == 400
    assert response.context["probe_form"].errors["server_urls"]
    assert HardwareReport.objects.count() == 0


def test_it_stores_an_uploaded_report_file(client):
    upload = SimpleUploadedFile("report.json", json.dumps(report_data(hostname="gpu-box")).encode())
    response = client.post("/hardware/upload/", {"file": upload})
    report = HardwareReport.objects.get()
    assert response.status_code == 302
    assert report.source == HardwareSource.UPLOAD and report.host_name == "gpu-box"
    assert report.report["gpus"][0]["catalog_id"] == "h100-sxm-80gb"


def test_it_lists_every_bad_field_of_an_uploaded_report_and_stores_nothing(client):
    bad = report_data()
    bad["gpus"][0]["memory_total_bytes"] = -1
    del bad["host"]
    response = client.post("/hardware/upload/", {"text": json.dumps(bad)})
    html = response.content.decode()
    assert response.status_code == 400
    assert "nothing was stored" in html
    assert "<code>host</code>" in html and "<code>gpus.0.memory_total_bytes</code>" in html
    assert HardwareReport.objects.count() == 0


def test_it_says_when_an_upload_is_not_json(client):
    response = client.post("/hardware/upload/", {"text": "{oops"})
    assert response.status_code == 400
    assert "not valid JSON" in response.context["upload_form"].errors["text"][0]


def test_it_asks_for_a_file_or_text(client):
    response = client.post("/hardware/upload/", {})
    assert response.status_code == 400
    assert "Choose a report file or paste one." in response.content.decode()


def test_it_refuses_a_bad_remote_host_name_without_asking_the_broker(client):
    response = client.post("/hardware/probe/remote/", {"remote-host": "bad host;rm"})
    assert response.status_code == 400
    assert "host name" in response.context["remote_form"].errors["host"][0].lower()


@mock.patch("advisor.views.hardware.hardware_report_probe_remote", autospec=True)
def test_it_shows_why_a_remote_probe_failed_on_the_host_field(probe, client):
    probe.side_effect = AdvisorError("No worker answered on queue host.gpu1", field="host")
    response = client.post("/hardware/probe/remote/", {"remote-host": "gpu1"})
    assert response.status_code == 400
    assert "No worker answered" in response.content.decode()


@mock.patch("advisor.views.hardware.hardware_report_probe_remote", autospec=True)
def test_it_stores_a_remote_report_and_goes_to_it(probe, client):
    report = make_report(source=HardwareSource.REMOTE, hostname="gpu1")
    probe.return_value = report
    response = client.post(
        "/hardware/probe/remote/",
        {"remote-host": "gpu1", "remote-server_urls": "http://127.0.0.1:9000"},
    )
    assert response["Location"] == f"/hardware/{report.pk}/"
    assert probe.call_args.kwargs["server_urls"] == ["http://127.0.0.1:9000"]


@mock.patch(
    "advisor.views.hardware.hardware_hosts_list",
    autospec=True,
    return_value=[RemoteHost(name="gpu1", queue="host.gpu1", workers=("w@gpu1",))],
)
def test_it_lists_remote_hosts_for_htmx(hosts, client):
    html = client.get("/hardware/hosts/", **HTMX).content.decode()
    assert "<html" not in html and "gpu1" in html and 'name="remote-host" value="gpu1"' in html


@mock.patch("advisor.views.hardware.hardware_hosts_list", autospec=True, return_value=[])
def test_it_explains_when_no_remote_host_answers(hosts, client):
    html = client.get("/hardware/hosts/").content.decode()
    assert "No remote worker answered" in html and "<html" in html


def test_it_downloads_a_report_as_json(client):
    report = make_report()
    response = client.get(f"/hardware/{report.pk}.json")
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"


def test_it_answers_404_for_an_unknown_report(client):
    response = client.get("/hardware/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
