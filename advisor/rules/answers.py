"""The questionnaire contract: what a team tells us, checked once for the form, the API and the CLI.

``Answers.parse(data)`` takes a plain dict (form data, JSON body or answers file), applies defaults,
checks every bound and every catalog name, and returns a frozen ``Answers``; every bad field is
reported at once through ``AdvisorValidationError.errors`` (a subclass of ``AdvisorError`` whose
``field`` is the first bad field). ``ANSWER_FIELDS`` / ``Answers.fields()`` describe each question
(kind, choices, bounds, default, why it matters) so the UI and the API can render from one place.

Pure Python: no Django import. Model, GPU and quantization names go through the capacity model's
resolver (``advisor.capacity.catalog``), which accepts catalog ids, Hugging Face repo ids, Ollama
tags and driver-reported GPU names.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from advisor.errors import AdvisorError, AdvisorValidationError


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


AUTO = "auto"

# Bounds. Each is a sanity limit on input, not a judgement (judgements live in thresholds.py).
MAX_CONCURRENT_USERS = 100_000  # far beyond one deployment; larger is a typo
MIN_CONTEXT_LENGTH = 256  # smaller cannot hold a chat template plus a question
MAX_CONTEXT_LENGTH = 10_485_760  # Llama 4 Scout's 10M-token window, the largest published
MAX_GPU_COUNT = 64  # eight 8-GPU nodes; vLLM tensor x pipeline parallel beyond that is out of scope
MAX_LORA_ADAPTERS = 10_000  # vLLM --max-loras caps resident adapters; more is a typo
MAX_SLO_MS = 600_000.0  # ten minutes; an SLO beyond that is not a latency target
MAX_GPU_HOURLY_COST_USD = 1_000.0  # an 8xH200 node rents for well under this per GPU-hour

DEFAULT_MODEL = "llama-3.1-8b"
DEFAULT_CONTEXT_LENGTH = 8192
DEFAULT_PROMPT_TOKENS = 512  # a chat turn with some history
DEFAULT_OUTPUT_TOKENS = 256  # a few paragraphs


@dataclass(frozen=True)
class AnswerField:
    """How to ask one question; ``as_dict()`` is what the UI and the API render from."""

    name: str
    label: str
    kind: str  # choice | multi_choice | int | float | catalog | object
    help: str
    default: Any = None
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    catalog: str | None = None  # models | gpus | quantizations: list from advisor.capacity.catalog
    unit: str | None = None

    def as_dict(self) -> dict:
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
        "Catalog id or the name the driver reports (NVIDIA H100 80GB HBM3, Apple M3 Max). "
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
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in ANSWER_FIELDS)
_FIELDS_BY_NAME = {f.name: f for f in ANSWER_FIELDS}


@dataclass(frozen=True)
class Answers:
    """One team's answers, normalised: catalog names resolved to catalog ids, enums, tuples.

    ``gpu`` is None when the hardware report decides (or for CPU only); ``gpu_count`` is None when
    the hardware report decides, 0 for CPU only.
    """

    use_case: UseCase = UseCase.PROTOTYPE
    peak_concurrent_users: int = 1
    platform: Platform = Platform.AUTO
    model: str = DEFAULT_MODEL
    quantization: str = AUTO
    context_length: int = DEFAULT_CONTEXT_LENGTH
    avg_prompt_tokens: int = DEFAULT_PROMPT_TOKENS
    avg_output_tokens: int = DEFAULT_OUTPUT_TOKENS
    slo_ttft_ms: float | None = None
    slo_tpot_ms: float | None = None
    slo_e2e_p95_ms: float | None = None
    gpu: str | None = None
    gpu_count: int | None = None
    features: tuple[Feature, ...] = ()
    lora_adapters: int = 0
    team_skills: tuple[Skill, ...] = ()
    deployment_target: DeploymentTarget = DeploymentTarget.WORKSTATION
    gpu_hourly_cost_usd: float | None = None
    custom_model: dict | None = field(default=None, compare=False)

    @classmethod
    def defaults(cls) -> Answers:
        """The starting answers (a solo prototype on a workstation). ``gpu`` is unset: parsing
        them needs a GPU (or gpu_count 0) unless a hardware report is attached."""
        return cls()

    @classmethod
    def fields(cls) -> list[dict]:
        """Every question's metadata, JSON-safe, in the order to ask them."""
        return [f.as_dict() for f in ANSWER_FIELDS]

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, hardware_report_attached: bool = False) -> Answers:
        """Validate ``data`` (missing keys take defaults) into ``Answers``.

        Raises ``AdvisorValidationError`` (an ``AdvisorError``) whose ``errors`` maps every bad
        field to its messages; unknown keys are errors too, so a typo is never silently ignored.
        """
        if not isinstance(data, Mapping):
            raise AdvisorValidationError(
                {"non_field_errors": [f"answers must be an object, got {type(data).__name__}"]}
            )
        return _Parser(data, hardware_report_attached).run()

    @property
    def cpu_only(self) -> bool:
        return self.gpu_count == 0

    @property
    def slos(self) -> dict[str, float]:
        """The latency targets given, keyed by field name."""
        names = ("slo_ttft_ms", "slo_tpot_ms", "slo_e2e_p95_ms")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def as_dict(self) -> dict:
        """JSON-safe; ``Answers.parse(a.as_dict())`` gives back an equal ``Answers``."""
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [str(v) for v in value]
            elif isinstance(value, StrEnum):
                value = value.value
            data[f.name] = value
        return data


class _Parser:
    """Collects every field error before raising, so a form shows them all at once."""

    def __init__(self, data: Mapping[str, Any], hardware_report_attached: bool):
        self.data = data
        self.hardware = hardware_report_attached
        self.errors: dict[str, list[str]] = {}
        self.values: dict[str, Any] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raw(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            value = value.strip()
        return None if value in (None, "") else value

    def run(self) -> Answers:
        for key in self.data:
            if key not in _FIELDS_BY_NAME:
                self.fail(
                    str(key), f"unknown question {key!r}; expected one of {', '.join(FIELD_NAMES)}"
                )
        defaults = Answers.defaults()
        for spec in ANSWER_FIELDS:
            raw = self.raw(spec.name)
            if raw is None:
                self.values[spec.name] = getattr(defaults, spec.name)
                continue
            reader = _READERS[spec.kind]
            try:
                self.values[spec.name] = reader(spec, raw)
            except ValueError as exc:
                self.fail(spec.name, str(exc))
        self.check_catalog()
        self.check_consistency()
        if self.errors:
            raise AdvisorValidationError(self.errors)
        return Answers(**self.values)

    def check_catalog(self) -> None:
        from advisor.capacity import catalog  # the one resolver for names (issue 4)

        model_spec = None
        custom = self.values.get("custom_model")
        if custom is not None and "model" not in self.errors:
            model_spec = self.resolve("custom_model", _custom_model_reader(catalog), custom)
        elif "model" not in self.errors:
            model_spec = self.resolve("model", catalog.resolve_model, self.values["model"])
            if model_spec is not None:
                self.values["model"] = model_spec.id
        if model_spec is not None and "context_length" not in self.errors:
            max_context = getattr(model_spec, "max_context", None)
            if max_context and self.values["context_length"] > max_context:
                self.fail(
                    "context_length",
                    f"{self.values['context_length']} tokens is longer than "
                    f"{self.values['model']}'s maximum context of {max_context} tokens",
                )
        quant = self.values.get("quantization")
        if "quantization" not in self.errors and quant != AUTO:
            spec = self.resolve("quantization", catalog.resolve_quantization, quant)
            if spec is not None:
                self.values["quantization"] = spec.id
        gpu = self.values.get("gpu")
        if gpu is not None and "gpu" not in self.errors:
            spec = self.resolve("gpu", catalog.resolve_gpu, gpu)
            if spec is not None:
                self.values["gpu"] = spec.id
                self.values["_gpu_spec"] = spec

    def resolve(self, name: str, resolver: Callable[[Any], Any], value: Any) -> Any:
        try:
            return resolver(value)
        except AdvisorError as exc:
            self.fail(name, exc.message)
            return None

    def check_consistency(self) -> None:
        v = self.values
        gpu_spec = v.pop("_gpu_spec", None)
        if "gpu_count" not in self.errors and "gpu" not in self.errors:
            if v["gpu_count"] == 0:
                v["gpu"] = None  # CPU only: a GPU name would be contradictory but harmless
            elif v["gpu"] is None and not self.hardware:
                self.fail(
                    "gpu",
                    "say which GPU will serve the model (or set gpu_count to 0 for CPU only), "
                    "or attach a hardware report",
                )
            elif v["gpu"] is not None and v["gpu_count"] is None:
                v["gpu_count"] = 1
        if gpu_spec is not None and v.get("gpu") is not None and "platform" not in self.errors:
            apple = getattr(gpu_spec, "vendor", "") == "apple"
            if apple and v["platform"] in (Platform.LINUX, Platform.WINDOWS):
                self.fail("platform", f"{gpu_spec.name} is an Apple GPU: its platform is macOS")
            if not apple and v["platform"] == Platform.MACOS:
                self.fail("gpu", f"{gpu_spec.name} cannot serve from macOS; pick an Apple GPU")
            if apple and (v.get("gpu_count") or 0) > 1:
                self.fail("gpu_count", "a Mac has exactly one (unified-memory) GPU")
        if not {"avg_prompt_tokens", "avg_output_tokens", "context_length"} & self.errors.keys():
            total = v["avg_prompt_tokens"] + v["avg_output_tokens"]
            if total > v["context_length"]:
                self.fail(
                    "context_length",
                    f"an average request needs {total} tokens (prompt {v['avg_prompt_tokens']} + "
                    f"answer {v['avg_output_tokens']}), more than the context length "
                    f"{v['context_length']}",
                )


def _read_int(spec: AnswerField, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"expected a whole number, got {raw!r}")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    try:
        value = int(raw) if isinstance(raw, int | str) else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"expected a whole number, got {raw!r}")
    return int(_check_bounds(spec, value))


def _read_float(spec: AnswerField, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = float(raw) if isinstance(raw, int | float | str) else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"expected a number, got {raw!r}")
    if spec.minimum == 0 and value <= 0 and spec.name.startswith("slo_"):
        raise ValueError(f"a latency target must be above 0 ms, got {value:g}")
    return _check_bounds(spec, value)


def _check_bounds(spec: AnswerField, value: float) -> float:
    if spec.minimum is not None and value < spec.minimum:
        raise ValueError(f"must be at least {spec.minimum:g}, got {value:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise ValueError(f"must be at most {spec.maximum:g}, got {value:g}")
    return value


_ENUMS: dict[str, type[StrEnum]] = {
    "use_case": UseCase,
    "platform": Platform,
    "deployment_target": DeploymentTarget,
    "features": Feature,
    "team_skills": Skill,
}


def _read_choice(spec: AnswerField, raw: Any) -> StrEnum:
    enum = _ENUMS[spec.name]
    text = str(raw).strip().lower()
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValueError(f"{raw!r} is not one of {allowed}") from None


def _read_multi_choice(spec: AnswerField, raw: Any) -> tuple[StrEnum, ...]:
    items: Iterable[Any]
    if isinstance(raw, str):
        items = [part for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list | tuple | set | frozenset):
        items = raw
    else:
        raise ValueError(f"expected a list of choices, got {raw!r}")
    chosen = {_read_choice(spec, item) for item in items}
    order = list(_ENUMS[spec.name])
    return tuple(sorted(chosen, key=order.index))  # canonical order: equal answers compare equal


def _read_catalog(spec: AnswerField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected a name, got {raw!r}")
    if len(raw) > 200:
        raise ValueError("a name longer than 200 characters cannot be a model, GPU or format")
    return raw if spec.name != "quantization" or raw.lower() != AUTO else AUTO


def _read_object(spec: AnswerField, raw: Any) -> dict:
    if not isinstance(raw, Mapping):
        raise ValueError(f"expected an object (a config.json), got {type(raw).__name__}")
    return dict(raw)


_READERS: dict[str, Callable[[AnswerField, Any], Any]] = {
    "choice": _read_choice,
    "multi_choice": _read_multi_choice,
    "int": _read_int,
    "float": _read_float,
    "catalog": _read_catalog,
    "object": _read_object,
}


def _custom_model_reader(catalog: Any) -> Callable[[dict], Any]:
    """The capacity model's reader for a Hugging Face config.json, when it offers one."""
    reader = getattr(catalog, "model_from_hf_config", None)
    if reader is None:

        def unsupported(_: dict) -> Any:
            raise AdvisorError("custom models are not supported yet", field="custom_model")

        return unsupported
    return reader
