"""The bundle's README: what to run first, and why each setting has the value it has."""

from __future__ import annotations

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import BundleInput
from advisor.bundles.targets.base import (
    OLLAMA_ENGINE_INIT_S,
    VLLM_ENGINE_INIT_S,
    gib,
    on_mac,
    shell_words,
    startup_budget_s,
)
from advisor.bundles.targets.common import MAX_LOADTEST_CONCURRENCY, loadtest_command
from advisor.bundles.targets.ollama_env import ollama_env
from advisor.bundles.targets.vllm_args import vllm_flags
from advisor.bundles.upstream import ollama_env_table
from advisor.capacity.specs import Vendor
from advisor.releases import (
    OLLAMA_IMAGE,
    OLLAMA_ROCM_IMAGE,
    VLLM_IMAGE,
    VLLM_RELEASE,
    VLLM_ROCM_IMAGE,
)
from probes.kinds import Backend

PATH = "README.md"
BACKEND_NAMES = {Backend.VLLM: "vLLM", Backend.OLLAMA: "Ollama"}


def render_readme(inp: BundleInput, files: list[BundleFile]) -> BundleFile:
    """README.md listing ``files`` and explaining every tuned value with the recommendation's figures."""
    name = BACKEND_NAMES[inp.backend]
    lines = [f"# Serve {inp.served_model} with {name}", ""]
    confidence = ""
    if inp.confidence is not None:
        label = f" ({inp.confidence_label})" if inp.confidence_label else ""
        confidence = f" Confidence: {inp.confidence:.0%}{label}."
    lines += [
        f"The LLM Serving Advisor recommends **{name}** for {inp.peak_concurrent_users} peak "
        f"concurrent user(s), {inp.use_case} use, on {_hardware(inp)}.{confidence}",
        "",
    ]
    lines += _reasons(inp)
    lines += _start(inp)
    lines += _settings(inp)
    lines += _figures(inp)
    lines += _checks(inp)
    lines += ["## Files", ""]
    lines += [f"- `{f.path}`: {f.description}" for f in sorted(files, key=lambda f: f.path)]
    lines += ["- `README.md`: this file", ""]
    lines += _sources(inp)
    return BundleFile(PATH, "\n".join(lines).rstrip() + "\n", description="start here")


def _hardware(inp: BundleInput) -> str:
    if inp.gpu_count == 0:
        return "CPU only"
    return f"{inp.gpu_count} x {inp.gpu_name or 'GPU'}"


def _reasons(inp: BundleInput) -> list[str]:
    lines: list[str] = []
    if inp.reasons:
        lines += ["## Why", ""]
        for reason in inp.reasons:
            tag = f" [{reason.rule_id}]" if reason.rule_id else ""
            prefix = "Against" if reason.kind == "opposing" else reason.kind.capitalize()
            lines.append(f"- {prefix}{tag}: {reason.message}")
        lines.append("")
    if inp.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in inp.warnings] + [""]
    if inp.switch_triggers:
        lines += ["## When to switch", ""] + [f"- {t}" for t in inp.switch_triggers] + [""]
    return lines


def _start(inp: BundleInput) -> list[str]:
    lines = ["## Start", "", "Copy `.env.example` to `.env` and fill it in, then pick one:", ""]
    if inp.backend is Backend.VLLM:
        vendor_file = "compose.rocm" if inp.gpu_vendor is Vendor.AMD else "compose.nvidia"
        if inp.gpu_vendor in (Vendor.APPLE, None):
            lines += [
                f"> vLLM needs a Linux host with an NVIDIA or AMD GPU; these files assume one "
                f"(your answers describe {_hardware(inp)}).",
                "",
            ]
        lines += [
            f"- Docker: `docker compose --env-file .env -f vllm/{vendor_file}.yaml up -d`",
            "- Host (Linux, `pip install vllm` in a venv): `vllm/serve.sh`, or install "
            "`vllm/vllm.service` as a systemd unit (see its header)",
            f"- Kubernetes: create the `{inp.name}-secrets` Secret (see the manifest header), "
            "then `kubectl apply -f vllm/kubernetes.yaml`",
        ]
    elif on_mac(inp):
        lines += [
            "- The Ollama app: `brew install --cask ollama` or the app from ollama.com/download, "
            "then `ollama/macos/setenv.sh` and restart the app",
            "- Headless with Homebrew (`brew install ollama`): copy "
            "`ollama/macos/com.ollama.serve.plist` to `~/Library/LaunchAgents/` and "
            "`launchctl load` it",
            f"- Optional: `ollama create {inp.name} -f ollama/Modelfile` bakes the context "
            "size into a named model",
            "",
            "This bundle has no Docker or Kubernetes files: Docker on a Mac runs a Linux VM "
            "that cannot reach Metal, so a container would serve from the CPU. Ollama runs "
            "natively to use the GPU.",
        ]
    else:
        flavour = (
            "cpu"
            if inp.gpu_vendor is None
            else "rocm"
            if inp.gpu_vendor is Vendor.AMD
            else "nvidia"
        )
        lines += [
            "- Linux: `ollama/setup-linux.sh` (installs with Ollama's script "
            "`curl -fsSL https://ollama.com/install.sh | sh`, applies "
            "`ollama/systemd/override.conf`, pulls the model)",
            "- macOS app: `brew install --cask ollama` or the app from ollama.com/download, then "
            "`ollama/macos/setenv.sh` and restart the app; headless with Homebrew "
            "(`brew install ollama`): copy `ollama/macos/com.ollama.serve.plist` to "
            "`~/Library/LaunchAgents/` and `launchctl load` it",
            "- Windows: install OllamaSetup.exe from ollama.com/download and set the same "
            "variables under System Properties > Environment Variables",
            f"- Docker: `docker compose -f ollama/compose.{flavour}.yaml up -d`",
            "- Kubernetes: `kubectl apply -f ollama/kubernetes.yaml`",
            f"- Optional: `ollama create {inp.name} -f ollama/Modelfile` bakes the context "
            "size into a named model",
        ]
    return lines + [""]


def _settings(inp: BundleInput) -> list[str]:
    lines = ["## Every setting, and why", "", "| setting | value | why |", "|---|---|---|"]
    if inp.backend is Backend.VLLM:
        for flag in vllm_flags(inp):
            value = "(on)" if flag.value is None else f"`{flag.value}`"
            lines.append(f"| `{flag.flag}` | {value} | {_cell(flag.why)} |")
        lines.append(
            "| `VLLM_API_KEY` | from `.env` or the environment file | the bearer token clients "
            "send; vLLM reads it from its environment, so it is never on a command line (`ps`) "
            "nor written into a file of this bundle |"
        )
    else:
        for var in ollama_env(inp):
            lines.append(f"| `{var.name}` | `{var.value}` | {_cell(var.why)} |")
        lines.append(
            f"| Modelfile `num_ctx` | `{inp.ollama.num_ctx}` | the same context, baked into a "
            "named model |"
        )
    return lines + [""]


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a literal '|' would start a new column."""
    return text.replace("|", "\\|")


def _figures(inp: BundleInput) -> list[str]:
    lines = ["## The numbers behind it", ""]
    if inp.weights_bytes is not None:
        lines.append(f"- Model weights: {gib(inp.weights_bytes)}")
    if inp.backend is Backend.VLLM:
        v = inp.vllm
        lines.append(
            f"- GPUs: {v.gpus} (tensor-parallel {v.tensor_parallel_size} x data-parallel "
            f"{v.data_parallel_size})"
        )
        if v.kv_cache_tokens is not None:
            lines.append(f"- KV cache: {v.kv_cache_tokens:,} tokens per replica")
        if v.requests_held is not None and v.request_tokens is not None:
            lines.append(
                f"- Requests of your size ({v.request_tokens:,} tokens) held at once: "
                f"{v.requests_held:,}"
            )
        if v.max_concurrency is not None:
            lines.append(
                f"- Requests of {v.max_model_len:,} tokens (max-model-len) one replica holds: "
                f"{v.max_concurrency:.2f}"
            )
        budget = startup_budget_s(inp, engine_init_s=VLLM_ENGINE_INIT_S)
    else:
        o = inp.ollama
        if o.fits_in_vram is not None:
            lines.append(f"- Fits in GPU memory: {'yes' if o.fits_in_vram else 'no'}")
        if o.gpu_layers is not None and o.total_layers is not None:
            lines.append(f"- Layers on the GPU: {o.gpu_layers} of {o.total_layers}")
        lines.append(
            f"- Slots: {o.num_parallel} x {o.num_ctx:,} tokens (OLLAMA_NUM_PARALLEL x "
            "OLLAMA_CONTEXT_LENGTH)"
        )
        if o.memory_bytes is not None:
            lines.append(f"- Memory for weights + KV + graph: {gib(o.memory_bytes)}")
        budget = startup_budget_s(inp, engine_init_s=OLLAMA_ENGINE_INIT_S)
    lines.append(
        f"- Start-up budget for probes: {budget} s (download at 50 MB/s, load at 1 GB/s, "
        "engine start-up)"
    )
    rows = _performance_rows(inp)
    if rows:
        lines += [
            "",
            "Predicted by the capacity model (`source: model`); measure with the load test below:",
            "",
            "| concurrency | output tok/s | TTFT p50 ms | TPOT p50 ms | E2E p95 ms |",
            "|---|---|---|---|---|",
            *rows,
        ]
    return lines + [""]


def _performance_rows(inp: BundleInput) -> list[str]:
    rows = []
    for level in inp.performance:
        server = str(level.get("server") or level.get("backend") or inp.backend)
        if server != inp.backend:
            continue
        rows.append(
            "| {} | {} | {} | {} | {} |".format(
                level.get("concurrency", "?"),
                _num(level.get("output_token_throughput")),
                _num(_stat(level.get("ttft_ms"), "p50")),
                _num(_stat(level.get("tpot_ms"), "p50")),
                _num(_stat(level.get("e2el_ms"), "p95")),
            )
        )
    return rows


def _stat(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else value


def _num(value: object) -> str:
    return (
        f"{value:,.1f}" if isinstance(value, int | float) and not isinstance(value, bool) else "-"
    )


def _checks(inp: BundleInput) -> list[str]:
    command = shell_words(loadtest_command(inp)).replace("'$BASE_URL'", '"$BASE_URL"')
    command = command.replace("'$MODEL'", '"$MODEL"')
    return [
        "## Check it",
        "",
        "- `scripts/smoke-test.sh`: health, model list, one chat completion",
        "- `scripts/loadtest.sh`: a short load test with the advisor's CLI, at concurrency "
        f"1, half your peak and your peak (capped at {MAX_LOADTEST_CONCURRENCY}):",
        "",
        f"      {command}",
        "",
        "Compare its p95 and tokens/s with the predictions above; if they are far off, feed the "
        "results back to the advisor (attach the load test to the assessment).",
        "",
        "See `MIGRATION.md` to move between Ollama and vLLM later.",
        "",
    ]


def _sources(inp: BundleInput) -> list[str]:
    if inp.backend is Backend.VLLM:
        where = (
            f"vLLM {VLLM_RELEASE}'s own argument parser (images `{VLLM_IMAGE}` and "
            f"`{VLLM_ROCM_IMAGE}`)"
        )
    else:
        where = (
            f"Ollama's `envconfig/config.go` (images `{OLLAMA_IMAGE}` and `{OLLAMA_ROCM_IMAGE}`; "
            f"read at {ollama_env_table()['source']['read_at']})"
        )
    return [
        "## Versions",
        "",
        f"Every flag and variable in this bundle was checked against {where}.",
        "",
    ]
