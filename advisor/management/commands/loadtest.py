"""``python manage.py loadtest``: the same engine as the task, in-process, no worker needed."""

from __future__ import annotations

import json
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from advisor.errors import AdvisorError
from advisor.loadtest import LoadTestConfig, Progress, policy, run_load_test
from advisor.loadtest.export import format_table, vllm_bench_json
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, setup_of

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Load-test an Ollama or OpenAI-compatible (vLLM, llama.cpp) server and print the levels."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
        parser.add_argument("--api", default="auto", choices=["auto", "openai", "ollama"])
        parser.add_argument("--endpoint", default="chat", choices=["chat", "completions"])
        parser.add_argument("--model", required=True)
        parser.add_argument("--concurrency", default="1,2,4,8", help="levels, e.g. 1,2,4,8")
        parser.add_argument("--requests-per-level", type=int, default=16)
        parser.add_argument(
            "--duration", type=float, help="seconds per level instead of N requests"
        )
        parser.add_argument("--warmup", type=int, default=1)
        parser.add_argument("--max-tokens", type=int, default=128)
        parser.add_argument("--prompt-tokens", type=int, default=256)
        parser.add_argument("--prompt-file", help="a text file: one prompt per line")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--rate", type=float, help="open loop: Poisson arrivals per second")
        parser.add_argument(
            "--slo-search",
            action="store_true",
            help="find the highest concurrency (within --concurrency's min..max) meeting the SLOs",
        )
        parser.add_argument("--slo-ttft-ms", type=float)
        parser.add_argument("--slo-tpot-ms", type=float)
        parser.add_argument("--slo-e2e-ms", type=float)
        parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
        parser.add_argument("--no-early-stop", action="store_true")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--gpu",
            help="the GPU the server runs on (catalog id or driver name): with --gpus, the JSON "
            "records it as measured_on, so `advise --load-test` weighs the result for that setup",
        )
        parser.add_argument("--gpus", type=int, help="GPUs the server uses (0: CPU only)")
        parser.add_argument(
            "--quantization", default="auto", help="the weights the server loaded (default auto)"
        )
        parser.add_argument(
            "--save-vllm-json",
            metavar="FILE",
            help="also write levels as vllm bench serve saves them",
        )

    def handle(self, *args, **opts):
        data = {
            "base_url": opts["base_url"],
            "api": opts["api"],
            "endpoint": opts["endpoint"],
            "model": opts["model"],
            "concurrency": opts["concurrency"],
            "requests_per_level": opts["requests_per_level"],
            "duration_s": opts["duration"],
            "warmup": opts["warmup"],
            "max_tokens": opts["max_tokens"],
            "prompt_tokens": opts["prompt_tokens"],
            "seed": opts["seed"],
            "rate": opts["rate"],
            "slo_ttft_ms": opts["slo_ttft_ms"],
            "slo_tpot_ms": opts["slo_tpot_ms"],
            "slo_e2e_ms": opts["slo_e2e_ms"],
            "request_timeout_s": opts["timeout"],
            "early_stop": not opts["no_early_stop"],
            # Keys stay out of stored configs; the CLI reads the usual variable.
            "api_key": os.environ.get("OPENAI_API_KEY", ""),
        }
        if opts["slo_search"]:
            data["shape"] = "slo_search"
        try:
            measured_on = _measured_on(opts)
            if opts["prompt_file"]:
                with open(opts["prompt_file"], encoding="utf-8") as handle:
                    data["prompts"] = [line.strip() for line in handle if line.strip()]
            config = LoadTestConfig.parse(data)
            checked = policy.check_config(
                config, allowed_hosts=settings.ADVISOR_LOADTEST_ALLOWED_HOSTS
            )
            on_progress = self._bar if sys.stderr.isatty() and not opts["json"] else None
            result = run_load_test(config, on_progress=on_progress, destination=checked)
        except AdvisorError as exc:
            # The key comes from the environment: name the variable to fix.
            name = "OPENAI_API_KEY" if exc.field == "api_key" else exc.field
            field = f" ({name})" if name else ""
            raise CommandError(f"{exc.message}{field}") from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
        if on_progress:
            sys.stderr.write("\n")
        if opts["save_vllm_json"]:
            with open(opts["save_vllm_json"], "w", encoding="utf-8") as handle:
                json.dump(vllm_bench_json(result), handle, indent=2)
        if opts["json"]:
            data = result.as_dict()
            if measured_on is not None:
                data["measured_on"] = measured_on.as_dict()
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self.stdout.write(format_table(result))
        failure = result.failure()
        if failure is not None:  # printed above; the exit status says it too
            raise CommandError(f"the load test failed: {failure}")

    def _bar(self, progress: Progress) -> None:
        total = progress.requests_total or 0
        share = progress.requests_done / total if total else 0.0
        filled = int(BAR_WIDTH * min(share, 1.0))
        level = (
            f"c={progress.concurrency}" if progress.concurrency else f"{progress.request_rate}/s"
        )
        sys.stderr.write(
            f"\r{progress.phase:<9} level {progress.level_index + 1}/{progress.levels_total} "
            f"{level:<6} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{progress.requests_done}/{total or '?'}  {progress.elapsed_s:5.1f}s"
        )
        sys.stderr.flush()


def _measured_on(opts: dict) -> MeasuredOn | None:
    """The hardware the user states the server runs on (--gpu / --gpus), else None (unknown)."""
    if opts["gpu"] is None and opts["gpus"] is None:
        return None
    count = opts["gpus"] if opts["gpus"] is not None else 1
    where = setup_of(
        gpu=opts["gpu"] if count else None,
        gpu_count=count,
        model=opts["model"],
        quantization=opts["quantization"],
    )
    return MeasuredOn(where, MeasuredOnSource.STATED)
