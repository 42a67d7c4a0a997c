"""`python manage.py estimate`: the capacity model from the command line (a thin shell).

Examples:
    python manage.py estimate --model llama3.1:8b --gpu "NVIDIA H100 80GB HBM3" --gpus 1
    python manage.py estimate --model llama-3.1-8b --gpu h100 --gpus 1 --max-model-len 20000 \\
        --kv-cache-budget-gib 3.81 --json
    python manage.py estimate --config path/to/config.json --gpu rtx-4090 --gpus 1
    python manage.py estimate --model qwen3-14b --gpu h100 --gpus 1 --vllm-log vllm.log
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from advisor.capacity import server_logs
from advisor.capacity.custom import model_from_gguf, model_from_hf_config
from advisor.capacity.estimate import EstimateRequest, estimate
from advisor.capacity.report import estimate_text
from advisor.errors import AdvisorError


class Command(BaseCommand):
    help = "Estimate vLLM and Ollama capacity, speed and cost for a model on some GPUs."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--model", help="catalog id, Hugging Face repo id or Ollama tag")
        source.add_argument("--config", help="path to a Hugging Face config.json")
        source.add_argument("--gguf", help="path to a local GGUF file (only its header is read)")
        parser.add_argument("--gpu", help="catalog id or driver name, e.g. 'NVIDIA H100 80GB HBM3'")
        parser.add_argument("--gpus", type=int, default=1, help="GPU count (0 = CPU only)")
        parser.add_argument("--quantization", default="auto")
        parser.add_argument("--max-model-len", type=int)
        parser.add_argument("--kv-cache-dtype", default="auto")
        parser.add_argument(
            "--gpu-memory-utilization", type=float, help="vLLM's; default: the release's (0.92)"
        )
        parser.add_argument("--tensor-parallel-size", type=int, help="vLLM's; default: choose")
        parser.add_argument("--data-parallel-size", type=int, help="vLLM's; default: the rest")
        parser.add_argument("--max-num-seqs", type=int, help="vLLM's; default by GPU memory")
        parser.add_argument("--max-num-batched-tokens", type=int, help="vLLM's; default by GPU")
        parser.add_argument("--vllm-version", help="vLLM release to model (default 0.33.0)")
        parser.add_argument("--kv-cache-budget-gib", type=float)
        parser.add_argument(
            "--vllm-log", help="a vLLM start-up log: its KV budget replaces the modelled one"
        )
        parser.add_argument(
            "--vllm-metrics", help="a saved /metrics page: vllm:cache_config_info's block count"
        )
        parser.add_argument(
            "--ollama-ps", help="a saved /api/ps response: its size is shown as measured"
        )
        parser.add_argument("--concurrency", default="1,8,32", help="comma-separated levels")
        parser.add_argument("--prompt-tokens", type=int, default=None)
        parser.add_argument("--output-tokens", type=int, default=None)
        parser.add_argument("--gpu-hourly-usd", type=float)
        parser.add_argument("--num-parallel", type=int, help="OLLAMA_NUM_PARALLEL to model")
        parser.add_argument(
            "--measured-decode-tps",
            action="append",
            default=[],
            metavar="SERVER=TPS",
            help="calibrate with a measured single-stream speed, e.g. vllm=95 (repeatable)",
        )
        parser.add_argument("--json", action="store_true", help="print the estimate as JSON")

    def handle(self, *args, **options):
        try:
            model = options["model"]
            if options["config"]:
                model = model_from_hf_config(options["config"])
            elif options["gguf"]:
                model = model_from_gguf(options["gguf"])
            data = {
                "model": model,
                "gpu": options["gpu"],
                "gpu_count": options["gpus"],
                "quantization": options["quantization"],
                "max_model_len": options["max_model_len"],
                "kv_cache_dtype": options["kv_cache_dtype"],
                "gpu_memory_utilization": options["gpu_memory_utilization"],
                "kv_cache_budget_gib": options["kv_cache_budget_gib"],
                "concurrency": options["concurrency"],
                "avg_prompt_tokens": options["prompt_tokens"],
                "avg_output_tokens": options["output_tokens"],
                "gpu_hourly_cost_usd": options["gpu_hourly_usd"],
                "num_parallel": options["num_parallel"],
                "measured_decode_tps": _measured(options["measured_decode_tps"]),
                "tensor_parallel_size": options["tensor_parallel_size"],
                "data_parallel_size": options["data_parallel_size"],
                "max_num_seqs": options["max_num_seqs"],
                "max_num_batched_tokens": options["max_num_batched_tokens"],
                "vllm_version": options["vllm_version"],
            }
            data.update(_server_readings(options))
            result = estimate(EstimateRequest.parse(data))
        except AdvisorError as error:
            label = f"--{error.field.replace('_', '-')}: " if error.field else ""
            raise CommandError(f"{label}{error.message}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
        else:
            self.stdout.write(estimate_text(result.as_dict()))


def _read(path: str, field: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as error:
        raise AdvisorError(f"Cannot read {path}: {error.strerror}.", field=field) from None


def _server_readings(options) -> dict:
    """Request fields from the user's own server output (measured beats modelled)."""
    fields = server_logs.measured_fields(
        vllm_log=options["vllm_log"] and _read(options["vllm_log"], "vllm_log"),
        vllm_metrics=options["vllm_metrics"] and _read(options["vllm_metrics"], "vllm_metrics"),
        ollama_ps=options["ollama_ps"] and _read(options["ollama_ps"], "ollama_ps"),
    )
    if options["gpu_memory_utilization"]:
        fields.pop("gpu_memory_utilization", None)  # the flag given wins over the page's
    return fields


def _measured(values: list[str]) -> dict | None:
    if not values:
        return None
    measured = {}
    for item in values:
        server, _, number = item.partition("=")
        if not number:
            raise AdvisorError(
                f"Use SERVER=TPS, e.g. vllm=95 (got {item!r}).", field="measured_decode_tps"
            )
        measured[server.strip().lower()] = number.strip()
    return measured
