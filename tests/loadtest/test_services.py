"""The Django side without a worker: create (policy, limits), run (rows, progress, cancel),
redelivery after a worker died, and the reaper."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from advisor.errors import AdvisorError
from advisor.loadtest.config import LoadTestConfig
from advisor.loadtest.policy import LOADTESTS_PER_USER_PER_HOUR
from advisor.loadtest.testserver import Fault, ScriptedServer
from advisor.models import Assessment, HardwareReport, HardwareSource, LoadTest, LoadTestStatus
from advisor.services import loadtests
from advisor.services.measured_on import loadtest_measured_on
from tests.rules.factories import H100_REPORT

pytestmark = pytest.mark.django_db


def config(server_url: str, **extra) -> dict:
    return {
        "base_url": server_url,
        "model": "test-model",
        "concurrency": "1,2",
        "requests_per_level": 4,
        "warmup": 0,
        "max_tokens": 3,
        **extra,
    }


class FakeApp:
    """The broker seam: records what would be sent."""

    def __init__(self):
        self.sent = []

    def send_task(self, name, args, **options):
        self.sent.append((name, args, options))

        class Result:
            id = "task-1"

        return Result()


@pytest.fixture
def fake_app(monkeypatch):
    app = FakeApp()
    monkeypatch.setattr(loadtests, "app", app)
    return app


def test_it_stores_a_queued_test_and_enqueues_it_on_commit(
    fake_app, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), queue="host.gpu-1")
    row.refresh_from_db()
    assert row.status == LoadTestStatus.QUEUED
    assert row.config["concurrency"] == [1, 2] and row.model_name == "test-model"
    # Sent once (no publish retries that hold a request while the broker is down), dropped by a
    # worker that only gets it after the reaper gave up on the row.
    options = {
        "queue": "host.gpu-1",
        "retry": False,
        "ignore_result": True,
        "expires": loadtests.QUEUED_TIMEOUT_S,
    }
    assert fake_app.sent == [("advisor.run_load_test", [str(row.pk)], options)]
    assert row.task_id == "task-1"


@pytest.mark.parametrize(
    ("data", "queue", "field"),
    [
        ({"base_url": "http://169.254.169.254"}, "", "base_url"),
        ({"base_url": "http://10.0.0.5:8000"}, "", "base_url"),
        ({"concurrency": "1,1025"}, "", "concurrency"),
        ({"max_tokens": "lots"}, "", "max_tokens"),
        ({}, "other-queue", "queue"),
    ],
)
def test_it_refuses_bad_input_with_the_field(fake_app, data, queue, field):
    with pytest.raises(AdvisorError) as caught:
        loadtests.loadtest_create(config={**config("http://127.0.0.1:9"), **data}, queue=queue)
    assert caught.value.field == field
    assert not LoadTest.objects.exists()


def test_it_limits_tests_per_user_per_hour(fake_app):
    user = get_user_model().objects.create_user("ann")
    for _ in range(LOADTESTS_PER_USER_PER_HOUR):
        loadtests.loadtest_create(owner=user, config=config("http://127.0.0.1:9"), enqueue=False)
    with pytest.raises(AdvisorError, match="last hour"):
        loadtests.loadtest_create(owner=user, config=config("http://127.0.0.1:9"))
    other = get_user_model().objects.create_user("bob")
    loadtests.loadtest_create(owner=other, config=config("http://127.0.0.1:9"), enqueue=False)


def test_it_runs_a_test_and_stores_levels_progress_and_result():
    with ScriptedServer(ttft_s=0.01, tokens=3) as server:
        # no early stop: one stall of a busy test machine must not look like a latency collapse
        row = loadtests.loadtest_create(config=config(server.url, early_stop=False), enqueue=False)
        row = loadtests.loadtest_run(load_test_id=row.pk)
    assert row.status == LoadTestStatus.SUCCEEDED, row.error
    assert row.backend_kind == "vllm"
    assert row.result["stopped_reason"] == "all 2 levels completed"
    assert [lv.concurrency for lv in row.levels.all()] == [1, 2]
    level = row.levels.first()
    assert level.succeeded == 4 and set(level.metrics["ttft_ms"]) >= {"p50", "p99"}
    assert row.progress["phase"] == "done" and row.heartbeat_at is not None


def test_it_cancels_a_running_test_keeping_partial_results():
    with ScriptedServer(ttft_s=0.05, tokens=2) as server:
        row = loadtests.loadtest_create(
            config=config(server.url, requests_per_level=400), enqueue=False
        )
        LoadTest.objects.filter(pk=row.pk).update(cancel_requested=True)
        row = loadtests.loadtest_run(load_test_id=row.pk)
    assert row.status == LoadTestStatus.CANCELLED
    assert row.result["stop_code"] == "cancelled"
    assert row.levels.count() == 1 and row.levels.first().metrics["partial"] is True


def test_it_cancels_a_queued_test_at_once():
    row = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    row = loadtests.loadtest_cancel(load_test=row)
    assert row.status == LoadTestStatus.CANCELLED and row.finished_at
    assert loadtests.loadtest_run(load_test_id=row.pk).status == LoadTestStatus.CANCELLED


def test_it_fails_a_redelivered_test_whose_worker_died():
    row = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    LoadTest.objects.filter(pk=row.pk).update(
        status=LoadTestStatus.RUNNING, heartbeat_at=timezone.now()
    )
    row = loadtests.loadtest_run(load_test_id=row.pk)
    assert row.status == LoadTestStatus.FAILED
    assert row.stopped_reason == "worker lost" and "died" in row.error


def test_it_reaps_tests_whose_heartbeat_stopped():
    stale = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    fresh = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    LoadTest.objects.filter(pk=stale.pk).update(
        status=LoadTestStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    LoadTest.objects.filter(pk=fresh.pk).update(
        status=LoadTestStatus.RUNNING, heartbeat_at=timezone.now()
    )
    # Reading never reaps (a poll must not write); the worker side does.
    assert loadtests.loadtest_get(load_test_id=stale.pk).status == LoadTestStatus.RUNNING
    assert loadtests.loadtest_reap_stale() == 1
    assert loadtests.loadtest_get(load_test_id=stale.pk).status == LoadTestStatus.FAILED
    assert loadtests.loadtest_get(load_test_id=fresh.pk).status == LoadTestStatus.RUNNING
    assert "heartbeat" in LoadTest.objects.get(pk=stale.pk).error


def test_it_fails_tests_no_worker_took_within_the_bound():
    """A test sent to host.0 with no worker there (or a broker that lost it) fails after
    QUEUED_TIMEOUT_S instead of sitting queued for good; a recent one keeps waiting."""
    old = loadtests.loadtest_create(
        config=config("http://127.0.0.1:9"), queue="host.0", enqueue=False
    )
    recent = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    created = timezone.now() - timedelta(seconds=loadtests.QUEUED_TIMEOUT_S + 1)
    LoadTest.objects.filter(pk=old.pk).update(created_at=created)
    assert loadtests.loadtest_reap_stale() == 1
    old.refresh_from_db()
    assert old.status == LoadTestStatus.FAILED and old.finished_at
    assert old.stopped_reason == "no worker took it" and "-Q host.<name>" in old.error
    assert LoadTest.objects.get(pk=recent.pk).status == LoadTestStatus.QUEUED
    # The task, should a worker get it after all, finds the row no longer queued: it runs nothing.
    assert loadtests.loadtest_run(load_test_id=old.pk).status == LoadTestStatus.FAILED


def test_the_reap_task_runs_the_reaper():
    from advisor.tasks.loadtests import reap_load_tests

    row = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    LoadTest.objects.filter(pk=row.pk).update(
        status=LoadTestStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    assert reap_load_tests.apply().get() == 1
    assert LoadTest.objects.get(pk=row.pk).status == LoadTestStatus.FAILED


def test_it_fails_with_the_reason_when_the_policy_changed_before_the_run(settings):
    row = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    settings.ADVISOR_LOADTEST_ALLOWED_HOSTS = ["10.0.0.0/8"]
    row = loadtests.loadtest_run(load_test_id=row.pk)
    assert row.status == LoadTestStatus.FAILED
    assert "ADVISOR_LOADTEST_ALLOWED_HOSTS" in row.error


def test_it_fails_with_the_reason_when_nothing_answers(unused_port):
    row = loadtests.loadtest_create(config=config(f"http://127.0.0.1:{unused_port}"), enqueue=False)
    row = loadtests.loadtest_run(load_test_id=row.pk)
    assert row.status == LoadTestStatus.FAILED
    assert "cannot connect" in row.error


def test_it_sends_the_api_key_from_the_task_message_and_keeps_it_nowhere():
    with ScriptedServer(ttft_s=0.01, tokens=2) as server:
        row = loadtests.loadtest_create(
            config=config(server.url, api_key="sk-run-only"), enqueue=False
        )
        row = loadtests.loadtest_run(load_test_id=row.pk, api_key="sk-run-only")
        sent = {entry.authorization for entry in server.log}
    assert row.status == LoadTestStatus.SUCCEEDED, row.error
    assert sent == {"Bearer sk-run-only"}
    assert "sk-run-only" not in str(LoadTest.objects.filter(pk=row.pk).values().get())


def test_a_run_where_no_request_succeeded_is_failed_with_the_errors_by_kind():
    """Every request answered 302: not "succeeded" with 0% success, but failed, saying why."""
    with ScriptedServer(tokens=2) as server:
        server.push_faults(*[Fault.REDIRECT] * 20)
        row = loadtests.loadtest_create(
            config=config(server.url, warmup=0, early_stop=False), enqueue=False
        )
        row = loadtests.loadtest_run(load_test_id=row.pk)
    assert row.status == LoadTestStatus.FAILED
    assert row.error == "none of the 8 requests succeeded (http_302: 8)"
    assert [level["errors"] for level in row.result["levels"]] == [{"http_302": 4}] * 2


def test_the_task_refuses_a_stored_config_past_the_bounds():
    """The worker builds the config again: a row edited past the core's bounds never runs."""
    row = loadtests.loadtest_create(config=config("http://127.0.0.1:9"), enqueue=False)
    LoadTest.objects.filter(pk=row.pk).update(config={**row.config, "prompt_tokens": 10**12})
    row = loadtests.loadtest_run(load_test_id=row.pk)
    assert row.status == LoadTestStatus.FAILED
    assert row.stopped_reason == "refused"
    assert "prompt tokens must be between 1 and 131072" in row.error


def test_it_records_the_target_hosts_probe_over_what_the_user_states():
    """A stored probe of the host the server runs on says what it ran on; a statement fills in
    only when no probe does, and then is labelled as stated."""
    stated = {"gpu": "h100", "gpu_count": 2, "quantization": "fp8"}
    row = loadtests.loadtest_create(
        config=config("http://127.0.0.1:9"), stated=stated, enqueue=False
    )
    assert row.measured_on == {
        "gpu": "h100-sxm-80gb", "gpu_count": 2, "model": "test-model", "quantization": "fp8",
        "source": "stated", "label": "2x NVIDIA H100 SXM 80GB, test-model, fp8 quantization; stated",
    }  # fmt: skip
    HardwareReport.objects.create(
        source=HardwareSource.LOCAL, host_name="here", report={"gpus": [], "servers": []}
    )
    probed = loadtests.loadtest_create(
        config=config("http://127.0.0.1:9"), stated=stated, enqueue=False
    )
    assert (probed.measured_on["source"], probed.measured_on["gpu"]) == ("probe", None)
    assert probed.measured_on["quantization"] == "fp8"  # the probe cannot tell; the user can


def test_it_reads_a_remote_server_from_the_report_that_found_it():
    report = {"gpus": H100_REPORT["gpus"][:2],
              "servers": [{"kind": "vllm", "base_url": "http://10.0.0.7:8000", "models": []}]}  # fmt: skip
    HardwareReport.objects.create(source=HardwareSource.UPLOAD, host_name="gpu-7", report=report)
    found = loadtest_measured_on(
        owner_id=None, visitor="", config=LoadTestConfig.parse(config("http://10.0.0.7:8000/v1")),
        queue="",
    )  # fmt: skip
    assert (found.setup.gpu, found.setup.gpu_count) == ("h100-sxm-80gb", 2)
    elsewhere = loadtest_measured_on(
        owner_id=None, visitor="", config=LoadTestConfig.parse(config("http://10.0.0.8:8000")),
        queue="",
    )  # fmt: skip
    assert elsewhere is None  # nothing says what that host has: unknown hardware


def test_it_states_the_assessments_hardware_for_a_test_started_for_it():
    assessment = Assessment.objects.create(answers={"gpu": "a100-sxm-80gb", "gpu_count": 2})
    row = loadtests.loadtest_create(
        config=config("http://127.0.0.1:9"), assessment=assessment, enqueue=False
    )
    assert list(assessment.load_tests.all()) == [row]
    assert (row.measured_on["gpu"], row.measured_on["gpu_count"]) == ("a100-sxm-80gb", 2)
    assert row.measured_on["source"] == "stated"


@pytest.mark.parametrize(
    ("stated", "field"),
    [
        ({"gpu": "h999", "gpu_count": 1}, "measured_on.gpu"),
        ({"gpu": "h100", "quantization": "q9_z"}, "measured_on.quantization"),
        ({"gpu": "h100", "gpu_count": -1}, "measured_on.gpu_count"),
    ],
)
def test_it_refuses_a_bad_statement_naming_the_field(stated, field):
    with pytest.raises(AdvisorError) as info:
        loadtests.loadtest_create(config=config("http://127.0.0.1:9"), stated=stated, enqueue=False)
    assert info.value.field == field
    assert not LoadTest.objects.exists()
