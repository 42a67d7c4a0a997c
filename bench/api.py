"""Benchmark: ``POST /api/v1/recommendations/`` against a minimal Django JSON view, side by side.

The original target: under gunicorn on this machine, the recommendation endpoint sustains at least
half the requests per second of a minimal Django JSON view on the same server (same middleware,
same workers, measured in one run), with p50 under 20 ms at 8 concurrent clients.

Run: .venv/bin/python bench/api.py [--seconds 10] [--clients 8] [--workers 3]
                                   [--database-url postgres://postgres@127.0.0.1:5432/advisor_bench]
It migrates a fresh database (SQLite in a temporary folder unless --database-url), creates a user
and an API token with ``manage.py apitoken``, starts gunicorn on 127.0.0.1 (a free port), warms
the endpoints up, then runs them in turn (minimal, two DRF baselines, recommendation, estimate;
twice) with ``--clients`` concurrent aiohttp clients for ``--seconds`` each, and prints req/s and
latency percentiles per endpoint plus the ratios. The baselines (``bench/api_site.py``) place the
target: ``POST /bench/drf-bare`` is DRF reading and answering JSON with no work,
``POST /bench/drf-noop`` the same behind the recommendation endpoint's token authentication and
throttle, the most any endpoint of this API can sustain. ``POST /api/v1/estimates/`` (token,
validation, the capacity model, no rules engine, no database write) sits between.
Every request goes to loopback only.

The recommendation bodies are ``--bodies`` distinct questionnaires drawn from a fixed seed
(``questionnaires``), handed out in turn to all clients and rounds: no body repeats within a run
of the defaults, so no cache anywhere could serve one. ``--four-bodies`` cycles the four
questionnaires earlier runs used instead, to compare with their figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
# The four questionnaires the earlier runs cycled (--four-bodies).
BODIES = [
    {
        "use_case": "production",
        "peak_concurrent_users": users,
        "model": model,
        "gpu": gpu,
        "gpu_count": 1,
    }
    for users, model, gpu in [
        (40, "llama-3.1-8b", "h100"),
        (4, "qwen2.5-7b", "rtx-4090"),
        (120, "llama-3.1-8b", "a100-80gb"),
        (1, "llama-3.1-8b", "l4"),
    ]
]


# What the drawn questionnaires pick from: the four bodies' models and GPUs plus their neighbours
# (7B-14B models, data-centre and consumer GPUs); some combinations do not fit and make the rules
# search for what would.
MODELS = ["llama-3.1-8b", "qwen2.5-7b", "qwen3-8b", "mistral-7b", "gemma-2-9b", "llama-3.2-3b",
          "phi-4", "qwen2.5-14b"]  # fmt: skip
GPUS = ["h100", "a100-80gb", "l4", "rtx-4090", "l40s", "a10g", "h200-141gb"]
SEED = 20261125


def questionnaires(count: int, seed: int = SEED) -> list[dict]:
    """``count`` distinct, valid questionnaires drawn from ``seed`` (the same list every run)."""
    rng = random.Random(seed)
    drawn: dict[str, dict] = {}
    while len(drawn) < count:
        body = {
            "use_case": rng.choice(["prototype", "internal", "production"]),
            "peak_concurrent_users": rng.randint(1, 200),
            "model": rng.choice(MODELS),
            "gpu": rng.choice(GPUS),
            "gpu_count": rng.choice([1, 1, 1, 2]),
            "context_length": rng.choice([2048, 4096, 8192]),
            "deployment_target": rng.choice(["workstation", "server", "kubernetes"]),
            "team_skills": rng.sample(["python", "docker", "kubernetes"], rng.randint(0, 3)),
        }
        if rng.random() < 0.3:
            body["features"] = rng.sample(["metrics", "structured_output", "kubernetes"], 1)
        drawn.setdefault(repr(sorted(body.items())), body)
    return list(drawn.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


async def hammer(
    url: str, *, clients: int, seconds: float, token: str | None, bodies: Iterator[dict]
) -> dict:
    """``clients`` loops sending requests back to back for ``seconds``; latencies in ms. POSTs
    take the next body from ``bodies``, shared by the clients."""
    latencies: list[float] = []
    failures: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connector = aiohttp.TCPConnector(limit=clients, force_close=True)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def client() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                request = session.post(url, json=next(bodies)) if token else session.get(url)
                async with request as response:
                    await response.read()
                    status = response.status
                if status in (200, 201):
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    failures[status] = failures.get(status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return {
        "requests": len(latencies),
        "failures": failures,
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p90": pct(0.90),
        "p99": pct(0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--bodies", type=int, default=20_000, help="distinct questionnaires")
    parser.add_argument("--four-bodies", action="store_true", help="cycle the four old ones")
    args = parser.parse_args()
    bodies = BODIES if args.four_bodies else questionnaires(args.bodies)

    var = tempfile.mkdtemp(prefix="advisor-bench-api-")
    env = {
        **os.environ,
        "ADVISOR_VAR_DIR": var,
        "DJANGO_SETTINGS_MODULE": "advisor.settings",
        "DATABASE_URL": args.database_url,
        "ADVISOR_THROTTLE_RECOMMENDATIONS": "1000000/min",  # measure the endpoint, not the limiter
        "LOG_LEVEL": "WARNING",  # one log line per request would be measured too
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
    }
    manage(env, "migrate", "--noinput")
    token = manage(env, "apitoken", "create", "--user", "bench", "--name", "bench", "--create-user")
    port = free_port()
    server = subprocess.Popen(
        [GUNICORN, "api_site:application", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        minimal_url = f"{base}/bench/minimal"
        noop_url = f"{base}/bench/drf-noop"
        bare_url = f"{base}/bench/drf-bare"
        api_url = f"{base}/api/v1/recommendations/"
        estimates_url = f"{base}/api/v1/estimates/"
        estimate_bodies = [{k: b[k] for k in ("model", "gpu", "gpu_count")} for b in bodies]
        # One stream of bodies per endpoint, across the warm-up and both rounds.
        api_bodies, estimate_stream = itertools.cycle(bodies), itertools.cycle(estimate_bodies)
        rounds = {
            "minimal": lambda s: hammer(
                minimal_url, clients=args.clients, seconds=s, token=None, bodies=iter(())
            ),
            "drf_bare": lambda s: hammer(
                bare_url, clients=args.clients, seconds=s, token=token, bodies=api_bodies
            ),
            "drf_noop": lambda s: hammer(
                noop_url, clients=args.clients, seconds=s, token=token, bodies=api_bodies
            ),
            "recommendations": lambda s: hammer(
                api_url, clients=args.clients, seconds=s, token=token, bodies=api_bodies
            ),
            "estimates": lambda s: hammer(
                estimates_url, clients=args.clients, seconds=s, token=token, bodies=estimate_stream
            ),
        }
        for make in rounds.values():
            asyncio.run(make(2))  # warm-up
        results: dict[str, list[dict]] = {name: [] for name in rounds}
        for _ in range(2):
            for name, make in rounds.items():
                results[name].append(asyncio.run(make(args.seconds)))
    finally:
        server.terminate()
        server.wait(timeout=10)

    db = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(
        f"gunicorn {args.workers} sync workers, {args.clients} concurrent clients, {db}, "
        f"{os.cpu_count()} CPUs, {args.seconds:g} s per round, 2 rounds each (in turn), "
        + ("the four old bodies" if args.four_bodies else f"{len(bodies)} distinct questionnaires")
    )
    print(f"{'endpoint':<36}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}  failures")
    summary = {}
    labels = {
        "minimal": "GET /bench/minimal (JSON view)",
        "drf_bare": "POST /bench/drf-bare (DRF alone)",
        "drf_noop": "POST /bench/drf-noop (+auth,throttle)",
        "recommendations": "POST /api/v1/recommendations/",
        "estimates": "POST /api/v1/estimates/",
    }
    for name, label in labels.items():
        rounds = results[name]
        rps = statistics.mean(r["rps"] for r in rounds)
        p50 = statistics.mean(r["p50"] for r in rounds)
        summary[name] = (rps, p50)
        failures = {}
        for r in rounds:
            for code, n in r["failures"].items():
                failures[code] = failures.get(code, 0) + n
        print(
            f"{label:<36}{rps:8.1f}{p50:9.2f}{statistics.mean(r['p90'] for r in rounds):9.2f}"
            f"{statistics.mean(r['p99'] for r in rounds):9.2f}  {failures or 'none'}"
        )
    ratio = summary["recommendations"][0] / summary["minimal"][0]
    print(f"ratio recommendations/minimal req/s: {ratio:.2f} (target >= 0.50)")
    print(f"recommendations p50: {summary['recommendations'][1]:.2f} ms (target < 20 ms)")
    ratio = summary["drf_bare"][0] / summary["minimal"][0]
    print(f"ratio drf-bare/minimal req/s: {ratio:.2f} (DRF, a JSON body in and out, no work)")
    ratio = summary["drf_noop"][0] / summary["minimal"][0]
    print(
        f"ratio drf-noop/minimal req/s: {ratio:.2f} (token auth, throttle, JSON in and out, "
        "no work: the ceiling for any endpoint built this way)"
    )
    ratio = summary["estimates"][0] / summary["minimal"][0]
    print(f"ratio estimates/minimal req/s: {ratio:.2f} (the API layer without the rules engine)")


if __name__ == "__main__":
    main()
