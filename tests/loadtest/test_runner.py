"""Whole runs against the scripted loopback server: disciplines, shapes, early stops, cancel."""

import threading
import time

import pytest

from advisor.errors import AdvisorError
from advisor.loadtest import LoadShape, LoadTestConfig, StopCode, run_load_test
from advisor.loadtest.discovery import ServerKind
from advisor.loadtest.testserver import Discipline, Fault, ScriptedServer


def config_for(server: ScriptedServer, **overrides) -> LoadTestConfig:
    values = {"base_url": server.url, "model": server.model, "warmup": 0, "max_tokens": 4}
    values.update(overrides)
    return LoadTestConfig(**values)


@pytest.mark.slow
def test_it_shows_batching_vs_one_at_a_time_for_8_one_second_requests():
    durations = {}
    for discipline in (Discipline.ALL_AT_ONCE, Discipline.ONE_AT_A_TIME):
        with ScriptedServer(discipline=discipline, ttft_s=0.1, itl_s=0.1, tokens=10) as server:
            result = run_load_test(config_for(server, concurrency=(8,), requests_per_level=8))
        durations[discipline] = result.levels[0].duration_s
        assert result.levels[0].succeeded == 8
    assert 0.95 < durations[Discipline.ALL_AT_ONCE] < 1.6
    assert 7.9 < durations[Discipline.ONE_AT_A_TIME] < 9.5


def test_it_counts_every_error_kind_and_finishes_the_run():
    faults = [
        Fault.HTTP_500,
        Fault.HTTP_429,
        Fault.CUT_SHORT,
        Fault.MALFORMED,
        Fault.STREAM_ERROR,
        Fault.REDIRECT,
        Fault.HANG,
    ]
    with ScriptedServer(tokens=4) as server:
        server.push_faults(*faults)
        result = run_load_test(
            config_for(server, concurrency=(4,), requests_per_level=10, request_timeout_s=0.5)
        )
    level = result.levels[0]
    assert level.requests == 10
    assert level.succeeded == 3
    assert level.errors == {
        "http_302": 1,
        "http_429": 1,
        "http_500": 1,
        "malformed_chunk": 1,
        "stream_cut_short": 1,
        "stream_error": 1,
        "timeout": 1,
    }
    assert result.stop_code is StopCode.LOW_SUCCESS


def test_it_counts_ollama_queue_full_as_server_busy():
    with ScriptedServer(kind=ServerKind.OLLAMA, tokens=3) as server:
        server.push_faults(Fault.SERVER_BUSY, Fault.SERVER_BUSY)
        result = run_load_test(config_for(server, concurrency=(2,), requests_per_level=4))
    assert result.target.kind is ServerKind.OLLAMA
    assert result.levels[0].errors == {"server_busy": 2}


def test_it_stops_a_sweep_when_latency_collapses():
    # One at a time, 20 ms each: p95 E2E is ~20 ms alone and ~600 ms with 32 waiting (30x).
    with ScriptedServer(discipline=Discipline.ONE_AT_A_TIME, ttft_s=0.02, tokens=1) as server:
        result = run_load_test(config_for(server, concurrency=(1, 32, 64), requests_per_level=32))
    assert result.stop_code is StopCode.LATENCY_COLLAPSE, result.stopped_reason
    assert [level.concurrency for level in result.levels] == [1, 32]
    assert "latency collapse" in result.stopped_reason


def test_it_runs_poisson_arrivals_at_the_asked_rate():
    with ScriptedServer(tokens=2) as server:
        result = run_load_test(
            config_for(server, shape=LoadShape.POISSON, rate=40.0, requests_per_level=20)
        )
    level = result.levels[0]
    assert level.concurrency is None and level.request_rate == 40.0
    assert level.succeeded == 20
    # vLLM rescales the gaps so the last arrival lands at n / rate = 0.5 s.
    assert 0.45 < level.duration_s < 0.9


def test_it_finds_the_highest_concurrency_meeting_the_slo():
    # One request at a time, 50 ms each: at concurrency c the p95 E2E is about c x 50 ms, so an
    # SLO of 175 ms passes at 3 (150) and fails at 4 (200); 20 requests allow one hiccup (95%).
    with ScriptedServer(discipline=Discipline.ONE_AT_A_TIME, ttft_s=0.05, tokens=1) as server:
        result = run_load_test(
            config_for(
                server,
                shape=LoadShape.SLO_SEARCH,
                concurrency=(1, 16),
                requests_per_level=20,
                slo_e2e_ms=175,
            )
        )
    seen = [(lv.concurrency, round(lv.e2el_ms.p95), lv.slo_attainment) for lv in result.levels]
    assert [level.concurrency for level in result.levels] == [1, 2, 4, 3], seen
    assert result.max_concurrency_meeting_slos == 3
    assert "highest concurrency meeting the SLOs: 3" in result.stopped_reason


def test_it_cancels_within_two_seconds_keeping_finished_requests():
    cancel_at = {}

    def should_cancel() -> bool:
        return time.perf_counter() >= cancel_at["t"]

    with ScriptedServer(ttft_s=0.05, itl_s=0.05, tokens=4) as server:
        cancel_at["t"] = time.perf_counter() + 0.8
        result = run_load_test(
            config_for(server, concurrency=(2, 4), requests_per_level=200),
            should_cancel=should_cancel,
        )
        stopped = time.perf_counter()
    assert stopped - cancel_at["t"] < 2.0
    assert result.stop_code is StopCode.CANCELLED
    level = result.levels[0]
    assert level.partial
    assert 0 < level.succeeded < 200


def test_it_reports_progress_at_least_once_a_second():
    seen = []
    with ScriptedServer(ttft_s=0.05, tokens=1) as server:
        run_load_test(
            config_for(server, concurrency=(1,), requests_per_level=30),
            on_progress=lambda p: seen.append((time.perf_counter(), p)),
        )
    gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:], strict=False)]
    assert len(seen) >= 3 and max(gaps) < 1.0
    assert seen[-1][1].phase == "done" and len(seen[-1][1].levels) == 1


def test_it_stops_at_the_duration_budget():
    with ScriptedServer(ttft_s=0.05, tokens=1) as server:
        result = run_load_test(
            config_for(server, concurrency=(1, 2), requests_per_level=500, max_duration_s=0.5)
        )
    assert result.stop_code is StopCode.TIME_BUDGET
    assert result.duration_s < 1.5
    assert len(result.levels) == 1 and result.levels[0].partial
    assert 0 < result.levels[0].requests < 500


def test_it_runs_a_level_for_a_duration():
    with ScriptedServer(ttft_s=0.02, tokens=1) as server:
        result = run_load_test(config_for(server, concurrency=(2,), duration_s=0.4))
    level = result.levels[0]
    assert 10 < level.succeeded < 50
    assert not level.partial


def test_it_refuses_a_model_the_server_does_not_serve():
    with ScriptedServer() as server, pytest.raises(AdvisorError) as caught:
        run_load_test(config_for(server, model="no-such-model"))
    assert caught.value.field == "model"
    assert "test-model" in caught.value.message


def test_it_says_when_nothing_answers(unused_port):
    config = LoadTestConfig(base_url=f"http://127.0.0.1:{unused_port}", model="m")
    with pytest.raises(AdvisorError) as caught:
        run_load_test(config)
    assert caught.value.field == "base_url"


def test_it_stops_when_every_warmup_request_fails():
    with ScriptedServer() as server:
        server.push_faults(Fault.HTTP_500, Fault.HTTP_500)
        result = run_load_test(config_for(server, warmup=2, concurrency=(2,)))
    assert result.stop_code is StopCode.WARMUP_FAILED
    assert result.levels == []


def test_it_propagates_a_failing_progress_callback_after_stopping_the_engine():
    def boom(progress):
        raise RuntimeError("database gone")

    before = threading.active_count()
    with ScriptedServer(ttft_s=0.05, tokens=1) as server, pytest.raises(RuntimeError):
        run_load_test(config_for(server, requests_per_level=50), on_progress=boom)
    assert threading.active_count() == before


def test_two_runs_at_once_in_one_process_do_not_share_read_state():
    """A worker with a thread pool runs several load tests at once, each engine on its own thread
    and loop: every request of both still parses (they once shared the wire client's buffer)."""
    results = {}
    with (
        ScriptedServer(kind=ServerKind.VLLM, ttft_s=0.005, itl_s=0.002, tokens=30) as vllm,
        ScriptedServer(kind=ServerKind.OLLAMA, ttft_s=0.005, itl_s=0.002, tokens=30) as ollama,
    ):

        def run(name, server):
            results[name] = run_load_test(
                config_for(server, concurrency=(8,), requests_per_level=48, max_tokens=30)
            )

        threads = [
            threading.Thread(target=run, args=(name, server))
            for name, server in (("vllm", vllm), ("ollama", ollama))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    for name, result in results.items():
        level = result.levels[0]
        assert level.succeeded == 48, (name, level.errors)
        assert level.total_output_tokens == 48 * 30
    assert set(results) == {"vllm", "ollama"}


def test_a_whole_run_over_https_uses_the_same_client_and_clock(tls_pair):
    """Discovery, signals and the load over https: every request succeeds and is timed."""
    server_tls, client_tls = tls_pair
    with ScriptedServer(kind=ServerKind.VLLM, ttft_s=0.02, tokens=3, tls=server_tls) as server:
        result = run_load_test(
            config_for(server, concurrency=(1, 2), requests_per_level=4), tls=client_tls
        )
    assert result.target.kind is ServerKind.VLLM
    assert [level.succeeded for level in result.levels] == [4, 4]
    assert all(level.ttft_ms.p50 > 0 for level in result.levels)
