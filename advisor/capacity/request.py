"""The estimate's input: one frozen request, validated so bad input names its field.

``EstimateRequest.parse(data)`` turns loose input (a form, JSON, CLI strings) into a request;
the constructor checks types and ranges. Both raise ``AdvisorError(field=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from advisor.capacity.specs import GpuSpec, ModelSpec
from advisor.capacity.vllm_memory import release
from advisor.errors import AdvisorError

# Defaults for a chat workload when the caller gives none (ShareGPT-like: a few hundred tokens in,
# a few hundred out; the load tester's defaults are of the same order).
DEFAULT_PROMPT_TOKENS = 512
DEFAULT_OUTPUT_TOKENS = 256
DEFAULT_CONCURRENCY = (1, 8, 32)
# Bounds that keep one estimate cheap and the numbers meaningful.
MAX_GPUS = 64
MAX_CONCURRENCY = 4096
MAX_LEVELS = 16
MAX_TOKENS = 10_000_000
PLATFORMS = frozenset({"linux", "macos", "windows"})  # the questionnaire's platform answers


# Loose input (form strings, JSON numbers, CLI text) is untyped until these checks: ``Any`` below.
def _positive_int(name: str, value: Any, *, minimum: int = 1, maximum: int = MAX_TOKENS) -> int:
    if isinstance(value, bool):
        raise AdvisorError(f"{name} must be a whole number.", field=name)
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
        if not isinstance(value, str) and float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        raise AdvisorError(f"{name} must be a whole number, got {value!r}.", field=name) from None
    if number < minimum or number > maximum:
        raise AdvisorError(
            f"{name} must be between {minimum} and {maximum}, got {number}.", field=name
        )
    return number


def _number(
    name: str, value: Any, *, minimum: float, maximum: float, inclusive_min: bool = True
) -> float:
    if isinstance(value, bool):
        raise AdvisorError(f"{name} must be a number.", field=name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AdvisorError(f"{name} must be a number, got {value!r}.", field=name) from None
    too_low = number < minimum if inclusive_min else number <= minimum
    if number != number or too_low or number > maximum:
        bound = f">= {minimum}" if inclusive_min else f"> {minimum}"
        raise AdvisorError(f"{name} must be {bound} and <= {maximum}, got {value!r}.", field=name)
    return number


def parse_concurrency(value: Any) -> tuple[int, ...]:
    """ "1,8,32" or [1, 8, 32] -> (1, 8, 32), sorted and de-duplicated."""
    parts: list[Any]
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    else:
        try:
            parts = list(value)
        except TypeError:
            raise AdvisorError(
                "concurrency must be a list like 1,8,32.", field="concurrency"
            ) from None
    if not parts:
        raise AdvisorError("Give at least one concurrency level.", field="concurrency")
    if len(parts) > MAX_LEVELS:
        raise AdvisorError(f"At most {MAX_LEVELS} concurrency levels.", field="concurrency")
    levels = {_positive_int("concurrency", part, maximum=MAX_CONCURRENCY) for part in parts}
    return tuple(sorted(levels))


@dataclass(frozen=True)
class EstimateRequest:
    """What to estimate. ``model`` / ``gpu`` are names the catalog resolves (or specs).

    ``gpu_count`` 0 means CPU only (``gpu`` may then be None). ``quantization`` "auto" means the
    model's native weights for vLLM and the default Ollama tag's quantization for Ollama.
    ``kv_cache_dtype`` is vLLM's (auto/fp8) or Ollama's (f16/q8_0/q4_0) and applies to the server
    that knows it. ``measured_decode_tps`` ({"vllm": 95.0}) calibrates that server's efficiency.
    vLLM's own flags: ``gpu_memory_utilization`` / ``max_num_seqs`` / ``max_num_batched_tokens``
    None mean the release's defaults; ``tensor_parallel_size`` / ``data_parallel_size`` None mean
    "choose" (the smallest TP that fits, the rest of the GPUs as replicas); ``vllm_version`` None
    means the pinned release (``vllm_memory.DEFAULT_RELEASE``). Measured figures from the user's
    own servers replace modelled ones and are labelled so: ``kv_cache_budget_gib`` (vLLM's
    "Available KV cache memory"), ``num_gpu_blocks`` (``vllm:cache_config_info``) and
    ``ollama_measured_size_gib`` (``/api/ps`` ``size``). ``peak_users`` (default: the highest
    concurrency level) sizes Ollama as we would set it; ``platform`` "macos" and
    ``vllm_measured_on_cpu`` (a load test saw vLLM's CPU build serve here) decide whether vLLM runs.
    """

    model: str | ModelSpec
    gpu: str | GpuSpec | None = None
    gpu_count: int = 1
    quantization: str = "auto"
    max_model_len: int | None = None
    kv_cache_dtype: str = "auto"
    gpu_memory_utilization: float | None = None
    kv_cache_budget_gib: float | None = None
    concurrency: tuple[int, ...] = DEFAULT_CONCURRENCY
    avg_prompt_tokens: int = DEFAULT_PROMPT_TOKENS
    avg_output_tokens: int = DEFAULT_OUTPUT_TOKENS
    gpu_hourly_cost_usd: float | None = None
    gpu_memory_gib: float | None = None
    num_parallel: int | None = None
    num_ctx: int | None = None
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    tensor_parallel_size: int | None = None
    data_parallel_size: int | None = None
    vllm_version: str | None = None
    num_gpu_blocks: int | None = None
    ollama_measured_size_gib: float | None = None
    cpu_memory_gib: float | None = None
    cpu_bandwidth_gbps: float | None = None
    cpu_tflops: float | None = None
    cpu_hourly_cost_usd: float | None = None
    peak_users: int | None = None
    platform: str | None = None
    vllm_measured_on_cpu: bool = False
    measured_decode_tps: Mapping[str, float] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.model is None or (isinstance(self.model, str) and not self.model.strip()):
            raise AdvisorError("Choose a model.", field="model")
        set_(
            self,
            "gpu_count",
            _positive_int("gpu_count", self.gpu_count, minimum=0, maximum=MAX_GPUS),
        )
        if self.gpu_count > 0 and (
            self.gpu is None or (isinstance(self.gpu, str) and not self.gpu.strip())
        ):
            raise AdvisorError("Choose a GPU, or set the GPU count to 0 for CPU only.", field="gpu")
        utilization: object = self.gpu_memory_utilization  # loose input until checked
        if utilization in (None, ""):
            set_(self, "gpu_memory_utilization", None)
        else:
            set_(
                self,
                "gpu_memory_utilization",
                _number(
                    "gpu_memory_utilization",
                    self.gpu_memory_utilization,
                    minimum=0.0,
                    maximum=1.0,
                    inclusive_min=False,
                ),
            )
        set_(self, "concurrency", parse_concurrency(self.concurrency))
        set_(self, "avg_prompt_tokens", _positive_int("avg_prompt_tokens", self.avg_prompt_tokens))
        set_(self, "avg_output_tokens", _positive_int("avg_output_tokens", self.avg_output_tokens))
        for name in ("max_model_len", "num_ctx"):
            value = getattr(self, name)
            if value not in (None, ""):
                set_(self, name, _positive_int(name, value, minimum=16))
            else:
                set_(self, name, None)
        for name, maximum in (
            ("num_parallel", MAX_CONCURRENCY),
            ("max_num_seqs", 65536),
            ("max_num_batched_tokens", MAX_TOKENS),
            ("tensor_parallel_size", MAX_GPUS),
            ("data_parallel_size", MAX_GPUS),
            ("num_gpu_blocks", 100_000_000),
            ("peak_users", MAX_CONCURRENCY),
        ):
            value = getattr(self, name)
            set_(
                self,
                name,
                None if value in (None, "") else _positive_int(name, value, maximum=maximum),
            )
        for name, limit in (
            ("kv_cache_budget_gib", 100_000.0),
            ("ollama_measured_size_gib", 100_000.0),
            ("gpu_hourly_cost_usd", 10_000.0),
            ("gpu_memory_gib", 100_000.0),
            ("cpu_memory_gib", 100_000.0),
            ("cpu_bandwidth_gbps", 100_000.0),
            ("cpu_tflops", 100_000.0),
            ("cpu_hourly_cost_usd", 10_000.0),
        ):
            amount = getattr(self, name)
            if amount in (None, ""):
                set_(self, name, None)
                continue
            # Prices may be zero (hardware already paid for); sizes and rates must be positive.
            positive = name not in {"gpu_hourly_cost_usd", "cpu_hourly_cost_usd"}
            set_(
                self,
                name,
                _number(name, amount, minimum=0.0, maximum=limit, inclusive_min=not positive),
            )
        if self.measured_decode_tps is not None:
            if not isinstance(self.measured_decode_tps, Mapping):
                raise AdvisorError(
                    'measured_decode_tps must map a server to tokens/s, e.g. {"vllm": 95}.',
                    field="measured_decode_tps",
                )
            cleaned: dict[str, float] = {}
            for server, value in self.measured_decode_tps.items():
                if server not in {"vllm", "ollama"}:
                    raise AdvisorError(
                        f"Unknown server {server!r}: use vllm or ollama.",
                        field="measured_decode_tps",
                    )
                cleaned[server] = _number(
                    "measured_decode_tps", value, minimum=0.0, maximum=1e6, inclusive_min=False
                )
            set_(self, "measured_decode_tps", cleaned)
        for name in ("quantization", "kv_cache_dtype"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise AdvisorError(f"{name} must be a name such as 'auto'.", field=name)
        if self.platform in (None, ""):
            set_(self, "platform", None)
        elif str(self.platform).lower() not in PLATFORMS:
            raise AdvisorError(
                f"platform must be one of {', '.join(sorted(PLATFORMS))}, got {self.platform!r}.",
                field="platform",
            )
        else:
            set_(self, "platform", str(self.platform).lower())
        if not isinstance(self.vllm_measured_on_cpu, bool):
            raise AdvisorError(
                "vllm_measured_on_cpu must be true or false.", field="vllm_measured_on_cpu"
            )
        if self.vllm_version in (None, ""):
            set_(self, "vllm_version", None)
        else:
            release(str(self.vllm_version))  # raises AdvisorError(field="vllm_version")
            set_(self, "vllm_version", str(self.vllm_version).strip())
        parallel = (self.tensor_parallel_size or 1) * (self.data_parallel_size or 1)
        if self.gpu_count and parallel > self.gpu_count:
            raise AdvisorError(
                f"tensor_parallel_size x data_parallel_size ({parallel}) exceeds the "
                f"{self.gpu_count} GPUs given.",
                field="tensor_parallel_size",
            )

    @property
    def peak(self) -> int:
        """The concurrency the plans are sized for: the stated peak, else the highest level."""
        return self.peak_users or max(self.concurrency)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> EstimateRequest:
        """A request from loose input (form or JSON); unknown keys are an error, blanks mean default."""
        if not isinstance(data, Mapping):
            raise AdvisorError("Send the estimate request as a JSON object.")
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AdvisorError(f"Unknown field {unknown[0]!r}.", field=unknown[0])
        values = {key: value for key, value in data.items() if value not in (None, "")}
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        for key in ("model", "gpu"):
            value = data[key]
            data[key] = getattr(value, "id", value)
        data["concurrency"] = list(self.concurrency)
        data["measured_decode_tps"] = (
            dict(self.measured_decode_tps) if self.measured_decode_tps else None
        )
        return data
