"""``manage.py probe``: a thin shell over the hardware service."""

import copy
import json

import pytest
from django.core.management import CommandError, call_command

from advisor.models import HardwareReport, HardwareSource
from tests.probes.test_schema import VALID

pytestmark = pytest.mark.django_db


def test_it_probes_this_host_and_stores_the_report(capsys):
    call_command("probe")
    row = HardwareReport.objects.get()
    assert row.source == HardwareSource.LOCAL
    out = capsys.readouterr().out
    assert out.startswith("Host ")
    assert f"Stored hardware report {row.pk}" in out


def test_it_stores_an_uploaded_file_and_prints_it_as_json(tmp_path, capsys):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(VALID))
    call_command("probe", "--upload", str(path), "--json")
    assert json.loads(capsys.readouterr().out)["host"]["hostname"] == "gpu-1"
    assert HardwareReport.objects.get().source == HardwareSource.UPLOAD


def test_it_lists_every_bad_field_of_an_upload_and_stores_nothing(tmp_path):
    report = copy.deepcopy(VALID)
    report["gpus"][0]["memory_total_bytes"] = "80GB"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    with pytest.raises(CommandError, match=r"gpus\.0\.memory_total_bytes"):
        call_command("probe", "--upload", str(path))
    assert HardwareReport.objects.count() == 0


def test_it_names_a_missing_file_and_a_bad_host():
    with pytest.raises(CommandError, match="--upload"):
        call_command("probe", "--upload", "/nonexistent/report.json")
    with pytest.raises(CommandError, match="host"):
        call_command("probe", "--host", "bad host")
