"""Assessments and recommendations as rows: validation before saving, evidence from the rows."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.models import (
    Assessment,
    HardwareReport,
    HardwareSource,
    LoadTest,
    LoadTestStatus,
    Recommendation,
)
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, setup_of
from advisor.services import assessments
from advisor.services.assessments import recommendation_create, recommendation_refresh
from advisor.services.loadtests import loadtest_create
from tests.rules.factories import H100_REPORT, load_test

pytestmark = pytest.mark.django_db


# The hardware the questionnaires below describe (one RTX 4090, the default model).
ON_RTX_4090 = MeasuredOn(
    setup_of(gpu="rtx-4090", gpu_count=1, model="llama-3.1-8b"), MeasuredOnSource.STATED
).as_dict()


def make_load_test(owner=None, measured_on=ON_RTX_4090, **result_kwargs) -> LoadTest:
    result = load_test("ollama", {1: 2_000, 2: 4_200, 4: 25_000}, **result_kwargs)
    return LoadTest.objects.create(
        owner=owner, base_url="http://127.0.0.1:11434", backend_kind="ollama",
        status=LoadTestStatus.SUCCEEDED, result=result, measured_on=measured_on,
    )  # fmt: skip


def test_it_stores_normalised_answers_with_a_title():
    assessment = recommendation_create(
        answers={"model": "llama3.1:8b", "gpu": "h100", "peak_concurrent_users": "20"}
    ).assessment
    assessment.refresh_from_db()
    assert assessment.answers["model"] == "llama-3.1-8b"
    assert assessment.answers["gpu"] == "h100-sxm-80gb"
    assert assessment.answers["peak_concurrent_users"] == 20
    assert "20 users" in assessment.title


def test_it_saves_nothing_for_bad_answers_and_names_every_field():
    with pytest.raises(AdvisorValidationError) as info:
        recommendation_create(
            answers={"peak_concurrent_users": -3, "platform": "amiga", "gpu": "h100"}
        )
    assert set(info.value.errors) == {"peak_concurrent_users", "platform"}
    assert Assessment.objects.count() == 0


def test_it_refuses_an_unfinished_load_test_and_saves_nothing():
    pending = LoadTest.objects.create(
        base_url="http://127.0.0.1:11434", status=LoadTestStatus.RUNNING
    )
    with pytest.raises(AdvisorError) as info:
        recommendation_create(answers={"gpu": "h100"}, load_tests=[pending.pk])
    assert info.value.field == "load_tests"
    assert Assessment.objects.count() == 0


def test_it_refuses_someone_elses_load_test_and_report():
    users = get_user_model().objects
    alice, bob = users.create_user("alice"), users.create_user("bob")
    with pytest.raises(AdvisorError) as info:
        recommendation_create(
            answers={"gpu": "h100"}, load_tests=[make_load_test(owner=alice)], owner=bob
        )
    assert info.value.field == "load_tests"
    report = HardwareReport.objects.create(
        owner=alice, source=HardwareSource.UPLOAD, report=H100_REPORT
    )
    with pytest.raises(AdvisorError) as info:
        recommendation_create(answers={}, hardware_report=report, owner=bob)
    assert info.value.field == "hardware_report"


def test_it_uses_the_hardware_report_when_the_answers_leave_the_gpu_out():
    report = HardwareReport.objects.create(source=HardwareSource.UPLOAD, report=H100_REPORT)
    rec = recommendation_create(answers={"model": "llama-3.1-70b"}, hardware_report=report)
    assert rec.result["facts"]["gpu_count"] == 4
    assert rec.result["facts"]["gpu"] == "h100-sxm-80gb"
    assert rec.estimate["vllm"]["fits"] is True


def test_it_stores_the_verdict_and_the_estimate():
    rec = recommendation_create(
        answers={"gpu": "h100", "peak_concurrent_users": 200, "use_case": "production"}
    )
    stored = Recommendation.objects.get(pk=rec.pk)
    assert stored.backend == "vllm"
    assert stored.confidence == stored.result["confidence"]
    assert stored.result["decisive"][0]["rule_id"] == "workload.users_above_handful"
    assert stored.estimate["weights_bytes"] > 0


def test_it_reads_measured_collapse_from_attached_load_tests():
    answers = {"gpu": "rtx-4090", "peak_concurrent_users": 4, "use_case": "internal",
               "team_skills": ["python", "docker"]}  # fmt: skip
    plain = recommendation_create(answers=answers)
    measured = recommendation_create(answers=answers, load_tests=[make_load_test()])
    assert plain.backend == "ollama"
    assert measured.backend == "vllm"
    assert "measured.collapse" in [r["rule_id"] for r in measured.result["decisive"]]
    assert measured.result["facts"]["measured_levels"]["ollama"] == 3


def test_it_refuses_answers_that_contradict_the_report_and_saves_nothing():
    report = HardwareReport.objects.create(source=HardwareSource.UPLOAD, report=H100_REPORT)
    with pytest.raises(AdvisorError) as info:
        recommendation_create(answers={"platform": "macos"}, hardware_report=report)
    assert info.value.field == "platform"
    assert "NVIDIA H100" in info.value.message
    assert Assessment.objects.count() == 0


def test_it_saves_nothing_when_the_rules_fail_after_validation(monkeypatch):
    """Answers and evidence valid, then the engine fails: no report, assessment or verdict stays
    behind (the web path used to keep an assessment without a recommendation)."""

    def broken(facts):
        raise AdvisorError("the engine broke", field="model")

    monkeypatch.setattr(assessments, "recommend", broken)
    with pytest.raises(AdvisorError):
        recommendation_create(answers={"gpu": "h100"}, hardware=H100_REPORT)
    assert not Assessment.objects.exists() and not HardwareReport.objects.exists()
    assert not Recommendation.objects.exists()


def test_it_recommends_again_with_the_evidence_attached_now():
    first = recommendation_create(answers={"gpu": "rtx-4090", "peak_concurrent_users": 4})
    first.assessment.load_tests.add(make_load_test())
    again = recommendation_refresh(assessment=first.assessment)
    assert again.assessment == first.assessment and again.pk != first.pk
    assert again.result["facts"]["measured_levels"]["ollama"] == 3
    assert first.result["facts"]["measured_levels"]["ollama"] == 0


def test_it_does_not_recalibrate_an_h100_with_load_tests_run_on_a_cpu_host():
    """Tests started against this CPU-only host's servers (its own probe: no GPU), attached to an
    H100 questionnaire: "Recommend again" keeps the H100 predictions and warns, naming them."""
    HardwareReport.objects.create(
        source=HardwareSource.LOCAL, host_name="laptop", report={**H100_REPORT, "gpus": []}
    )
    answers = {"gpu": "h100", "gpu_count": 1, "model": "llama-3.1-8b", "peak_concurrent_users": 4}
    first = recommendation_create(answers=answers)
    config = {"base_url": "http://127.0.0.1:11434", "model": "llama3.1:8b", "concurrency": "1,2,4"}
    row = loadtest_create(config=config, enqueue=False)
    assert row.measured_on["source"] == "probe" and row.measured_on["gpu"] is None
    LoadTest.objects.filter(pk=row.pk).update(
        status=LoadTestStatus.SUCCEEDED,
        result=load_test("ollama", {1: 2_000, 2: 4_200, 4: 25_000}),
    )
    first.assessment.load_tests.add(row)
    again = recommendation_refresh(assessment=first.assessment)
    assert again.estimate == first.estimate  # the H100's predicted speeds, untouched
    assert not again.estimate["calibration"]
    warning = next(w for w in again.result["warnings"] if w["id"] == "measured_on_other_hardware")
    assert "http://127.0.0.1:11434" in warning["message"] and "CPU only" in warning["message"]
    [listed] = again.result["measurements"]
    assert listed["id"] == str(row.pk) and listed["same_hardware"] is False


def test_it_recalibrates_with_a_load_test_run_on_the_same_h100():
    """A test run by the worker on host gpu-1, whose remote probe found one H100, counts."""
    one_h100 = {**H100_REPORT, "gpus": H100_REPORT["gpus"][:1]}
    HardwareReport.objects.create(source=HardwareSource.REMOTE, host_name="gpu-1", report=one_h100)
    answers = {"gpu": "h100", "gpu_count": 1, "model": "llama-3.1-8b", "peak_concurrent_users": 4}
    config = {"base_url": "http://127.0.0.1:11434", "model": "llama3.1:8b", "concurrency": "1,2"}
    row = loadtest_create(config=config, queue="host.gpu-1", enqueue=False)
    assert row.measured_on["gpu"] == "h100-sxm-80gb" and row.measured_on["gpu_count"] == 1
    LoadTest.objects.filter(pk=row.pk).update(
        status=LoadTestStatus.SUCCEEDED, result=load_test("ollama", {1: 2_000, 2: 2_400})
    )
    plain = recommendation_create(answers=answers)
    measured = recommendation_create(answers=answers, load_tests=[row.pk])
    assert measured.estimate["calibration"] and measured.estimate != plain.estimate
    assert [m["same_hardware"] for m in measured.result["measurements"]] == [True]


def test_it_counts_a_row_stored_before_records_as_unknown_hardware():
    old = make_load_test(measured_on=None)
    rec = recommendation_create(
        answers={"gpu": "rtx-4090", "peak_concurrent_users": 4}, load_tests=[old]
    )
    assert rec.result["facts"]["measured_levels"]["ollama"] == 0
    [listed] = rec.result["measurements"]
    assert "unknown" in listed["label"] and listed["same_hardware"] is False
