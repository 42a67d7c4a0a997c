"""The rules, as data: what each one looks at, what it does, what it says and where it comes from.

A rule's ``effect`` is one of: ``require`` (the other server cannot serve this case), ``weigh``
(``weight`` points toward ``backend``), ``note`` (worth saying, favours neither). ``message`` is a
template filled from the evidence (the numbers) its ``check`` returns. ``rules_table()`` is the "how we decide"
table shown in the UI and the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from advisor.rules import checks, load_checks
from advisor.rules.facts import Facts
from advisor.rules.thresholds import (
    ARTICLE,
    COLLAPSE_P95_RATIO,
    COST_RATIO,
    DEGRADED_P95_RATIO,
    HANDFUL_USERS,
    MANY_USERS,
    MAX_FAILURE_RATE,
    MULTI_LORA_ADAPTERS,
    OLLAMA_CONCURRENCY_LIMIT,
)
from probes.kinds import Backend


class Category(StrEnum):
    CONSTRAINT = "constraint"
    WORKLOAD = "workload"
    FEATURES = "features"
    MEASURED = "measured"
    OPERATIONS = "operations"
    COST = "cost"


class Effect(StrEnum):
    REQUIRE = "require"
    WEIGH = "weigh"  # adds its weight toward a server
    NOTE = "note"


@dataclass(frozen=True)
class Rule:
    id: str
    category: Category
    condition: str
    effect: Effect
    backend: Backend | None
    weight: float
    message: str
    source: str
    check: Callable[[Facts], dict[str, Any] | None]

    def effect_text(self) -> str:
        if self.effect is Effect.NOTE or self.backend is None:  # a note names no server
            return "note (favours neither)"
        if self.effect is Effect.REQUIRE:
            return f"requires {self.backend.label}"
        return f"+{self.weight:g} toward {self.backend.label}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category.value,
            "condition": self.condition,
            "effect": self.effect.value,
            "effect_text": self.effect_text(),
            "backend": self.backend.value if self.backend else None,
            "weight": self.weight,
            "message": self.message,
            "source": self.source,
        }


OLLAMA, VLLM = Backend.OLLAMA, Backend.VLLM
REQ, EV, NOTE = Effect.REQUIRE, Effect.WEIGH, Effect.NOTE
C = Category
VLLM_INSTALL = "https://docs.vllm.ai/en/latest/getting_started/installation/"
OLLAMA_FAQ = "https://github.com/ollama/ollama/blob/main/docs/faq.md"

RULES: tuple[Rule, ...] = (
    # ---- hard constraints
    Rule("constraint.macos", C.CONSTRAINT, "the serving host is a Mac (macOS or an Apple GPU)", REQ, OLLAMA, 0,
         "You serve from {hardware} on {platform}: vLLM does not run on Apple Silicon GPUs, Ollama does (Metal/MLX).",
         f"{ARTICLE}, 'Hardware and platform'; vLLM installation docs (GPU: NVIDIA CUDA, AMD ROCm, Intel XPU; macOS: CPU only) {VLLM_INSTALL}",
         checks.macos),
    Rule("constraint.cpu_only", C.CONSTRAINT, "no GPU (gpu_count 0 or none detected)", REQ, OLLAMA, 0,
         "CPU only ({hardware}, RAM {ram}): Ollama runs GGUF models on the CPU through llama.cpp; vLLM is a GPU-first engine.",
         f"{ARTICLE}, 'Hardware and platform' (Ollama 'on CPU in a pinch via its llama.cpp foundation')",
         checks.cpu_only),
    Rule("constraint.tensor_parallel", C.CONSTRAINT, "the model needs more than one GPU (tensor parallelism)", REQ, VLLM, 0,
         "{model} needs {tp} GPUs with tensor parallelism ({weights} of weights; one {gpu} has {gpu_memory}): vLLM shards it with --tensor-parallel-size {tp}; Ollama's multi-GPU support only splits layers.",
         f"{ARTICLE}, 'Hardware and platform' ('vLLM is your only option'); vLLM docs, distributed serving",
         checks.tensor_parallel),
    Rule("hardware.server_gpu", C.CONSTRAINT, "a data-centre NVIDIA or AMD GPU", EV, VLLM, 1,
         "{gpu} is a data-centre {vendor} GPU, the hardware vLLM is built for.",
         f"{ARTICLE}, 'Hardware and platform' ('vLLM runs on NVIDIA and AMD server GPUs')",
         checks.server_gpu),
    Rule("hardware.consumer_gpu", C.CONSTRAINT, "a consumer GPU", NOTE, None, 0,
         "{gpu} ({memory}) is a consumer GPU: both servers run on it when the model fits in VRAM.",
         f"{ARTICLE}, 'Hardware and platform' ('Ollama runs comfortably on any consumer GPU with enough VRAM')",
         checks.consumer_gpu),
    Rule("hardware.vllm_does_not_fit", C.CONSTRAINT, "vLLM cannot load the model as asked, Ollama's GGUF fits in VRAM", EV, OLLAMA, 2,
         "{model} does not fit vLLM on {hardware} ({weights} of weights before any KV cache); Ollama's quantized build needs {ollama_memory} and fits.",
         "capacity model (advisor/capacity/estimate.py): vLLM memory accounting, Ollama VRAM fit",
         checks.vllm_does_not_fit),
    Rule("hardware.ollama_spills", C.CONSTRAINT, "Ollama would run some layers on the CPU; vLLM fits", EV, VLLM, 1,
         "Ollama would keep only {gpu_layers} of {total_layers} layers on {hardware} and run the rest on the CPU, many times slower; vLLM fits it on the GPU.",
         f"capacity model; Ollama /api/ps size_vram < size means layers spilled to the CPU ({OLLAMA_FAQ})",
         checks.ollama_spills),
    Rule("operations.windows", C.OPERATIONS, "the serving host runs Windows", EV, OLLAMA, 1,
         "On {platform}, Ollama installs natively; vLLM needs WSL2 or a Linux container.",
         f"vLLM installation docs (Linux only; Windows through WSL) {VLLM_INSTALL}",
         checks.windows),
    # ---- workload
    Rule("workload.users_above_handful", C.WORKLOAD, f"peak concurrent users > {HANDFUL_USERS}", EV, VLLM, 3,
         "{users} peak concurrent users is above a handful ({threshold}): Ollama as installed serves one request at a time, so up to {queued} wait behind it; as we would set it ({slots} parallel slots), {queued_tuned} still wait{prediction}; vLLM batches them in the same pass.",
         f"{ARTICLE}, 'The single-user reality' ('Above that, vLLM is the only sensible choice'); OLLAMA_NUM_PARALLEL default 1 (ollama envconfig)",
         checks.users_above_handful),
    Rule("workload.users_many", C.WORKLOAD, f"peak concurrent users > {MANY_USERS}", EV, VLLM, 1,
         "At {users} concurrent users (above {threshold}) continuous batching gives roughly 16-20x Ollama's throughput.",
         f"{ARTICLE}, 'The concurrency gap'; Red Hat, 'Ollama vs. vLLM: a deep dive into performance benchmarking' (2025-08-08): 793 vs 41 tok/s",
         checks.users_many),
    Rule("workload.users_beyond_ollama", C.WORKLOAD, f"peak concurrent users > {OLLAMA_CONCURRENCY_LIMIT}", EV, VLLM, 1,
         "{users} concurrent users is past where Ollama hit its limit in benchmarks (about {threshold} on an H100 with an 8B model; vLLM sustained over 180).",
         f"{ARTICLE}, 'The concurrency gap'",
         checks.users_beyond_ollama),
    Rule("workload.single_user", C.WORKLOAD, "one user at a time", EV, OLLAMA, 2,
         "One user at a time: Ollama comes within about {gap} of vLLM's single-stream speed, so vLLM's batching buys nothing here.",
         f"{ARTICLE}, 'The single-user reality'",
         checks.single_user),
    Rule("workload.few_users", C.WORKLOAD, f"2 to {HANDFUL_USERS} concurrent users", EV, OLLAMA, 1.5,
         "{users} concurrent users is within a handful ({threshold}): Ollama is fine and far easier (set OLLAMA_NUM_PARALLEL={users}).",
         f"{ARTICLE}, 'The single-user reality' ('Below a handful of simultaneous users, Ollama is fine')",
         checks.few_users),
    Rule("workload.prototype", C.WORKLOAD, "use case: prototype", EV, OLLAMA, 1,
         "A prototype: Ollama is answering in about two minutes, with nothing to tune.",
         f"{ARTICLE}, 'Who should pick which'",
         checks.prototype),
    Rule("workload.production", C.WORKLOAD, "use case: user-facing production", EV, VLLM, 1,
         "User-facing production: real traffic needs a server that keeps its success rate and tail latency under load.",
         f"{ARTICLE}, FAQ 'Is Ollama good enough for production?'",
         checks.production),
    Rule("workload.production_slos", C.WORKLOAD, "production with latency targets", EV, VLLM, 1,
         "Production with latency targets ({slos}): predictable latency under load is vLLM's job.",
         f"{ARTICLE}, 'Who should pick which' ('need predictable latency under load')",
         checks.production_slos),
    Rule("workload.predicted_slo_miss", C.WORKLOAD, "predicted: Ollama misses a latency target at your load where vLLM meets it", EV, VLLM, 2,
         "The capacity model predicts Ollama misses your targets at {concurrency} concurrent users ({misses}) where vLLM meets them.",
         "capacity model (advisor/capacity), 'source: model' performance levels",
         checks.predicted_slo_miss),
    # ---- features
    Rule("features.multi_lora", C.FEATURES, f"multi-LoRA, or {MULTI_LORA_ADAPTERS}+ LoRA adapters", EV, VLLM, 2.5,
         "Serving {adapters} LoRA adapters: vLLM hot-swaps many adapters on one base model (--enable-lora, --max-loras); Ollama needs one model per adapter (Modelfile ADAPTER).",
         f"{ARTICLE}, 'Features beyond raw serving'; vLLM docs, LoRA adapters; Ollama Modelfile ADAPTER",
         checks.multi_lora),
    Rule("features.speculative_decoding", C.FEATURES, "speculative decoding wanted", EV, VLLM, 1,
         "Speculative decoding is a vLLM serving feature (--speculative-config); Ollama does not expose it.",
         f"{ARTICLE}, 'Features beyond raw serving'",
         checks.speculative_decoding),
    Rule("features.kubernetes", C.FEATURES, "Kubernetes deployment", EV, VLLM, 1.5,
         "Kubernetes ({why}): vLLM ships a production stack and Helm chart, with health and readiness endpoints.",
         f"{ARTICLE}, 'Features beyond raw serving' ('Kubernetes support for orchestration')",
         checks.kubernetes),
    Rule("features.metrics", C.FEATURES, "Prometheus metrics wanted", EV, VLLM, 1.5,
         "Prometheus metrics: vLLM serves /metrics (queue length, KV-cache use, TTFT histograms); Ollama has no metrics endpoint.",
         f"{ARTICLE}, 'Features beyond raw serving' ('built-in metrics'); ollama/ollama has no /metrics route",
         checks.metrics_endpoint),
    Rule("features.structured_output", C.FEATURES, "structured (JSON) output wanted", NOTE, None, 0,
         "Structured output works on both: Ollama's 'format' takes a JSON schema, vLLM's structured outputs do the same through the OpenAI API.",
         "Ollama API docs ('format'); vLLM docs, structured outputs",
         checks.structured_output),
    # ---- operations
    Rule("operations.no_python_docker", C.OPERATIONS, "no Python or Docker skills listed", EV, OLLAMA, 1.5,
         "Team skills: {skills}. vLLM assumes comfort with Python, Docker and serving configuration; Ollama is one install and zero-config model management.",
         f"{ARTICLE}, 'Setup and ease of use'",
         checks.no_python_docker),
    Rule("operations.team_ready", C.OPERATIONS, "the team knows Python and Docker", NOTE, None, 0,
         "Your team knows {skills}: running vLLM is within reach.",
         f"{ARTICLE}, 'Setup and ease of use'",
         checks.team_ready),
    Rule("operations.laptop", C.OPERATIONS, "deployment target: a laptop", EV, OLLAMA, 1.5,
         "A laptop: Ollama runs as a background app with automatic GPU detection; vLLM targets GPU servers.",
         f"{ARTICLE}, 'Cost' ('Ollama runs on a laptop or a single consumer GPU')",
         checks.laptop),
    Rule("operations.workstation", C.OPERATIONS, "deployment target: a workstation", EV, OLLAMA, 0.5,
         "A desktop workstation: Ollama's one-command setup fits; vLLM is worth it only for concurrent traffic.",
         f"{ARTICLE}, 'Two different jobs'",
         checks.workstation),
    Rule("operations.server", C.OPERATIONS, "deployment target: a server", EV, VLLM, 0.5,
         "A server that others call: a serving system rather than a developer tool.",
         f"{ARTICLE}, 'Two different jobs' ('Ollama is a developer tool, vLLM is a serving system')",
         checks.server),
    Rule("operations.ollama_present", C.OPERATIONS, "the hardware report shows Ollama on the host, not vLLM", EV, OLLAMA, 0.5,
         "The hardware report shows Ollama {state} on this host: start where you are.",
         f"{ARTICLE}, 'Migrating between them' ('Start where you are'); probes report (servers, software)",
         checks.ollama_present),
    Rule("operations.vllm_present", C.OPERATIONS, "the hardware report shows vLLM on the host, not Ollama", EV, VLLM, 0.5,
         "The hardware report shows vLLM {state} on this host: the serving stack is already there.",
         "probes report (servers, software)",
         checks.vllm_present),
    # ---- measured
    Rule("measured.degraded", C.MEASURED, f"measured Ollama p95 at your load >= {DEGRADED_P95_RATIO:g}x single-user", EV, VLLM, 1.5,
         "Measured: Ollama's p95 end-to-end latency at {concurrency} concurrent users is {p95}, {ratio}x its single-user {single} (limit {limit}x): requests queue.",
         f"{ARTICLE}, 'When to move from Ollama to vLLM' ('Watch your p95 and p99 latency as concurrent users climb')",
         load_checks.measured_degraded),
    Rule("measured.collapse", C.MEASURED, f"measured Ollama p95 at your load >= {COLLAPSE_P95_RATIO:g}x single-user", EV, VLLM, 4,
         "Measured latency collapse: Ollama's p95 at {concurrency} concurrent users is {p95}, {ratio}x its single-user {single} (collapse at {limit}x). The serving layer, not the model, is the problem.",
         f"{ARTICLE}, 'When to move from Ollama to vLLM'; the load tester's sweep stops at 10x single-user p95",
         load_checks.measured_collapse),
    Rule("measured.failures", C.MEASURED, f"measured Ollama failures at your load > {MAX_FAILURE_RATE:.0%}", EV, VLLM, 4,
         "Measured failures: {failed} of {requests} requests ({rate}) failed on Ollama at {concurrency} concurrent users.",
         f"{ARTICLE}, 'The concurrency gap' ('Ollama's latency collapsed and requests began to fail'); OLLAMA_MAX_QUEUE 503s",
         load_checks.measured_failures),
    Rule("measured.slo_miss", C.MEASURED, "measured: Ollama meets the targets alone but not at your load", EV, VLLM, 2,
         "Measured: Ollama meets your targets for one user but misses them at {concurrency} concurrent users ({misses}).",
         f"{ARTICLE}, 'When to move from Ollama to vLLM' ('success rate and tail latency under concurrent load')",
         load_checks.measured_slo_miss),
    Rule("measured.ollama_holds", C.MEASURED, f"measured at your peak: Ollama p95 < {DEGRADED_P95_RATIO:g}x single-user, no failures, targets met", EV, OLLAMA, 2,
         "Measured: at {concurrency} concurrent users Ollama's p95 is {ratio}x its single-user {single}, with no failures and your targets met: it holds your load.",
         f"{ARTICLE}, 'When to move from Ollama to vLLM' ('If you are still serving a handful of users, stay on Ollama')",
         load_checks.measured_ollama_holds),
    Rule("measured.vllm_failures", C.MEASURED, "measured vLLM failures at your load", NOTE, None, 0,
         "vLLM failed {rate} of requests at {concurrency} concurrent users: check max_num_seqs, KV cache size and the client timeout.",
         "load test results (advisor/loadtest)",
         load_checks.measured_vllm_failures),
    # ---- cost
    Rule("cost.vllm_cheaper", C.COST, f"$/1M output tokens at your load: vLLM >= {COST_RATIO:g}x cheaper", EV, VLLM, 1,
         "Cost {load} ({source}): {vllm_cost}/1M output tokens on vLLM vs {ollama_cost} on Ollama, {ratio}x cheaper.",
         f"{ARTICLE}, 'Cost' ('vLLM is cheaper to scale')",
         load_checks.vllm_cheaper),
    Rule("cost.ollama_cheaper", C.COST, f"$/1M output tokens at your load: Ollama >= {COST_RATIO:g}x cheaper", EV, OLLAMA, 1,
         "Cost {load} ({source}): {ollama_cost}/1M output tokens on Ollama vs {vllm_cost} on vLLM, {ratio}x cheaper.",
         f"{ARTICLE}, 'Cost' ('Ollama is cheaper to start')",
         load_checks.ollama_cheaper),
)  # fmt: skip

RULES_BY_ID = {rule.id: rule for rule in RULES}


def rules_table() -> list[dict[str, Any]]:
    """The rule table, JSON-safe, in evaluation order ("how we decide")."""
    return [rule.as_dict() for rule in RULES]
