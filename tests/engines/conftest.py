"""The real engines started by `make engines`: where they are, and whether they are up.

Outside CI the `engines` tests skip when an engine does not answer; under CI=true they fail, since
`.ci/run` starts the engines before the tests.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = os.environ.get("ADVISOR_ENGINES_HOST", "127.0.0.1")
MODEL = os.environ.get("ADVISOR_ENGINES_MODEL", "gemma3-270m")
CACHE = Path(
    os.environ.get(
        "ADVISOR_ENGINES_CACHE", Path.home() / ".cache" / "llm-serving-advisor" / "engines"
    )
)


def code_path() -> str:
    """The CPU code path vLLM runs on: ``avx512`` or ``avx2``.

    engines/start.sh records it (ADVISOR_ENGINES_ISA, or this CPU's best) in the cache's run/
    folder; without that record, this CPU's own flags decide as start.sh would.
    """
    recorded = CACHE / "run" / "vllm.isa"
    if recorded.exists():
        return recorded.read_text().strip()
    try:
        flags = next(
            line
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        ).split()
    except (OSError, StopIteration):
        return "unknown"
    avx512 = {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"}
    return "avx512" if avx512 <= set(flags) else "avx2"


# llama-cpp-python answers /v1/models only between generations (it takes the model's lock), so a
# busy engine can take a whole answer to reply; a stopped one refuses at once.
ANSWER_TIMEOUT_S = 60


@dataclass(frozen=True)
class EngineUnderTest:
    name: str  # llamacpp | vllm: the kind discovery must report
    url: str

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=ANSWER_TIMEOUT_S) as response:
            return json.load(response)

    def post_json(self, path: str, body: dict, timeout_s: float = 120) -> dict:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.load(response)

    def get_text(self, path: str) -> str:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=ANSWER_TIMEOUT_S) as response:
            return response.read().decode()


LLAMACPP = EngineUnderTest(
    "llamacpp", f"http://{HOST}:{os.environ.get('ADVISOR_LLAMACPP_PORT', '11435')}"
)
VLLM = EngineUnderTest("vllm", f"http://{HOST}:{os.environ.get('ADVISOR_VLLM_PORT', '8001')}")
ENGINES = (LLAMACPP, VLLM)


def _serves_model(engine: EngineUnderTest) -> str | None:
    """None when ``engine`` answers and serves MODEL, else why not."""
    try:
        served = [m.get("id") for m in engine.get_json("/v1/models").get("data") or []]
    except (OSError, ValueError) as exc:
        return f"{engine.name} at {engine.url} does not answer ({exc})"
    if MODEL not in served:
        return f"{engine.name} at {engine.url} serves {served}, not {MODEL}"
    return None


@pytest.fixture(scope="session")
def engines() -> tuple[EngineUnderTest, ...]:
    """Both engines, up; skips (fails under CI=true) when either is not."""
    problems = [p for p in map(_serves_model, ENGINES) if p]
    if problems:
        message = "; ".join(problems) + " (start them with `make engines`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the engines must be up under CI: {message}")
        pytest.skip(message)
    return ENGINES
