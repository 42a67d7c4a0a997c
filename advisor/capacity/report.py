"""A plain-text rendering of ``Estimate.as_dict()`` for the CLI (pure: dict in, str out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from probes.kinds import Backend

GIB = 1024**3


def _gib(value: int | float | None) -> str:
    return "-" if value is None else f"{value / GIB:.2f} GiB"


def estimate_text(data: Mapping[str, Any]) -> str:
    """The estimate as a few readable blocks: model and hardware, vLLM, Ollama, levels, cost."""
    model, gpu, request = data["model"], data["gpu"], data["request"]
    hardware = f"{gpu['count']} x {gpu['name']}" if gpu else "CPU only"
    lines = [
        f"Model     {model['name']} ({model['id']})",
        f"Hardware  {hardware}",
        f"Weights   {_gib(data['weights_bytes'])} for vLLM ({data['vllm']['quantization']}), "
        f"{_gib(data['ollama_weights_bytes'])} for Ollama ({data['ollama']['quantization']})",
        f"KV cache  {data['kv_bytes_per_token'] / 1024:.1f} KiB per token (all layers)",
        "",
    ]
    v, plan = data["vllm"], data["plan"]
    pv = plan["vllm"]
    held = pv["requests_held"]
    lines += [
        f"vLLM      {'fits' if pv['fits'] else 'does NOT fit'}: tensor-parallel "
        f"{pv['tensor_parallel_size']} x data-parallel {pv['data_parallel_size']} = "
        f"{pv['gpus_used']} of {pv['gpus_available']} GPU(s)",
        f"          KV budget {_gib(pv['kv_cache_bytes'])}/GPU = {v['num_gpu_blocks']:,} blocks = "
        f"{pv['kv_cache_tokens']:,} tokens per replica",
        f"          requests of {held['request_tokens']:,} tokens (prompt + output) at once: "
        f"{held['held']:,} over {held['replicas']} replica(s) (limit: {held['limit']}); "
        f"{pv['max_concurrency']:.2f}x at max_model_len {pv['max_model_len']:,} "
        f"(max_num_seqs {pv['max_num_seqs']})",
        f"          vllm serve {pv['model']} {' '.join(pv['serve_args'])}",
    ]
    if not pv["runs"]:
        lines.append(f"          cannot run here: {pv['why_not']}")
    if pv["gpus_note"]:
        lines.append(f"          note: {pv['gpus_note']}")
    lines += [f"          note: {note}" for note in v["notes"]]
    o = data["ollama"]
    lines.append("")
    for key in ("ollama_installed", "ollama"):
        p = plan[key]
        place = (
            "fits in VRAM"
            if p["fits_in_vram"]
            else f"does NOT fit in VRAM: {p['gpu_layers']}/{p['total_layers']} layers on GPU"
        )
        lines.append(
            f"{p['label']}: {place}, {_gib(p['memory_bytes'])} (num_ctx {p['num_ctx']:,} x "
            f"num_parallel {p['num_parallel']}, KV {p['kv_cache_type']})"
        )
    lines.append(
        "          set: "
        + " ".join(f"{k}={val}" for k, val in plan["ollama"]["environment"].items())
    )
    lines += [f"          note: {note}" for note in o["notes"]]
    lines += [
        "",
        f"Predicted ({request['avg_prompt_tokens']} prompt / {request['avg_output_tokens']} output tokens; source: model)",
        f"  {'server':<7}{'users':>6}{'tok/s':>10}{'TTFT p50':>11}{'TTFT p95':>11}{'TPOT p50':>10}{'E2E p95':>10}",
    ]
    for level in data["performance"]:
        lines.append(
            f"  {level['server']:<7}{level['concurrency']:>6}{level['output_token_throughput']:>10.1f}"
            f"{level['ttft_ms']['p50']:>9.0f}ms{level['ttft_ms']['p95']:>9.0f}ms"
            f"{level['tpot_ms']['p50']:>8.1f}ms{level['e2el_ms']['p95'] / 1000:>9.1f}s"
        )
    for item in data["calibration"]:
        lines.append(
            f"  calibrated {item['server']}: predicted {item['predicted_tps']:.1f} vs measured "
            f"{item['measured_tps']:.1f} tok/s ({item['error_pct']:+.1f}%)"
        )
    cost = data["cost"]
    price = cost["price"]
    lines += [
        "",
        f"Cost      {price['label']}: {price['detail']}",
        "  $ per 1M output tokens, both servers predicted at the same load:",
        f"  {'users':>6}  {'vLLM':>14}  {'Ollama':>14}",
    ]
    excluded: dict[str, str] = {}
    for level in cost["levels"]:
        texts = {entry["server"]: entry["text"] for entry in level["servers"]}
        for entry in level["not_viable"]:
            texts[entry["server"]] = "-"
            excluded[entry["server"]] = entry["reason"]
        lines.append(f"  {level['concurrency']:>6}  {texts['vllm']:>14}  {texts['ollama']:>14}")
    lines += [f"  no {Backend(server).label} cost: {why}" for server, why in excluded.items()]
    lines += [f"note: {note}" for note in data["notes"]]
    return "\n".join(lines) + "\n"
