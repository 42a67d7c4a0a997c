"""Files every bundle has: .env.example, a smoke test, a short load test, a migration note."""

from __future__ import annotations

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import BundleInput
from advisor.bundles.targets import ollama_compose, vllm_compose
from advisor.bundles.targets.base import READ_ENV_FILE, Target, shell_script, shell_words
from advisor.releases import OLLAMA_IMAGE, VLLM_IMAGE, VLLM_ROCM_IMAGE
from probes.kinds import Backend

SMOKE_TEST = "scripts/smoke-test.sh"
LOAD_TEST = "scripts/loadtest.sh"
ENV_EXAMPLE = ".env.example"
MIGRATION = "MIGRATION.md"
MAX_LOADTEST_CONCURRENCY = 64  # a "short" test: minutes, not hours
MAX_LOADTEST_REQUESTS = 128
SMOKE_MAX_TOKENS = 32


def render(inp: BundleInput) -> list[BundleFile]:
    return [_env_example(inp), _smoke_test(inp), _load_test(inp), _migration(inp)]


def base_url(inp: BundleInput) -> str:
    return f"http://127.0.0.1:{inp.port}"


def _env_example(inp: BundleInput) -> BundleFile:
    if inp.backend is Backend.VLLM:
        lines = [
            "# Copy to .env and fill in. Never commit the filled-in file.",
            "# Bearer token clients must send; vLLM refuses requests without it.",
            "VLLM_API_KEY=change-me-to-a-long-random-string",
            "# Hugging Face token, needed for gated models (Llama, Gemma, ...).",
            "HF_TOKEN=",
            "# Optional: run other images than the bundle's (docker compose reads these).",
            f"# {vllm_compose.IMAGE_VAR}={VLLM_IMAGE}",
            f"# {vllm_compose.ROCM_IMAGE_VAR}={VLLM_ROCM_IMAGE}",
        ]
    else:
        lines = [
            "# Copy to .env and fill in. Ollama has no API key: keep it on a private network or",
            "# behind a reverse proxy that authenticates.",
            "# Optional: run another image than the bundle's (docker compose reads this).",
            f"# {ollama_compose.IMAGE_VAR}={OLLAMA_IMAGE}",
        ]
    lines += [
        "# Used by scripts/smoke-test.sh and scripts/loadtest.sh.",
        f"BASE_URL={base_url(inp)}",
        f"MODEL={inp.served_model}",
    ]
    return BundleFile(ENV_EXAMPLE, "\n".join(lines) + "\n", description="environment template")


def _smoke_test(inp: BundleInput) -> BundleFile:
    health = "/health" if inp.backend is Backend.VLLM else "/"
    body = (
        READ_ENV_FILE + f'BASE_URL="${{BASE_URL:-{base_url(inp)}}}"\n'
        f'MODEL="${{MODEL:-{inp.served_model}}}"\n'
        "auth=()\n"
        'if [[ -n "${VLLM_API_KEY:-}" ]]; then\n'
        '  auth=(-H "Authorization: Bearer ${VLLM_API_KEY}")\n'
        "fi\n"
        "\n"
        'echo "1/3 health: $BASE_URL' + health + '"\n'
        'curl -fsS --max-time 10 ${auth[@]+"${auth[@]}"} "$BASE_URL' + health + '" >/dev/null\n'
        'echo "2/3 models: $BASE_URL/v1/models"\n'
        'models="$(curl -fsS --max-time 10 ${auth[@]+"${auth[@]}"} "$BASE_URL/v1/models")"\n'
        'if ! grep -qF -- "$MODEL" <<<"$models"; then\n'
        '  echo "model $MODEL is not served; got: $models" >&2\n'
        "  exit 1\n"
        "fi\n"
        'echo "3/3 one chat completion with $MODEL"\n'
        'body=$(printf \'{"model": "%s", "max_tokens": '
        + str(SMOKE_MAX_TOKENS)
        + ', "messages": [{"role": "user", "content": "Say hello in five words."}]}\' "$MODEL")\n'
        'curl -fsS --max-time 120 ${auth[@]+"${auth[@]}"} -H "Content-Type: application/json" \\\n'
        '  -d "$body" "$BASE_URL/v1/chat/completions"\n'
        'echo\necho "smoke test passed"\n'
    )
    return shell_script(
        SMOKE_TEST,
        body,
        description="health, model list and one chat completion against the started server",
        summary="Smoke test: health, model list, one chat completion (OpenAI-compatible API).\n"
        "Usage: scripts/smoke-test.sh (reads ../.env; BASE_URL=http://host:port overrides it)",
    )


def loadtest_levels(inp: BundleInput) -> list[int]:
    """1, half the peak and the peak, capped so the test stays short."""
    peak = min(max(inp.peak_concurrent_users, 1), MAX_LOADTEST_CONCURRENCY)
    return sorted({1, max(1, peak // 2), peak})


def loadtest_command(inp: BundleInput) -> list[str]:
    """The advisor's load-test CLI (``python manage.py loadtest``) against this bundle's server."""
    levels = loadtest_levels(inp)
    requests = min(MAX_LOADTEST_REQUESTS, max(10, 2 * levels[-1]))
    words = [
        "python",
        "manage.py",
        "loadtest",
        "--base-url",
        "$BASE_URL",
        "--api",
        "openai" if inp.backend is Backend.VLLM else "ollama",
        "--model",
        "$MODEL",
        "--concurrency",
        ",".join(str(level) for level in levels),
        "--requests-per-level",
        str(requests),
        "--max-tokens",
        str(min(inp.avg_output_tokens, 512)),
        "--prompt-tokens",
        str(min(inp.avg_prompt_tokens, 4096)),
    ]
    flags = {"slo_ttft_ms": "--slo-ttft-ms", "slo_tpot_ms": "--slo-tpot-ms"}
    flags["slo_e2e_p95_ms"] = "--slo-e2e-ms"
    for key, flag in flags.items():
        if key in inp.slos:
            words += [flag, f"{inp.slos[key]:g}"]
    return words


def _load_test(inp: BundleInput) -> BundleFile:
    words = loadtest_command(inp)
    # $BASE_URL and $MODEL stay shell variables; everything else is quoted literally.
    rendered = " ".join(
        f'"{word}"' if word.startswith("$") else shell_words([word]) for word in words
    )
    body = (
        READ_ENV_FILE + f'BASE_URL="${{BASE_URL:-{base_url(inp)}}}"\n'
        f'MODEL="${{MODEL:-{inp.served_model}}}"\n'
        "# The CLI sends OPENAI_API_KEY as the Bearer token; vLLM's key works as that.\n"
        'export OPENAI_API_KEY="${OPENAI_API_KEY:-${VLLM_API_KEY:-}}"\n'
        'cd "${ADVISOR_DIR:?set ADVISOR_DIR to the LLM Serving Advisor checkout}"\n'
        'PYTHON="${PYTHON:-.venv/bin/python}"\n'
        f'exec "$PYTHON" {rendered.removeprefix("python ")} --json\n'
    )
    return shell_script(
        LOAD_TEST,
        body,
        description="a short load test with the advisor's `manage.py loadtest` CLI",
        summary="A short load test of the started server with the LLM Serving Advisor's CLI.\n"
        "Usage: ADVISOR_DIR=/path/to/advisor scripts/loadtest.sh (reads ../.env for BASE_URL, MODEL)",
    )


def _migration(inp: BundleInput) -> BundleFile:
    lines = [
        "# Moving between Ollama and vLLM",
        "",
        "Both servers speak the OpenAI API under `/v1`, so clients change two things: the base",
        "URL and the model name.",
        "",
        "| | Ollama | vLLM |",
        "|---|---|---|",
        "| base URL | `http://HOST:11434/v1` | `http://HOST:8000/v1` |",
        f"| model name | `{inp.ollama_tag}` | `{inp.hf_repo}` |",
        "| API key | none (put a proxy in front) | `Authorization: Bearer $VLLM_API_KEY` |",
        "| weights | GGUF, quantized (Q4_K_M by default) | safetensors from Hugging Face |",
        "| context | `OLLAMA_CONTEXT_LENGTH` / `num_ctx` | `--max-model-len` |",
        "| concurrency | `OLLAMA_NUM_PARALLEL` slots | `--max-num-seqs`, continuous batching |",
        "| metrics | none built in | Prometheus at `/metrics` |",
        "",
        "Answers differ slightly between the two: the default quantizations differ (GGUF Q4_K_M",
        "vs bf16), and so do sampling defaults. Re-run `scripts/smoke-test.sh` and",
        "`scripts/loadtest.sh` after the switch and compare with the advisor's predictions.",
    ]
    if inp.migration:
        lines += ["", "## From the recommendation", ""]
        lines += [f"- {line}" for line in inp.migration]
    return BundleFile(
        MIGRATION, "\n".join(lines) + "\n", description="how to move between Ollama and vLLM"
    )


TARGET = Target(
    name="common",
    backends=frozenset({Backend.OLLAMA, Backend.VLLM}),
    render=render,
    description=".env.example, smoke test, load test, migration note",
    runs_on_mac=True,
)
