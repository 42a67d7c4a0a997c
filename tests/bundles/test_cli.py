"""`manage.py advise --bundle OUT.zip` writes the bundle; the same answers give the same bytes."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _advise(tmp_path, answers: dict, name: str) -> bytes:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    out = tmp_path / name
    call_command("advise", "--answers", str(path), "--bundle", str(out), stdout=io.StringIO())
    return out.read_bytes()


def test_it_writes_a_deterministic_bundle_from_the_cli(tmp_path):
    answers = {"model": "llama-3.1-8b", "gpu": "NVIDIA H100 80GB HBM3", "gpu_count": 1,
               "peak_concurrent_users": 200}  # fmt: skip
    first = _advise(tmp_path, answers, "one.zip")
    assert first == _advise(tmp_path, answers, "two.zip")
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
    assert any(name.endswith("/vllm/kubernetes.yaml") for name in names)
    assert any(name.endswith("/README.md") for name in names)


def test_it_reports_a_bad_answers_file_without_writing_a_bundle(tmp_path):
    with pytest.raises(CommandError):
        _advise(tmp_path, {"model": "llama-3.1-8b", "peak_concurrent_users": -1}, "bad.zip")
    assert not (tmp_path / "bad.zip").exists()
