"""The questions: answer enums, input bounds and each question's metadata (kind, choices, why).

Pure data for ``advisor.rules.answers`` (which validates) and for the form and the API (which render
``ANSWER_FIELDS``). No Django import.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class UseCase(StrEnum):
    PROTOTYPE = "prototype"
    INTERNAL = "internal"
    PRODUCTION = "production"


class Platform(StrEnum):
    AUTO = "auto"
    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"


class Feature(StrEnum):
    MULTI_LORA = "multi_lora"
    SPECULATIVE_DECODING = "speculative_decoding"
    KUBERNETES = "kubernetes"
    METRICS = "metrics"
    STRUCTURED_OUTPUT = "structured_output"


class Skill(StrEnum):
    PYTHON = "python"
    DOCKER = "docker"
    KUBERNETES = "kubernetes"


class DeploymentTarget(StrEnum):
    LAPTOP = "laptop"
    WORKSTATION = "workstation"
    SERVER = "server"
    KUBERNETES = "kubernetes"


class VllmKvCacheDtype(StrEnum):
    """vLLM's ``--kv-cache-dtype`` values the capacity model sizes (vllm/config/cache.py
    ``CacheDType``; fp8 is fp8_e4m3 on CUDA)."""

    AUTO = "auto"
    FP8 = "fp8"
    FP8_E4M3 = "fp8_e4m3"
    FP8_E5M2 = "fp8_e5m2"


AUTO = "auto"

# Bounds. Each is a sanity limit on input, not a judgement (judgements live in thresholds.py).
MAX_CONCURRENT_USERS = 100_000  # far beyond one deployment; larger is a typo
MIN_CONTEXT_LENGTH = 256  # smaller cannot hold a chat template plus a question
MAX_CONTEXT_LENGTH = 10_485_760  # Llama 4 Scout's 10M-token window, the largest published
MAX_GPU_COUNT = 64  # eight 8-GPU nodes; vLLM tensor x pipeline parallel beyond that is out of scope
MAX_LORA_ADAPTERS = 10_000  # vLLM --max-loras caps resident adapters; more is a typo
MAX_SLO_MS = 600_000.0  # ten minutes; an SLO beyond that is not a latency target
MAX_GPU_HOURLY_COST_USD = 1_000.0  # an 8xH200 node rents for well under this per GPU-hour

MAX_NUM_SEQS = 65_536  # vLLM's --max-num-seqs; far beyond any GPU's KV cache (capacity request)
MAX_BATCHED_TOKENS = 10_000_000  # the capacity request's token bound (request.MAX_TOKENS)
MIN_GPU_MEMORY_UTILIZATION = 0.01  # vLLM requires > 0 (CacheConfig: gt=0, le=1)
MAX_VLLM_VERSION_CHARS = 40  # "0.33.0", "0.10.1.post1": a release number, not prose
# A pasted start-up log or /metrics page: the lines that matter come in the first minutes of a
# log; a whole day of request logs is not needed (and the API caps a body at 2.5 MB).
MAX_PASTED_CHARS = 500_000

DEFAULT_MODEL = "llama-3.1-8b"
DEFAULT_CONTEXT_LENGTH = 8192
DEFAULT_PROMPT_TOKENS = 512  # a chat turn with some history
DEFAULT_OUTPUT_TOKENS = 256  # a few paragraphs


@dataclass(frozen=True)
class AnswerField:
    """How to ask one question; ``as_dict()`` is what the UI and the API render from."""

    name: str
    label: str
    kind: str  # choice | multi_choice | int | float | catalog | object | text | paste
    help: str
    default: Any = None
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    catalog: str | None = None  # models | gpus | quantizations: list from advisor.capacity.catalog
    unit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["choices"] = [{"value": v, "label": label} for v, label in self.choices]
        data["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        return data


def _choices(enum: type[StrEnum], labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((member.value, labels[member.value]) for member in enum)


ANSWER_FIELDS: tuple[AnswerField, ...] = (
    AnswerField(
        "use_case",
        "What is it for?",
        "choice",
        "A prototype favours the server that is running in two minutes; user-facing production "
        "favours predictable latency under load.",
        default=UseCase.PROTOTYPE.value,
        choices=_choices(
            UseCase,
            {
                "prototype": "Prototype or personal use",
                "internal": "Internal tool for a team",
                "production": "User-facing production",
            },
        ),
    ),
    AnswerField(
        "peak_concurrent_users",
        "Peak concurrent users",
        "int",
        "Requests in flight at the busiest moment. Concurrency is the dividing line: Ollama serves "
        "roughly one request at a time, vLLM batches many into the same pass.",
        default=1,
        minimum=1,
        maximum=MAX_CONCURRENT_USERS,
        unit="users",
    ),
    AnswerField(
        "platform",
        "Operating system of the serving host",
        "choice",
        "vLLM does not run on macOS; 'auto' takes it from the hardware report or the GPU.",
        default=Platform.AUTO.value,
        choices=_choices(
            Platform,
            {"auto": "Detect", "linux": "Linux", "macos": "macOS", "windows": "Windows"},
        ),
    ),
    AnswerField(
        "model",
        "Model",
        "catalog",
        "Catalog id, Hugging Face repo id (meta-llama/Llama-3.1-8B-Instruct) or Ollama tag "
        "(llama3.1:8b). Its size decides whether it fits one GPU or needs tensor parallelism.",
        default=DEFAULT_MODEL,
        required=True,
        catalog="models",
    ),
    AnswerField(
        "quantization",
        "Quantization",
        "catalog",
        "Bytes per weight: 'auto' uses each server's usual format (bf16 for vLLM, Q4_K_M for "
        "Ollama). A smaller format can make a model fit.",
        default=AUTO,
        catalog="quantizations",
    ),
    AnswerField(
        "context_length",
        "Context length",
        "int",
        "The longest prompt plus answer a request may need. Every slot reserves KV cache for it.",
        default=DEFAULT_CONTEXT_LENGTH,
        minimum=MIN_CONTEXT_LENGTH,
        maximum=MAX_CONTEXT_LENGTH,
        unit="tokens",
    ),
    AnswerField(
        "avg_prompt_tokens",
        "Average prompt length",
        "int",
        "Drives time to first token (prefill) and the KV cache each request holds.",
        default=DEFAULT_PROMPT_TOKENS,
        minimum=1,
        maximum=MAX_CONTEXT_LENGTH,
        unit="tokens",
    ),
    AnswerField(
        "avg_output_tokens",
        "Average answer length",
        "int",
        "Drives end-to-end latency (decode) and output throughput.",
        default=DEFAULT_OUTPUT_TOKENS,
        minimum=1,
        maximum=MAX_CONTEXT_LENGTH,
        unit="tokens",
    ),
    AnswerField(
        "slo_ttft_ms",
        "Target time to first token (optional)",
        "float",
        "A latency target for users watching the answer stream; checked against the prediction "
        "and any load test.",
        minimum=0,
        maximum=MAX_SLO_MS,
        unit="ms",
    ),
    AnswerField(
        "slo_tpot_ms",
        "Target time per output token (optional)",
        "float",
        "Streaming speed per user; 50 ms is about 20 tokens/s, faster than people read.",
        minimum=0,
        maximum=MAX_SLO_MS,
        unit="ms",
    ),
    AnswerField(
        "slo_e2e_p95_ms",
        "Target p95 end-to-end latency (optional)",
        "float",
        "Tail latency under load is where sequential serving collapses first.",
        minimum=0,
        maximum=MAX_SLO_MS,
        unit="ms",
    ),
    AnswerField(
        "gpu",
        "GPU",
        "catalog",
        "Catalog id or the name the driver reports (NVIDIA H100 80GB HBM3). On a Mac, pick the "
        "chip with its unified memory (apple-m3-max-64gb): the same chip ships with 36 to 128 GB. "
        "Optional when a hardware report is attached.",
        catalog="gpus",
    ),
    AnswerField(
        "gpu_count",
        "Number of GPUs",
        "int",
        "0 means CPU only (Ollama via llama.cpp). More than one GPU for one model needs tensor "
        "parallelism, which only vLLM does well. Optional when a hardware report is attached.",
        minimum=0,
        maximum=MAX_GPU_COUNT,
        unit="GPUs",
    ),
    AnswerField(
        "features",
        "Features you need",
        "multi_choice",
        "Multi-LoRA hot-swap, speculative decoding, Kubernetes and Prometheus metrics are vLLM "
        "production features; structured output works on both.",
        default=(),
        choices=_choices(
            Feature,
            {
                "multi_lora": "Many LoRA adapters on one base model",
                "speculative_decoding": "Speculative decoding",
                "kubernetes": "Kubernetes deployment",
                "metrics": "Prometheus metrics",
                "structured_output": "Structured (JSON) output",
            },
        ),
    ),
    AnswerField(
        "lora_adapters",
        "LoRA adapters to serve",
        "int",
        "Serving several fine-tunes of one base model from one deployment is vLLM's multi-LoRA.",
        default=0,
        minimum=0,
        maximum=MAX_LORA_ADAPTERS,
        unit="adapters",
    ),
    AnswerField(
        "team_skills",
        "Your team is comfortable with",
        "multi_choice",
        "vLLM assumes Python, Docker and serving know-how; Ollama needs none of it.",
        default=(),
        choices=_choices(
            Skill, {"python": "Python", "docker": "Docker", "kubernetes": "Kubernetes"}
        ),
    ),
    AnswerField(
        "deployment_target",
        "Where it will run",
        "choice",
        "A laptop or workstation suits Ollama's zero-config serving; a server or cluster suits vLLM.",
        default=DeploymentTarget.WORKSTATION.value,
        choices=_choices(
            DeploymentTarget,
            {
                "laptop": "A laptop",
                "workstation": "A desktop workstation",
                "server": "A server",
                "kubernetes": "A Kubernetes cluster",
            },
        ),
    ),
    AnswerField(
        "gpu_hourly_cost_usd",
        "GPU price per hour (optional)",
        "float",
        "Overrides the catalog price per GPU-hour for the $/1M tokens comparison.",
        minimum=0,
        maximum=MAX_GPU_HOURLY_COST_USD,
        unit="USD/GPU-hour",
    ),
    AnswerField(
        "custom_model",
        "Custom model config (optional)",
        "object",
        "A Hugging Face config.json (as an object) for a model the catalog does not know; "
        "'model' is then its display name.",
    ),
    # ---- vLLM's own settings, as ``vllm serve`` flags (blank: the capacity model chooses) ----
    AnswerField(
        "tensor_parallel_size",
        "vLLM --tensor-parallel-size (optional)",
        "int",
        "GPUs one vLLM replica spans. Blank: the fewest that fit. The model's attention and KV "
        "heads must divide by it, and it times the data-parallel size cannot exceed the GPUs.",
        minimum=1,
        maximum=MAX_GPU_COUNT,
        unit="GPUs",
    ),
    AnswerField(
        "data_parallel_size",
        "vLLM --data-parallel-size (optional)",
        "int",
        "Replicas of the model, each with its own KV cache. Blank: every GPU the tensor-parallel "
        "groups leave.",
        minimum=1,
        maximum=MAX_GPU_COUNT,
        unit="replicas",
    ),
    AnswerField(
        "max_num_seqs",
        "vLLM --max-num-seqs (optional)",
        "int",
        "Requests one replica runs at once. Blank: the release's default for this GPU (1024 on "
        "an H100 in 0.33). It also sizes the start-up profile run, so the KV cache.",
        minimum=1,
        maximum=MAX_NUM_SEQS,
        unit="requests",
    ),
    AnswerField(
        "max_num_batched_tokens",
        "vLLM --max-num-batched-tokens (optional)",
        "int",
        "Tokens one scheduler step processes (prefill chunks). Blank: the release's default for "
        "this GPU. vLLM refuses fewer than --max-num-seqs.",
        minimum=1,
        maximum=MAX_BATCHED_TOKENS,
        unit="tokens",
    ),
    AnswerField(
        "gpu_memory_utilization",
        "vLLM --gpu-memory-utilization (optional)",
        "float",
        "The share of each GPU's memory vLLM may use; what weights and the profile run leave is "
        "KV cache. Blank: the release's default (0.92 in 0.33).",
        minimum=MIN_GPU_MEMORY_UTILIZATION,
        maximum=1.0,
    ),
    AnswerField(
        "kv_cache_dtype",
        "vLLM --kv-cache-dtype",
        "choice",
        "fp8 stores the KV cache in one byte per element: twice the tokens in the same memory.",
        default=VllmKvCacheDtype.AUTO.value,
        choices=_choices(
            VllmKvCacheDtype,
            {
                "auto": "auto (the model's dtype)",
                "fp8": "fp8",
                "fp8_e4m3": "fp8_e4m3",
                "fp8_e5m2": "fp8_e5m2",
            },
        ),
    ),
    AnswerField(
        "vllm_version",
        "vLLM release you run (optional)",
        "text",
        "Sizes the memory the way that release does (its defaults and profile run changed "
        "between releases). Blank: the pinned release the bundle deploys.",
    ),
    AnswerField(
        "vllm_log",
        "vLLM start-up log (optional)",
        "paste",
        'Paste the log of a vLLM serving this model here: its "Available KV cache memory" '
        '(or "# GPU blocks") replaces the modelled KV budget, and the page shows the model\'s '
        "error on it.",
    ),
    AnswerField(
        "vllm_metrics",
        "vLLM /metrics page (optional)",
        "paste",
        "Paste the text of a running vLLM's /metrics: vllm:cache_config_info's num_gpu_blocks "
        "replaces the modelled KV cache.",
    ),
    AnswerField(
        "ollama_ps",
        "Ollama's ps or load lines (optional)",
        "paste",
        "Paste `ollama ps`, the /api/ps response or the server log's load lines of this model: "
        "its size replaces the modelled memory, with the model's error shown.",
    ),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in ANSWER_FIELDS)
# The advanced answers: vLLM's own flags and the pasted output of the user's own servers.
SERVER_SETTING_FIELDS: tuple[str, ...] = (
    "tensor_parallel_size",
    "data_parallel_size",
    "max_num_seqs",
    "max_num_batched_tokens",
    "gpu_memory_utilization",
    "kv_cache_dtype",
    "vllm_version",
    "vllm_log",
    "vllm_metrics",
    "ollama_ps",
)
