"""Prompts: bounded in size whatever asks, built as each request leaves (not a level's worth in
advance), the same for the same seed."""

import pytest

from advisor.loadtest import LoadShape, LoadTestConfig, run_load_test
from advisor.loadtest import prompts as prompts_module
from advisor.loadtest.config import BOUNDS
from advisor.loadtest.prompts import PromptSource, synthetic_prompt
from advisor.loadtest.testserver import ScriptedServer


@pytest.mark.parametrize("tokens", [0, BOUNDS["prompt_tokens"].high + 1, 10**12])
def test_a_synthetic_prompt_past_the_bounds_is_refused_before_it_is_built(tokens):
    with pytest.raises(ValueError, match="prompt tokens must be between"):
        synthetic_prompt(0, tokens=tokens, seed=0)


def test_the_same_seed_gives_the_same_prompts():
    first = PromptSource(prompts=(), tokens=50, seed=7)
    second = PromptSource(prompts=(), tokens=50, seed=7)
    assert [first.get(i) for i in range(3)] == [second.get(i) for i in range(3)]
    assert len(first.get(0).split()) == 3 + 46  # "Continue this text:" and tokens - 4 words


@pytest.mark.parametrize(
    ("shape", "most_held"),
    [
        ({"concurrency": (2,)}, 3),  # two users: two in flight and the one being built
        # Poisson: as many as are in flight, which a stalled machine may let grow; built in
        # advance, all 40 would be held before the server saw the first.
        ({"shape": LoadShape.POISSON, "rate": 100.0}, 39),
    ],
)
def test_the_engine_builds_each_prompt_as_its_request_leaves(monkeypatch, shape, most_held):
    """Prompts held at once follow the requests in flight, whatever the number of requests in
    the level: built one by one as they leave, not a level's worth in advance."""
    built_before_sent = []
    with ScriptedServer(tokens=1) as server:
        original = prompts_module.synthetic_prompt

        def counting(index, *, tokens, seed):
            built_before_sent.append(index + 1 - len(server.log))  # built, not yet received
            return original(index, tokens=tokens, seed=seed)

        monkeypatch.setattr(prompts_module, "synthetic_prompt", counting)
        config = LoadTestConfig(
            base_url=server.url,
            model=server.model,
            warmup=0,
            max_tokens=1,
            requests_per_level=40,
            **shape,
        )
        result = run_load_test(config)
    assert result.levels[0].succeeded == 40
    assert len(built_before_sent) == 40
    assert max(built_before_sent) <= most_held
