"""run_probes: every probe answers with a status, whatever it does."""

import threading
import time

from probes.base import Outcome, Status, run_probes


def test_it_collects_ok_and_absent_outcomes_with_durations():
    results = run_probes(
        {"a": lambda: Outcome.ok({"x": 1}, "fine"), "b": lambda: Outcome.absent("not here")}
    )
    assert [results["a"].status, results["b"].status] == [Status.OK, Status.ABSENT]
    assert results["a"].data == {"x": 1}
    assert results["a"].summary()["duration_ms"] >= 0


def test_it_turns_an_exception_into_an_error_with_its_message():
    def broken():
        raise RuntimeError("driver exploded")

    result = run_probes({"broken": broken})["broken"]
    assert result.status == Status.ERROR
    assert "driver exploded" in result.detail


def test_it_turns_a_wrong_return_type_into_an_error():
    result = run_probes({"odd": lambda: {"status": "ok"}})["odd"]
    assert result.status == Status.ERROR
    assert "not an Outcome" in result.detail


def test_it_gives_up_on_a_hung_probe_and_does_not_start_it_again_while_hung():
    release = threading.Event()
    starts = []

    def hangs():
        starts.append(1)
        release.wait(30)
        return Outcome.ok({})

    try:
        begin = time.perf_counter()
        first = run_probes({"hangs": hangs, "quick": lambda: Outcome.ok({})}, timeout_s=0.2)
        elapsed = time.perf_counter() - begin
        assert first["hangs"].status == Status.ERROR
        assert "timed out" in first["hangs"].detail
        assert first["quick"].status == Status.OK
        assert elapsed < 2.0

        second = run_probes({"hangs": hangs}, timeout_s=0.2)
        assert "still hung" in second["hangs"].detail
        assert len(starts) == 1
    finally:
        release.set()
