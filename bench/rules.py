"""Benchmark: how long a verdict takes, split into building the facts and running the rules.

No target is set; the figure that matters is that a recommendation is interactive
(well under a second) for the UI, the API and the CLI, including the "what would fit" search.

Run: .venv/bin/python bench/rules.py [--repeat N]
Prints, per scenario of tests/rules/test_scenarios.py, the median and worst milliseconds of
``facts_build`` (capacity estimates included) and of ``recommend`` (every rule, the flip-point
search and the what-if triggers). Compare figures within one run; nothing is asserted here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.rules.answers import Answers  # noqa: E402
from advisor.rules.assemble import facts_build  # noqa: E402
from advisor.rules.recommend import recommend  # noqa: E402
from tests.rules.test_scenarios import SCENARIOS  # noqa: E402


def _time(fn, repeat: int) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"{'scenario':46} {'facts med':>9} {'max':>7} {'rules med':>9} {'max':>7}  verdict")
    totals = []
    for name, answers, load_tests, *_ in SCENARIOS:
        parsed = Answers.parse(answers)
        build, facts = _time(
            lambda a=parsed, lt=load_tests: facts_build(a, load_tests=lt), args.repeat
        )
        decide, rec = _time(lambda f=facts: recommend(f), args.repeat)
        totals.append(statistics.median(build) + statistics.median(decide))
        print(
            f"{name[:46]:46} {statistics.median(build):9.1f} {max(build):7.1f} "
            f"{statistics.median(decide):9.1f} {max(decide):7.1f}  {rec.backend.label} "
            f"({rec.confidence:.0%})"
        )
    print(
        f"median total per verdict: {statistics.median(totals):.1f} ms; worst scenario {max(totals):.1f} ms"
    )


if __name__ == "__main__":
    main()
