"""How long one capacity estimate takes (cold catalog load, then warm estimates).

Run: .venv/bin/python bench/capacity.py [--repeat N]
Prints figures only; compare them as ratios within one run (the machine is shared).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.capacity import catalog  # noqa: E402
from advisor.capacity.estimate import EstimateRequest, estimate  # noqa: E402

CASES = [
    {"model": "llama3.1:8b", "gpu": "NVIDIA H100 80GB HBM3", "gpu_count": 1},
    {"model": "llama-3.1-70b", "gpu": "h100", "gpu_count": 8},
    {"model": "gemma3:270m", "gpu": "NVIDIA GeForce RTX 4090", "gpu_count": 1},
    {"model": "deepseek-r1", "gpu": "mi300x", "gpu_count": 8, "concurrency": (1, 8, 32, 128)},
    {"model": "qwen3:30b", "gpu": "Apple M3 Max", "gpu_count": 1},
    {"model": "llama3.2:3b", "gpu_count": 0},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    start = time.perf_counter()
    catalog.list_models(), catalog.list_gpus(), catalog.list_quantizations()
    catalog.resolve_model("llama3.1:8b"), catalog.resolve_gpu("h100")
    cold_ms = (time.perf_counter() - start) * 1000
    print(f"catalog cold load (3 YAML files + indexes): {cold_ms:.1f} ms")

    requests = [EstimateRequest(**case) for case in CASES]
    timings: list[float] = []
    for _ in range(args.repeat):
        for request in requests:
            begin = time.perf_counter()
            estimate(request).as_dict()
            timings.append((time.perf_counter() - begin) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"estimate + as_dict, {len(timings)} runs over {len(CASES)} cases:")
    print(
        f"  mean {statistics.mean(timings):.3f} ms  p50 {statistics.median(timings):.3f} ms  "
        f"p95 {p95:.3f} ms  max {timings[-1]:.3f} ms"
    )
    print(f"  throughput {1000 / statistics.mean(timings):.0f} estimates/s on one core")

    begin = time.perf_counter()
    for _ in range(args.repeat):
        for name in ("NVIDIA H100 80GB HBM3", "Tesla T4", "Apple M3 Max", "AMD Instinct MI300X"):
            catalog.resolve_gpu(name)
    per_lookup_us = (time.perf_counter() - begin) / (args.repeat * 4) * 1e6
    print(f"resolve_gpu (warm): {per_lookup_us:.2f} us per lookup")


if __name__ == "__main__":
    main()
