"""What the team takes away: the migration path, the side-by-side table with their numbers, and the
serving configuration the bundles render.

Pure functions of ``Facts`` and the chosen backend; every figure comes from the facts (estimate,
measurements, catalog), never invented here.
"""

from __future__ import annotations

from typing import Any

from advisor.capacity.vllm import DEFAULT_GPU_MEMORY_UTILIZATION, HeldLimit
from advisor.rules.checks import gib, ms
from advisor.rules.facts import Facts, metric, throughput, vllm_unavailable
from advisor.rules.questions import Platform
from advisor.rules.thresholds import HANDFUL_USERS
from probes.kinds import Backend

OLLAMA_BASE_URL = "http://localhost:11434/v1"  # Ollama's default listen address (OLLAMA_HOST)
VLLM_BASE_URL = "http://localhost:8000/v1"  # `vllm serve` default --port 8000
# Where vLLM cannot run here, it runs on another host: its address is the team's to fill in.
VLLM_REMOTE_BASE_URL = "http://GPU-SERVER:8000/v1"
LINUX_GPU_SERVER = "a Linux server with an NVIDIA or AMD GPU"


def _quantizations(facts: Facts) -> tuple[str, str]:
    """(vLLM format, Ollama format) for the asked quantization ('auto': each server's usual one)."""
    model = facts.model or {}
    asked = facts.answers.quantization
    native = facts.vllm_estimate().get("quantization") or model.get("native_quantization") or "bf16"
    ollama_default = (
        facts.ollama_plan().get("quantization") or model.get("ollama_quantization") or "Q4_K_M"
    )
    if asked == "auto":
        return native, ollama_default
    return asked, asked


def vllm_command(facts: Facts) -> str:
    """``vllm serve`` as the plan sizes it (without an estimate: the answers' context alone)."""
    model = facts.model or {}
    repo = model.get("hf_repo") or facts.answers.model
    if facts.plan is not None:
        parts = [f"vllm serve {facts.plan['vllm']['model']}", *facts.plan["vllm"]["serve_args"]]
    else:
        parts = [f"vllm serve {repo}", f"--max-model-len {facts.answers.context_length}"]
    vllm_quant, _ = _quantizations(facts)
    if vllm_quant in ("fp8",):
        parts.append("--quantization fp8")
    if facts.answers.lora_adapters or "multi_lora" in facts.answers.features:
        parts.append(f"--enable-lora --max-loras {max(facts.answers.lora_adapters, 1)}")
    return " ".join(parts)


def migration(facts: Facts, backend: Backend) -> dict[str, Any]:
    """Model name mapping, base-URL change and the steps to move between the servers.

    Where vLLM cannot run (``vllm_unavailable``) the steps serve Ollama here and describe the
    move to vLLM only as a conditional future on a Linux GPU server, never as a next step here.
    """
    model = facts.model or {}
    tag = model.get("ollama_tag")
    repo = model.get("hf_repo") or facts.answers.model
    vllm_quant, ollama_quant = _quantizations(facts)
    unavailable = vllm_unavailable(facts)
    vllm_url = VLLM_REMOTE_BASE_URL if unavailable else VLLM_BASE_URL
    was = f"(was {OLLAMA_BASE_URL}, model {tag or facts.answers.model!r})"
    if unavailable:
        path = f"Serve on Ollama here; vLLM only if you move to a Linux GPU server (it is {unavailable})"
        pull = f"ollama pull {tag}" if tag else "import the model into Ollama (see below)"
        steps = [
            f"Here: {pull}, and point the app at {OLLAMA_BASE_URL} with model {tag or facts.answers.model!r}.",
            f"If you move to {LINUX_GPU_SERVER}: start vLLM there: {vllm_command(facts)}",
            f"Then point a copy of the app at {vllm_url} with model {repo!r} {was}.",
            "Then run the same load test against both and compare p95 and success rate at your "
            "peak; switch the base URL in production once vLLM holds it.",
        ]
    else:
        if backend is Backend.VLLM:
            path = "Prototype on Ollama, serve on vLLM"
        else:
            path = "Serve on Ollama now; move the serving layer to vLLM when concurrency demands it"
        steps = [
            f"Start vLLM next to Ollama: {vllm_command(facts)}",
            f"Point a copy of the app at {vllm_url} with model {repo!r} {was}.",
            "Run the same load test against both and compare p95 and success rate at your peak.",
            "Switch the base URL in production; keep Ollama for local development.",
        ]
    notes = [
        "Both servers speak the OpenAI API: the application changes its base URL and model name, "
        "not its code.",
        f"Ollama's library build is {ollama_quant}, vLLM loads {vllm_quant}: answers can differ "
        "slightly; re-run your evaluation prompts after switching.",
    ]
    if not tag:
        notes.append(
            f"{facts.model_label} has no Ollama library tag: import its GGUF with a Modelfile "
            "(FROM ./model.gguf) and `ollama create`."
        )
    return {
        "path": path,
        "direction": "ollama_to_vllm",
        "ollama": {
            "model": tag,
            "base_url": OLLAMA_BASE_URL,
            "quantization": ollama_quant,
            "command": f"ollama pull {tag}" if tag else None,
        },
        "vllm": {
            "model": repo,
            "base_url": vllm_url,
            "quantization": vllm_quant,
            "command": vllm_command(facts),
            "unavailable": unavailable,
        },
        "steps": steps,
        "code_change": {
            "before": f'OpenAI(base_url="{OLLAMA_BASE_URL}", api_key="ollama")  # model="{tag}"',
            "after": f'OpenAI(base_url="{vllm_url}", api_key="$VLLM_API_KEY")  # model="{repo}"',
        },
        "notes": notes,
    }


def _at_users(facts: Facts, backend: Backend) -> tuple[dict[str, Any] | None, str]:
    """The level at the user's peak: measured when there is one, else predicted."""
    measured = facts.measured(backend).at(facts.users)
    if measured:
        return measured, "measured"
    return facts.predicted(backend).at(facts.users), "predicted"


def _latency(facts: Facts, backend: Backend) -> str:
    level, source = _at_users(facts, backend)
    p95 = metric(level, "e2el_ms")
    return f"p95 {ms(p95)} at {_users(facts.users)} ({source})" if p95 else "no prediction"


def comparison(facts: Facts) -> tuple[dict[str, Any], ...]:
    """The article's comparison table, each row filled with this team's numbers."""
    vllm = facts.vllm_estimate()
    mac = facts.platform == Platform.MACOS or facts.apple
    unavailable = vllm_unavailable(facts)
    rows = [
        {
            "aspect": "Built for",
            "vllm": "Production GPU serving",
            "ollama": "Local, single-user prototyping",
            "yours": f"{facts.answers.use_case.value}, {_users(facts.users, 'peak concurrent')}",
        },
        {
            "aspect": "Concurrency",
            "vllm": _vllm_concurrency(facts, unavailable),
            "ollama": f"{_ollama_slots(facts)}; {_latency(facts, Backend.OLLAMA)}",
            "yours": f"{_users(facts.users, 'peak concurrent')} (a handful is {HANDFUL_USERS})",
        },
        {
            "aspect": "Apple Silicon",
            "vllm": "No (GPU servers only)",
            "ollama": "Yes (Metal; MLX on M-series)",
            "yours": "a Mac" if mac else f"{facts.platform.value}, {facts.hardware_label}",
        },
        {
            "aspect": "Multi-GPU",
            "vllm": unavailable or _multi_gpu_text(facts),
            "ollama": "Limited: splits layers across GPUs",
            "yours": facts.hardware_label,
        },
        {
            "aspect": "Setup",
            "vllm": "Python, Docker, config",
            "ollama": "One command, no config",
            "yours": "skills: " + (", ".join(s.value for s in facts.answers.team_skills) or "none"),
        },
        {
            "aspect": "API",
            "vllm": f"OpenAI-compatible ({VLLM_BASE_URL})",
            "ollama": f"OpenAI-compatible ({OLLAMA_BASE_URL})",
            "yours": "either: only the base URL and model name change",
        },
        {
            "aspect": "Fits your hardware",
            "vllm": unavailable
            or _fit_text(vllm.get("fits"), (facts.estimate or {}).get("weights_bytes")),
            "ollama": _ollama_fit_text(facts),
            "yours": f"{facts.model_label} on {facts.hardware_label}",
        },
        {
            "aspect": "Output tokens/s at your load",
            "vllm": unavailable or _tput(facts, Backend.VLLM),
            "ollama": _tput(facts, Backend.OLLAMA),
            "yours": f"{_users(facts.users)}, {facts.answers.avg_output_tokens} tokens per answer",
        },
    ]
    cost = facts.cost
    if cost is not None:
        rows.append(
            {
                "aspect": "$ per 1M output tokens",
                "vllm": cost.text(Backend.VLLM),
                "ollama": cost.text(Backend.OLLAMA),
                "yours": cost.label,
            }
        )
    return tuple(rows)


def _vllm_concurrency(facts: Facts, unavailable: str | None) -> str:
    """How many of the user's requests vLLM runs at once (the plan's ``requests_held``)."""
    if unavailable:
        return f"Continuous batching; {unavailable}"
    if facts.plan is None:
        return "Continuous batching (no capacity estimate)"
    if not facts.plan["vllm"]["fits"]:
        return f"Does not fit as asked; {_latency(facts, Backend.VLLM)}"
    held = facts.plan["vllm"]["requests_held"]
    bound = (
        f"max_num_seqs {held['max_num_seqs']:,} per replica; the KV cache has room for more"
        if HeldLimit(held["limit"]) is HeldLimit.MAX_NUM_SEQS
        else f"as many as the KV cache holds; max_num_seqs {held['max_num_seqs']:,}"
    )
    over = f" over {held['replicas']} replicas" if held["replicas"] > 1 else ""
    return (
        f"Continuous batching: {held['held']:,} requests of {held['request_tokens']:,} tokens "
        f"(your prompt + output) at once{over} ({bound}); {_latency(facts, Backend.VLLM)}"
    )


def _multi_gpu_text(facts: Facts) -> str:
    vllm = facts.vllm_estimate()
    if vllm and not vllm.get("fits"):
        return "Tensor parallelism (your GPUs cannot hold the model as asked)"
    if facts.plan is None:
        return "Tensor parallelism"
    plan = facts.plan["vllm"]
    tp, dp = plan["tensor_parallel_size"], plan["data_parallel_size"]
    text = f"TP {tp} needed here" if tp > 1 else "one GPU holds the model"
    if dp > 1:
        text += f"; {dp} data-parallel replicas use all {plan['gpus_used']} GPUs"
    if plan["gpus_note"]:
        text += f"; {plan['gpus_note']}"
    return f"Tensor parallelism ({text})"


def _ollama_slots(facts: Facts) -> str:
    """Ollama's concurrency as installed and as we set it (the plan's two Ollamas)."""
    if facts.plan is None:
        return "One request at a time as installed (OLLAMA_NUM_PARALLEL 1)"
    installed, tuned = facts.plan["ollama_installed"], facts.plan["ollama"]
    text = f"As installed: {_slots(installed)}"
    if tuned["num_parallel"] != installed["num_parallel"]:
        text += f"; as we set it: {_slots(tuned)}"
    return text


def _slots(plan: dict[str, Any]) -> str:
    if plan["num_parallel"] <= 1:
        return "one request at a time (OLLAMA_NUM_PARALLEL 1)"
    return (
        f"{plan['num_parallel']} fixed slots of {plan['num_ctx']:,} tokens each "
        f"(OLLAMA_NUM_PARALLEL {plan['num_parallel']})"
    )


def _users(n: int, kind: str = "") -> str:
    """ "1 peak concurrent user", "40 peak concurrent users": a count and its noun, agreeing."""
    noun = "user" if n == 1 else "users"
    return f"{n} {kind} {noun}" if kind else f"{n} {noun}"


def _ollama_fits(facts: Facts) -> bool | None:
    """In VRAM on a GPU; in RAM (when the report says how much) on CPU only."""
    ollama = facts.ollama_plan()
    if not ollama:
        return None
    if facts.cpu_only:
        ram = facts.ram_bytes
        need = ollama.get("memory_bytes")
        return None if not ram or need is None else need <= ram
    return bool(ollama.get("fits_in_vram"))


def _ollama_fit_text(facts: Facts) -> str:
    """Whether Ollama as we set it (the plan's slots and context) fits, and its memory."""
    ollama = facts.ollama_plan()
    text = _fit_text(_ollama_fits(facts), ollama.get("memory_bytes"), ollama)
    return f"{text}, as we set it" if ollama else text


def _fit_text(fits: bool | None, size: float | None, ollama: dict[str, Any] | None = None) -> str:
    if fits is None:
        return f"needs {gib(size)}" if size else "unknown (no estimate)"
    if fits:
        return f"yes ({gib(size)})"
    if ollama and ollama.get("gpu_layers"):
        return f"partly: {ollama['gpu_layers']}/{ollama.get('total_layers')} layers on the GPU"
    return "no"


def _tput(facts: Facts, backend: Backend) -> str:
    level, source = _at_users(facts, backend)
    value = throughput(level)
    if not value:
        return "no figure"
    return f"{value:.0f} tok/s ({source})" if value >= 10 else f"{value:.1f} tok/s ({source})"


def serving(facts: Facts, backend: Backend) -> dict[str, Any]:
    """The chosen server's plan (what the bundles render), with its command and base URL; without
    an estimate, the server's defaults sized by the answers."""
    model = facts.model or {}
    vllm_quant, ollama_quant = _quantizations(facts)
    lora = bool(facts.answers.lora_adapters) or "multi_lora" in facts.answers.features
    if backend is Backend.VLLM:
        plan = (
            dict(facts.plan["vllm"])
            if facts.plan
            else {
                "model": model.get("hf_repo") or facts.answers.model,
                "quantization": vllm_quant,
                "tensor_parallel_size": 1,
                "data_parallel_size": 1,
                "max_model_len": facts.answers.context_length,
                "gpu_memory_utilization": DEFAULT_GPU_MEMORY_UTILIZATION,
            }
        )
        return {
            **plan,
            "backend": "vllm",
            "gpu_count": facts.gpu_count,
            "enable_lora": lora,
            "max_loras": max(facts.answers.lora_adapters, 1),
            "base_url": VLLM_BASE_URL,
            "command": vllm_command(facts),
        }
    plan = (
        dict(facts.plan["ollama"])
        if facts.plan
        else {
            "model": model.get("ollama_tag") or facts.answers.model,
            "quantization": ollama_quant,
            "num_ctx": facts.answers.context_length,
            "num_parallel": 1,
            "environment": {},
        }
    )
    return {
        **plan,
        "backend": "ollama",
        "gpu_count": facts.gpu_count,
        "base_url": OLLAMA_BASE_URL,
    }


def facts_summary(facts: Facts) -> dict[str, Any]:
    """What the verdict was based on, in a line each (shown beside it)."""
    sides = {b.value: len(facts.measured(b).levels) for b in Backend}
    return {
        "platform": facts.platform.value,
        "hardware": facts.hardware_label,
        "gpu": (facts.gpu or {}).get("id"),
        "gpu_count": facts.gpu_count,
        "model": (facts.model or {}).get("id") or facts.answers.model,
        "peak_concurrent_users": facts.users,
        "has_estimate": facts.estimate is not None,
        "hardware_report": facts.hardware is not None,
        "measured_levels": sides,
        "assumptions": list(facts.notes),
    }
