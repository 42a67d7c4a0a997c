"""Where each of 8 simultaneous requests gets its first token, request by request.

The task stores percentiles only, so this runs the load-test engine directly to keep each
request's timings: 8 users, one wave. llama.cpp answers them one after another (first tokens
about one whole answer apart); vLLM starts them all together (first tokens within one step or two).
"""

from __future__ import annotations

import statistics

import pytest

from advisor.loadtest import LoadTestConfig, run_load_test
from tests.engines.conftest import LLAMACPP, MODEL, VLLM

pytestmark = pytest.mark.engines

USERS = 8


def one_wave(url: str) -> list:
    """8 requests sent at once; their outcomes in the order they were sent."""
    result = run_load_test(
        LoadTestConfig(
            base_url=url,
            model=MODEL,
            concurrency=(USERS,),
            requests_per_level=USERS,
            warmup=1,
            max_tokens=24,
            prompt_tokens=64,
            seed=11,
        )
    )
    outcomes = sorted(result.levels[0].outcomes, key=lambda o: o.start)
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return outcomes


def decode_time(outcomes) -> float:
    """The median time from a request's first token to its last."""
    return statistics.median(o.latency - o.ttft for o in outcomes)


def test_it_sees_llamacpp_first_tokens_one_answer_apart(engines):
    outcomes = one_wave(LLAMACPP.url)
    first_tokens = sorted(o.ttft for o in outcomes)
    gaps = [b - a for a, b in zip(first_tokens, first_tokens[1:], strict=False)]
    # Each next request starts only when the one before has finished its whole answer.
    assert min(gaps) > 0.5 * decode_time(outcomes), (first_tokens, decode_time(outcomes))
    assert first_tokens[-1] > (USERS - 2) * decode_time(outcomes)


def test_it_sees_vllm_start_all_eight_together(engines):
    outcomes = one_wave(VLLM.url)
    first_tokens = sorted(o.ttft for o in outcomes)
    # All 8 get their first token within one answer's decode time: nobody waits for another's
    # whole answer (llama.cpp's are about USERS - 1 answers apart). The first request to arrive
    # may run a step alone before the others join the batch (seen: 0.16 s, then 7 at 0.83 s with
    # answers of 1.31 s), so the bound is one answer, not a fraction of one.
    assert first_tokens[-1] - first_tokens[0] < decode_time(outcomes), first_tokens
