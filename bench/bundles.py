"""Benchmark: how long building a deployment bundle (and its zip) takes. Target: < 100 ms.

Run: .venv/bin/python bench/bundles.py [--repeat N]
Prints, per scenario, the median and worst time of build_bundle() and of build + to_zip(), and
the zip size. Figures are compared within one run on one machine; no assertion is made here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.bundles import build_bundle  # noqa: E402
from tests.bundles.factories import SCENARIOS, scenario  # noqa: E402

TARGET_MS = 100.0  # building a bundle takes under 100 ms (a page shows its files)


def _time(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    rec, est, ans = scenario("vllm-h100")
    build_bundle(rec, est, ans).to_zip()  # warm: imports, table loads, catalog
    print(
        f"{'scenario':<24} {'files':>5} {'build p50':>10} {'build max':>10} {'+zip p50':>10} {'zip KiB':>8}"
    )
    worst = 0.0
    for name in SCENARIOS:
        rec, est, ans = scenario(name)
        bundle = build_bundle(rec, est, ans)
        build = _time(lambda rec=rec, est=est, ans=ans: build_bundle(rec, est, ans), args.repeat)
        full = _time(
            lambda rec=rec, est=est, ans=ans: build_bundle(rec, est, ans).to_zip(), args.repeat
        )
        size = len(bundle.to_zip()) / 1024
        worst = max(worst, statistics.median(full))
        print(
            f"{name:<24} {len(bundle.files):>5} {statistics.median(build):>8.2f}ms "
            f"{max(build):>8.2f}ms {statistics.median(full):>8.2f}ms {size:>8.1f}"
        )
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(f"worst median build+zip: {worst:.2f} ms ({verdict} the {TARGET_MS:.0f} ms target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
