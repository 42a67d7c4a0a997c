"""Refactoring check: the recommendation JSON and the bundle files of a fixed corpus, byte for byte.

A refactor that claims "no change in output" runs this on the code before and after:

    (cd OLD_CHECKOUT && python bench/corpus_check.py dump /tmp/corpus-old)
    (cd NEW_CHECKOUT && python bench/corpus_check.py dump /tmp/corpus-new)
    python bench/corpus_check.py compare /tmp/corpus-old /tmp/corpus-new

``dump`` generates the corpus (``--count`` questionnaires, 600 by default, from a fixed seed: with
and without an inline hardware report, with and without finished load tests attached, custom
models, bad answers), posts each to ``POST /api/v1/recommendations/`` on a private SQLite database
and writes, per case, the response as the API returns it (ids and times replaced by stable
placeholders), the bundle's files for the recommended server and for the other one (``GET
.../bundle/?backend=``) and the zip's SHA-256. ``compare`` lists every case whose files differ and
prints the first lines of each difference; it exits 1 when any differ.

It is not a golden-file test: the capacity model's figures change legitimately, and a change of
output is then named in the commit that makes it. The generator does not read the catalog, so a
catalog change does not reshuffle the corpus.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import logging
import os
import random
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261203

MODELS = (
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "llama-3.2-1b",
    "llama-3.2-3b",
    "qwen2.5-7b",
    "qwen2.5-32b",
    "qwen2.5-72b",
    "qwen3-8b",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b",
    "mistral-7b",
    "mixtral-8x7b",
    "gemma-2-9b",
    "gemma-3-270m",
    "gemma-3-27b",
    "phi-4",
    "deepseek-v3",
    "deepseek-r1-distill-llama-8b",
    "gpt-oss-20b",
    "gpt-oss-120b",
    "llama3.1:8b",
    "meta-llama/Llama-3.1-8B-Instruct",
)
PC_GPUS = (
    "h100-sxm-80gb",
    "h200-141gb",
    "a100-40gb",
    "a100-sxm-80gb",
    "l40s",
    "l4",
    "t4",
    "rtx-4090",
    "rtx-3060-12gb",
    "mi300x",
    "rx-7900-xtx",
    "NVIDIA H100 80GB HBM3",
)
MAC_GPUS = ("apple-m1", "apple-m2-max", "apple-m3-max", "apple-m4-pro")
QUANTS = ("auto", "auto", "auto", "fp8", "awq-int4", "Q4_K_M", "Q8_0", "bf16")
USERS = (1, 1, 2, 3, 4, 5, 8, 12, 20, 40, 64, 100, 200, 500, 2000)
CONTEXTS = (2048, 4096, 8192, 8192, 32768, 131072)
REPORT_GPUS = {
    "h100": ("NVIDIA H100 80GB HBM3", "nvidia", 85520809984),
    "a100": ("NVIDIA A100-SXM4-40GB", "nvidia", 42949672960),
    "4090": ("NVIDIA GeForce RTX 4090", "nvidia", 25757220864),
    "mi300x": ("AMD Instinct MI300X", "amd", 206141652992),
    "m3max": ("Apple M3 Max", "apple", 68719476736),
    "unknown": ("Matrox G200eW", "nvidia", 8589934592),
}
CUSTOM_CONFIG = {
    "model_type": "llama",
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "intermediate_size": 14336,
    "torch_dtype": "bfloat16",
}


def _report(rng: random.Random) -> dict:
    """A hardware report in the probes' schema (version 1) with fixed, varied contents."""
    kind = rng.choice(["h100", "h100", "a100", "4090", "mi300x", "m3max", "none", "unknown"])
    mac = kind == "m3max"
    gpus = []
    if kind != "none":
        name, vendor, memory = REPORT_GPUS[kind]
        count = 1 if mac else rng.choice([1, 1, 2, 4, 8])
        gpus = [
            {"vendor": vendor, "index": i, "name": name, "memory_total_bytes": memory}
            for i in range(count)
        ]
    servers = []
    if rng.random() < 0.4:  # a server already running: "start where you are"
        kind, port = rng.choice([("ollama", 11434), ("vllm", 8000)])
        servers = [
            {"kind": kind, "base_url": f"http://127.0.0.1:{port}", "models": ["llama3.1:8b"]}
        ]
    return {
        "schema_version": 1,
        "collected_at": "2026-12-03T13:45:24+00:00",
        "host": {
            "hostname": f"host-{kind}",
            "os": "Darwin" if mac else rng.choice(["Linux", "Linux", "Windows"]),
            "os_version": "",
            "kernel": "6.1.0",
            "arch": "arm64" if mac else "x86_64",
            "python": "3.11.7",
        },
        "cpu": {"model": "CPU", "physical_cores": 16, "logical_cores": 32, "flags": ["avx2"]},
        "memory": {
            "total_bytes": rng.choice([16, 64, 256]) * 1024**3,
            "available_bytes": 8 * 1024**3,
            "swap_total_bytes": 0,
        },
        "disk": {"path": "/", "free_bytes": 500 * 1024**3, "total_bytes": 1000 * 1024**3},
        "gpus": gpus,
        "software": {},
        "servers": servers,
        "probes": {},
    }


def _stats(p95: float) -> dict:
    return {"mean": p95 * 0.8, "p50": p95 * 0.7, "p90": p95 * 0.9, "p95": p95, "p99": p95 * 1.1}


def _load_test_result(rng: random.Random, kind: str) -> dict:
    """A finished load test's result (``LoadTestResult.as_dict()``'s shape) on ``kind``."""
    per_user = rng.choice([400.0, 1500.0, 4000.0])
    growth = rng.choice([0.05, 0.5, 1.0])  # how fast latency rises with users
    levels = []
    for concurrency in rng.choice([(1, 4, 16), (1, 2, 4, 8), (1, 8, 32, 64), (4, 16)]):
        p95 = per_user * (1 + growth * (concurrency - 1))
        failed = rng.choice([0, 0, 0, 1, 4]) if concurrency > 4 else 0
        levels.append(
            {
                "concurrency": concurrency,
                "request_rate": None,
                "requests": 16,
                "succeeded": 16 - failed,
                "failed": failed,
                "duration_s": 10.0,
                "request_throughput": concurrency / (p95 / 1000),
                "output_token_throughput": concurrency * 256 / (p95 / 1000),
                "ttft_ms": _stats(p95 / 10),
                "itl_ms": _stats(15.0),
                "tpot_ms": _stats(rng.choice([8.0, 15.0, 40.0])),
                "e2el_ms": _stats(p95),
                "errors": {"timeout": failed} if failed else {},
                "goodput": None,
            }
        )
    return {
        "target": {
            "base_url": "http://127.0.0.1:8000",
            "kind": kind,
            "model": "llama3.1:8b",
            "api": "openai",
            "version": None,
        },
        "config": {"concurrency": [lv["concurrency"] for lv in levels], "requests_per_level": 16},
        "levels": levels,
        "stop_code": "completed",
        "stopped_reason": "",
        "started_at": 1_700_000_000.0,
        "duration_s": 40.0,
    }


def _measured_on(case: dict) -> dict | None:
    """The record a case's load tests carry: the case's own setup (they calibrate it), except
    in every fifth case, where they ran on a CPU-only host (they must not); None for bad answers."""
    from advisor.errors import AdvisorError
    from advisor.rules.answers import Answers, custom_model_spec
    from advisor.rules.hardware import effective_hardware
    from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, setup_of

    try:
        answers = Answers.parse(case["answers"], hardware_report_attached=bool(case["hardware"]))
        gpu, count, _, _ = effective_hardware(answers, case["hardware"])
    except AdvisorError:
        return None
    model = answers.model
    if answers.custom_model is not None:
        model = custom_model_spec(answers.custom_model, answers.model).id
    if case["index"] % 5 == 0:
        cpu = setup_of(gpu=None, gpu_count=0, model=model, quantization=answers.quantization)
        return MeasuredOn(cpu, MeasuredOnSource.PROBE).as_dict()
    here = setup_of(
        gpu=gpu.id if gpu else None, gpu_count=count, model=model, quantization=answers.quantization
    )
    return MeasuredOn(here, MeasuredOnSource.STATED).as_dict()


def questionnaire(rng: random.Random, index: int) -> dict:
    """One case: ``{"answers": ..., "hardware": report or None, "load_tests": [results]}``."""
    hw = rng.random()
    answers: dict = {
        "use_case": rng.choice(["prototype", "internal", "production"]),
        "peak_concurrent_users": rng.choice(USERS),
        "model": rng.choice(MODELS),
        "deployment_target": rng.choice(["laptop", "workstation", "server", "kubernetes"]),
    }
    report = None
    if hw < 0.3:  # the report decides the hardware
        report = _report(rng)
        if rng.random() < 0.3:
            answers["gpu_count"] = rng.choice([1, 2])
    elif hw < 0.45:  # a Mac
        answers["gpu"] = rng.choice(MAC_GPUS)
        answers["platform"] = rng.choice(["auto", "macos"])
    elif hw < 0.55:  # CPU only
        answers["gpu_count"] = 0
        if rng.random() < 0.5:
            report = _report(rng)
    else:
        answers["gpu"] = rng.choice(PC_GPUS)
        answers["gpu_count"] = rng.choice([1, 1, 1, 2, 4, 8])
        answers["platform"] = rng.choice(["auto", "linux", "windows"])
        if rng.random() < 0.15:
            report = _report(rng)
    optional = {
        "quantization": lambda: rng.choice(QUANTS),
        "context_length": lambda: rng.choice(CONTEXTS),
        "avg_prompt_tokens": lambda: rng.choice([128, 512, 2000, 8000]),
        "avg_output_tokens": lambda: rng.choice([64, 256, 1000]),
        "slo_ttft_ms": lambda: rng.choice([200.0, 1000.0, 5000.0]),
        "slo_tpot_ms": lambda: rng.choice([20.0, 50.0, 200.0]),
        "slo_e2e_p95_ms": lambda: rng.choice([2000.0, 10000.0, 60000.0]),
        "features": lambda: sorted(
            rng.sample(
                [
                    "multi_lora",
                    "speculative_decoding",
                    "kubernetes",
                    "metrics",
                    "structured_output",
                ],
                rng.randint(1, 3),
            )
        ),
        "lora_adapters": lambda: rng.choice([1, 4, 20]),
        "team_skills": lambda: sorted(
            rng.sample(["python", "docker", "kubernetes"], rng.randint(1, 3))
        ),
        "gpu_hourly_cost_usd": lambda: rng.choice([0.5, 2.49, 10.0]),
    }
    for name, draw in optional.items():
        if rng.random() < 0.3:
            answers[name] = draw()
    if rng.random() < 0.04:
        answers["model"] = "acme/chat-8b"
        answers["custom_model"] = dict(CUSTOM_CONFIG)
    if rng.random() < 0.03:  # bad input: the 400 body is part of the contract too
        answers[rng.choice(["peak_concurrent_users", "model", "gpu_count"])] = rng.choice(
            [-1, "no-such-model", 999]
        )
    load_tests = []
    if rng.random() < 0.3:
        kinds = rng.choice([["ollama"], ["vllm"], ["ollama", "vllm"], ["llamacpp"]])
        load_tests = [_load_test_result(rng, kind) for kind in kinds]
    return {"index": index, "answers": answers, "hardware": report, "load_tests": load_tests}


def corpus(count: int) -> list[dict]:
    rng = random.Random(SEED)
    return [questionnaire(rng, i) for i in range(count)]


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r'"created_at": "[^"]*"')


def _normalise(text: str) -> str:
    """Ids and creation times replaced by placeholders numbered by first appearance."""
    seen: dict[str, str] = {}
    text = UUID.sub(lambda m: seen.setdefault(m.group(0), f"<id-{len(seen) + 1}>"), text)
    return TIME.sub('"created_at": "<time>"', text)


def _setup_django(var_dir: str) -> None:
    os.environ["ADVISOR_VAR_DIR"] = var_dir
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/corpus.sqlite3"
    os.environ["ADVISOR_THROTTLE_RECOMMENDATIONS"] = "1000000/min"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    sys.path.insert(0, str(Path.cwd()))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def dump(out: Path, count: int) -> int:
    _setup_django(tempfile.mkdtemp(prefix="corpus-var-"))
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from advisor.models import LoadTest
    from advisor.services.tokens import api_token_create

    logging.disable(logging.WARNING)  # 400s are part of the corpus, not news
    user = get_user_model().objects.create_user("corpus")
    client = APIClient()
    secret = api_token_create(user=user, name="corpus").secret
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    out.mkdir(parents=True, exist_ok=True)
    for case in corpus(count):
        folder = out / f"{case['index']:04d}"
        folder.mkdir(exist_ok=True)
        case["measured_on"] = _measured_on(case) if case["load_tests"] else None
        (folder / "input.json").write_text(json.dumps(case, indent=1, sort_keys=True))
        ids = []
        for result in case["load_tests"]:
            row = LoadTest.objects.create(
                measured_on=case["measured_on"],
                owner=user,
                status="succeeded",
                base_url=result["target"]["base_url"],
                api="openai",
                backend_kind=result["target"]["kind"],
                model_name=result["target"]["model"],
                config=result["config"],
                result=result,
            )
            ids.append(str(row.pk))
        body = dict(case["answers"])
        if case["hardware"] is not None:
            body["hardware"] = case["hardware"]
        if ids:
            body["load_tests"] = ids
        response = client.post("/api/v1/recommendations/", body, format="json")
        text = json.dumps(
            {"status": response.status_code, "body": response.json()}, indent=1, sort_keys=True
        )
        (folder / "recommendation.json").write_text(_normalise(text) + "\n")
        if response.status_code != 201:
            continue
        url = response.json()["links"]["bundle"]
        recommended = response.json()["backend"]
        for backend in ("ollama", "vllm"):
            reply = client.get(url, {"backend": backend} if backend != recommended else {})
            target = folder / f"bundle-{backend}"
            target.mkdir(exist_ok=True)
            if reply.status_code != 200:
                (target / "ERROR.json").write_text(json.dumps(reply.json(), indent=1) + "\n")
                continue
            data = reply.json()
            meta = {k: v for k, v in data.items() if k != "files"}
            meta["files"] = [{k: v for k, v in f.items() if k != "content"} for f in data["files"]]
            (target / "_bundle.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
            for item in data["files"]:
                path = target / "files" / item["path"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(item["content"])
        zipped = client.get(response.json()["links"]["bundle_zip"])
        digest = hashlib.sha256(zipped.content).hexdigest() if zipped.status_code == 200 else ""
        (folder / "bundle.zip.sha256").write_text(f"{zipped.status_code} {digest}\n")
    print(f"dumped {count} cases to {out}")
    return 0


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def compare(old: Path, new: Path, show: int) -> int:
    a, b = _files(old), _files(new)
    differing: dict[str, list[str]] = {}
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            differing.setdefault(name.split("/")[0], []).append(
                f"{name}: only in {'new' if name in b else 'old'}"
            )
        elif a[name].read_bytes() != b[name].read_bytes():
            differing.setdefault(name.split("/")[0], []).append(name)
    cases = len({n.split("/")[0] for n in a})
    if not differing:
        print(f"identical: {cases} cases, {len(a)} files")
        return 0
    print(f"{len(differing)} of {cases} cases differ")
    shown = 0
    for case, names in differing.items():
        print(f"case {case}: {', '.join(names)}")
        for name in names:
            if shown >= show or name not in a or name not in b:
                continue
            shown += 1
            diff = difflib.unified_diff(
                a[name].read_text().splitlines(),
                b[name].read_text().splitlines(),
                f"old/{name}",
                f"new/{name}",
                lineterm="",
                n=1,
            )
            print("\n".join(list(diff)[:40]))
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="write the corpus's outputs of the code in the current folder")
    d.add_argument("out", type=Path)
    d.add_argument("--count", type=int, default=600)
    c = sub.add_parser("compare", help="compare two dumps byte for byte")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    c.add_argument("--show", type=int, default=10, help="differences to print in full")
    args = parser.parse_args()
    if args.command == "dump":
        return dump(args.out, args.count)
    return compare(args.old, args.new, args.show)


if __name__ == "__main__":
    sys.exit(main())
