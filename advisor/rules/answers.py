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
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from advisor.errors import AdvisorError, AdvisorValidationError

# Re-exported: the questionnaire's enums, bounds and field metadata live in questions.py.
from advisor.rules.questions import (  # noqa: F401
    ANSWER_FIELDS,
    AUTO,
    DEFAULT_CONTEXT_LENGTH,
    DEFAULT_MODEL,
    DEFAULT_OUTPUT_TOKENS,
    DEFAULT_PROMPT_TOKENS,
    FIELD_NAMES,
    MAX_CONCURRENT_USERS,
    MAX_CONTEXT_LENGTH,
    MAX_GPU_COUNT,
    MAX_GPU_HOURLY_COST_USD,
    MAX_LORA_ADAPTERS,
    MAX_PASTED_CHARS,
    MAX_SLO_MS,
    MAX_VLLM_VERSION_CHARS,
    MIN_CONTEXT_LENGTH,
    AnswerField,
    DeploymentTarget,
    Feature,
    Platform,
    Skill,
    UseCase,
    VllmKvCacheDtype,
)
from advisor.rules.vllm_settings import READING_FIELDS, reading_errors, vllm_setting_errors

_FIELDS_BY_NAME = {f.name: f for f in ANSWER_FIELDS}
# Readings pasted from the user's own servers measure the setup answered: they (and the parallel
# sizes the user runs it with) do not carry over to another model or other GPUs.
SETUP_FIELDS = ("tensor_parallel_size", "data_parallel_size", *READING_FIELDS)
# A custom model's name reaches commands and file names in bundles: keep it to safe characters.
CUSTOM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}")


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
    custom_model: dict[str, Any] | None = field(default=None, compare=False)
    # vLLM's own flags (None: the capacity model chooses, or the release's default).
    tensor_parallel_size: int | None = None
    data_parallel_size: int | None = None
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    gpu_memory_utilization: float | None = None
    kv_cache_dtype: VllmKvCacheDtype = VllmKvCacheDtype.AUTO
    vllm_version: str | None = None
    # Pasted output of the user's own servers (advisor.capacity.server_logs reads them).
    vllm_log: str | None = None
    vllm_metrics: str | None = None
    ollama_ps: str | None = None

    @classmethod
    def defaults(cls) -> Answers:
        """The starting answers (a solo prototype on a workstation). ``gpu`` is unset: parsing
        them needs a GPU (or gpu_count 0) unless a hardware report is attached."""
        return cls()

    @classmethod
    def fields(cls) -> list[dict[str, Any]]:
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
    def readings(self) -> dict[str, str]:
        """The pasted server output given, keyed by field name."""
        return {n: getattr(self, n) for n in READING_FIELDS if getattr(self, n)}

    def on_other_setup(self, **changes: Any) -> Answers:
        """These answers for another model, format or hardware: ``changes`` applied, and the
        parallel sizes and readings of the setup answered dropped (they measured that one)."""
        return dataclasses.replace(self, **{**dict.fromkeys(SETUP_FIELDS), **changes})

    @property
    def slos(self) -> dict[str, float]:
        """The latency targets given, keyed by field name."""
        names = ("slo_ttft_ms", "slo_tpot_ms", "slo_e2e_p95_ms")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def as_dict(self) -> dict[str, Any]:
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
        self.model_spec: Any = None

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
        self.check_vllm_settings()
        self.check_readings()
        if self.errors:
            raise AdvisorValidationError(self.errors)
        return Answers(**self.values)

    def check_catalog(self) -> None:
        from advisor.capacity import catalog  # the one resolver for names

        model_spec = None
        custom = self.values.get("custom_model")
        if custom is not None and "model" not in self.errors:
            name = self.values["model"]
            if not CUSTOM_NAME.fullmatch(name):
                self.fail("model", "a custom model's name may use letters, digits and . _ : / -")
            else:
                model_spec = self.resolve(
                    "custom_model", lambda c: custom_model_spec(c, name), custom
                )
        elif "model" not in self.errors:
            model_spec = self.resolve("model", catalog.resolve_model, self.values["model"])
            if model_spec is not None:
                self.values["model"] = model_spec.id
        self.model_spec = model_spec
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

    def check_vllm_settings(self) -> None:
        for name, message in vllm_setting_errors(self.values, self.model_spec, self.errors):
            self.fail(name, message)

    def check_readings(self) -> None:
        for name, message in reading_errors(self.values, self.errors):
            self.fail(name, message)


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
    "kv_cache_dtype": VllmKvCacheDtype,
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


def _read_text(spec: AnswerField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    if len(raw) > MAX_VLLM_VERSION_CHARS or "\n" in raw:
        raise ValueError(f"expected a release number such as 0.33.0, got {raw[:40]!r}")
    return raw


def _read_paste(spec: AnswerField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected pasted text, got {type(raw).__name__}")
    if len(raw) > MAX_PASTED_CHARS:
        raise ValueError(
            f"{len(raw):,} characters is more than {MAX_PASTED_CHARS:,}: paste the start-up part"
        )
    return raw


def _read_object(spec: AnswerField, raw: Any) -> dict[str, Any]:
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
    "text": _read_text,
    "paste": _read_paste,
}


def custom_model_spec(config: Mapping[str, Any], name: str) -> Any:
    """The ``ModelSpec`` of a custom model from its Hugging Face config.json (capacity's reader)."""
    from advisor.capacity.custom import model_from_hf_config

    return model_from_hf_config(config, model_id=name)
