"""What a load test runs: the target, the traffic shape, prompt and output lengths, the SLOs.

Pure Python (no Django). ``LoadTestConfig.parse(data)`` turns stored JSON or form data into a
validated config and raises ``AdvisorError(field=...)`` naming the bad input. ``BOUNDS`` is the one
table of size limits: ``parse`` and ``policy.check_config`` check it (the web form, the CLI, the API
and the task all go through them), the API's schema and the form's inputs show the same numbers.
Caps on a whole plan (hosts, total requests, total duration) live in ``advisor.loadtest.policy``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from advisor.errors import AdvisorError
from probes import outbound

# Defaults a newcomer can run in under a minute against a small local model.
DEFAULT_CONCURRENCY = (1, 2, 4, 8)
DEFAULT_REQUESTS_PER_LEVEL = 16
DEFAULT_WARMUP = 1
DEFAULT_MAX_TOKENS = 128
DEFAULT_PROMPT_TOKENS = 256
# Per-request timeout: long enough for a 2k-token answer at 35 tok/s on a CPU.
DEFAULT_REQUEST_TIMEOUT_S = 60.0
# The whole run's traffic budget; the policy's hard cap (300 s) is the same number.
DEFAULT_MAX_DURATION_S = 300.0


@dataclass(frozen=True)
class Bound:
    """The smallest and largest value a setting accepts (inclusive)."""

    low: float
    high: float

    def check(self, name: str, value: float) -> None:
        """``AdvisorError(field=name)`` when ``value`` is outside the bound."""
        if not self.low <= value <= self.high:
            label = name.replace("_", " ")
            raise AdvisorError(
                f"{label} must be between {self.low:g} and {self.high:g} (got {value:g})",
                field=name,
            )


# A load test's sizes. Large enough to find one server's knee, small enough that no request can
# hold a worker: the prompt is built as the request leaves (and requests in flight hold at most
# MAX_TOKENS_IN_FLIGHT prompt tokens together), the run stops at its duration budget.
# Past a 200-user workload's knee (vLLM users measure hundreds of streams); the client holds
# 1,000+ streams on one core (docs/loadtest.md, bench/loadtest.py).
MAX_CONCURRENCY = 1024
MAX_DURATION_S = 300.0
BOUNDS: dict[str, Bound] = {
    "concurrency": Bound(1, MAX_CONCURRENCY),  # each level
    "requests_per_level": Bound(1, 5000),  # = policy.MAX_TOTAL_REQUESTS: one level may use it all
    "duration_s": Bound(0.1, MAX_DURATION_S),
    "warmup": Bound(0, 100),  # loading the model needs one; a hundred is a generous margin
    "max_tokens": Bound(1, 32768),  # an answer of 32Ki tokens: past any bench's output lengths
    # 128Ki tokens: the longest context of the catalog's models (Llama 3.1, Qwen 2.5 with YaRN).
    "prompt_tokens": Bound(1, 131072),
    "rate": Bound(0.01, 1000),  # requests/s; 1000/s saturates any single server
    "slo_ttft_ms": Bound(0.1, 600_000),
    "slo_tpot_ms": Bound(0.1, 600_000),
    "slo_e2e_ms": Bound(0.1, 600_000),
    "request_timeout_s": Bound(0.1, 600),  # past the Celery hard limit (480 s) it means nothing
    "max_duration_s": Bound(0.1, MAX_DURATION_S),
}


def levels_around(peak: int, cap: int = MAX_CONCURRENCY) -> list[int]:
    """Concurrency levels that bracket a workload's peak: 1, 2, 4 ... doubling up to the peak, the
    peak itself, and one doubling past it (where the knee usually shows), within ``cap``."""
    peak = max(1, min(peak, cap))
    levels = []
    level = 1
    while level < peak:
        levels.append(level)
        level *= 2
    levels.append(peak)
    past = level if level > peak else peak * 2
    if past <= cap:
        levels.append(past)
    return levels


MAX_LEVELS = 32  # concurrency levels in one sweep
# The user's own prompts (the CLI's --prompt-file): how many, and their size together.
MAX_PROMPTS = 10_000
MAX_PROMPTS_CHARS = 16 * 2**20
CHARS_PER_TOKEN = 4  # English text in the Llama/GPT tokenizers: about four characters a token
# Prompt tokens held by the requests in flight at once (each prompt lives as text and as its
# JSON body, ~12 bytes a token: ~100 MB): past any single server's KV cache (an 80 GB GPU holds
# about a million tokens of an 8B model's), so no test that means something is refused by it.
MAX_TOKENS_IN_FLIGHT = 2**23


class ApiKind(enum.StrEnum):
    """Which wire protocol to speak. AUTO asks ``discover`` first."""

    AUTO = "auto"
    OPENAI = "openai"  # /v1/chat/completions or /v1/completions, SSE
    OLLAMA = "ollama"  # /api/chat, NDJSON


class Endpoint(enum.StrEnum):
    """For OpenAI-compatible servers: the chat or the legacy completions endpoint."""

    CHAT = "chat"
    COMPLETIONS = "completions"


class LoadShape(enum.StrEnum):
    SWEEP = "sweep"  # closed loop: each concurrency level in turn
    POISSON = "poisson"  # open loop: Poisson arrivals at ``rate`` requests/s
    SLO_SEARCH = "slo_search"  # the highest concurrency meeting the SLOs: double, then bisect


@dataclass(frozen=True)
class LoadTestConfig:
    """A validated load test. Build with ``parse`` (checks every field) or directly in code.

    ``duration_s`` (per level) replaces ``requests_per_level`` when set. ``rate`` switches the
    shape to an open-loop Poisson run of ``requests_per_level`` requests. SLOs are milliseconds.
    """

    base_url: str
    model: str
    api: ApiKind = ApiKind.AUTO
    endpoint: Endpoint = Endpoint.CHAT
    shape: LoadShape = LoadShape.SWEEP
    concurrency: tuple[int, ...] = DEFAULT_CONCURRENCY
    requests_per_level: int = DEFAULT_REQUESTS_PER_LEVEL
    duration_s: float | None = None
    warmup: int = DEFAULT_WARMUP
    max_tokens: int = DEFAULT_MAX_TOKENS
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS
    prompts: tuple[str, ...] = ()
    seed: int = 0
    rate: float | None = None
    slo_ttft_ms: float | None = None
    slo_tpot_ms: float | None = None
    slo_e2e_ms: float | None = None
    ignore_eos: bool = True
    early_stop: bool = True
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    api_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def slos(self) -> dict[str, float]:
        """The SLOs that were given, keyed like vLLM's ``--goodput`` (ttft, tpot, e2el; ms)."""
        given = {"ttft": self.slo_ttft_ms, "tpot": self.slo_tpot_ms, "e2el": self.slo_e2e_ms}
        return {name: value for name, value in given.items() if value is not None}

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")

    def validate(self) -> None:
        """Raise ``AdvisorError(field=...)`` for the first field the generator cannot run with (on
        construction; ``check_bounds`` adds the product's size limits)."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AdvisorError(
                f"base URL must look like http://host:port, got {self.base_url!r}",
                field="base_url",
            )
        if not self.model.strip():
            raise AdvisorError("name the model to load-test", field="model")
        if not self.concurrency or any(c < 1 for c in self.concurrency):
            raise AdvisorError("concurrency levels must be whole numbers >= 1", field="concurrency")
        if self.requests_per_level < 1:
            raise AdvisorError("requests per level must be at least 1", field="requests_per_level")
        if self.duration_s is not None and self.duration_s <= 0:
            raise AdvisorError("duration per level must be positive", field="duration_s")
        if self.warmup < 0:
            raise AdvisorError("warm-up requests cannot be negative", field="warmup")
        if self.max_tokens < 1:
            raise AdvisorError("max tokens must be at least 1", field="max_tokens")
        if self.prompt_tokens < 1:
            raise AdvisorError("prompt tokens must be at least 1", field="prompt_tokens")
        if self.rate is not None and self.rate <= 0:
            raise AdvisorError("the request rate must be positive (requests/s)", field="rate")
        if self.shape is LoadShape.POISSON and self.rate is None:
            raise AdvisorError("a Poisson run needs a request rate", field="rate")
        for name in ("slo_ttft_ms", "slo_tpot_ms", "slo_e2e_ms"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise AdvisorError("an SLO must be a positive number of milliseconds", field=name)
        if self.shape is LoadShape.SLO_SEARCH and not self.slos:
            raise AdvisorError(
                "an SLO search needs at least one SLO (TTFT, TPOT or E2E)", field="slo_ttft_ms"
            )
        if self.request_timeout_s <= 0:
            raise AdvisorError("the request timeout must be positive", field="request_timeout_s")
        if self.max_duration_s <= 0:
            raise AdvisorError("the duration budget must be positive", field="max_duration_s")
        if self.api_key:
            try:
                outbound.check_header("Authorization", f"Bearer {self.api_key}")
            except outbound.Refused as exc:
                raise AdvisorError(f"the API key cannot be sent: {exc}", field="api_key") from None

    def check_bounds(self) -> None:
        """Raise ``AdvisorError(field=...)`` for the first setting outside ``BOUNDS`` (or too many
        levels or prompts). ``parse`` and ``policy.check_config`` apply it, so every surface (the
        web form, the CLI, the API, the task) does; code may build a config past them (the
        benchmark's 1,000 streams) and run it without the policy."""
        if len(self.concurrency) > MAX_LEVELS:
            raise AdvisorError(f"at most {MAX_LEVELS} concurrency levels", field="concurrency")
        for level in self.concurrency:
            BOUNDS["concurrency"].check("concurrency", level)
        for name, bound in BOUNDS.items():
            value = getattr(self, name)
            if name != "concurrency" and value is not None:
                bound.check(name, value)
        if len(self.prompts) > MAX_PROMPTS:
            raise AdvisorError(f"at most {MAX_PROMPTS} prompts", field="prompts")
        if sum(len(p) for p in self.prompts) > MAX_PROMPTS_CHARS:
            raise AdvisorError(
                f"the prompts hold more than {MAX_PROMPTS_CHARS // 2**20} MiB of text",
                field="prompts",
            )
        if self.prompt_size > BOUNDS["prompt_tokens"].high:
            raise AdvisorError(
                f"a prompt is longer than {BOUNDS['prompt_tokens'].high:g} tokens", field="prompts"
            )
        if max(self.concurrency) > self.max_in_flight:
            field = "prompts" if self.prompts else "prompt_tokens"
            raise AdvisorError(
                f"{max(self.concurrency)} users with prompts of ~{self.prompt_size} tokens hold "
                f"more than {MAX_TOKENS_IN_FLIGHT:,} tokens at once: at most {self.max_in_flight} "
                "users at that length",
                field=field,
            )

    @property
    def prompt_size(self) -> int:
        """About how many tokens the longest prompt holds."""
        if self.prompts:
            return max(len(p) for p in self.prompts) // CHARS_PER_TOKEN
        return self.prompt_tokens

    @property
    def max_in_flight(self) -> int:
        """The most requests (and so prompts) in flight at once: ``MAX_CONCURRENCY``, fewer for
        long prompts (``MAX_TOKENS_IN_FLIGHT``). A Poisson run waits for a slot past it."""
        return max(1, min(MAX_CONCURRENCY, MAX_TOKENS_IN_FLIGHT // max(self.prompt_size, 1)))

    @classmethod
    def parse(cls, data: dict[str, Any]) -> LoadTestConfig:
        """Build from JSON-ish data (strings allowed, e.g. form input); unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AdvisorError(f"unknown setting(s): {', '.join(unknown)}", field=unknown[0])
        values: dict[str, Any] = {}
        for name, raw in data.items():
            if raw is None or raw == "":
                continue
            values[name] = _coerce(name, raw)
        for required in ("base_url", "model"):
            if required not in values:
                raise AdvisorError(f"{required.replace('_', ' ')} is required", field=required)
        if values.get("rate") is not None and "shape" not in values:
            values["shape"] = LoadShape.POISSON
        config = cls(**values)
        config.check_bounds()
        return config

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, without the API key (never stored)."""
        data = asdict(self)
        data.pop("api_key")
        data["concurrency"] = list(self.concurrency)
        data["prompts"] = list(self.prompts)
        for name in ("api", "endpoint", "shape"):
            data[name] = str(data[name])
        return data


_INTS = {"requests_per_level", "warmup", "max_tokens", "prompt_tokens", "seed"}
_FLOATS = {
    "duration_s",
    "rate",
    "slo_ttft_ms",
    "slo_tpot_ms",
    "slo_e2e_ms",
    "request_timeout_s",
    "max_duration_s",
}
_ENUMS = {"api": ApiKind, "endpoint": Endpoint, "shape": LoadShape}


def _coerce(name: str, raw: Any) -> Any:
    """One field from JSON or text to its type, or ``AdvisorError(field=name)``."""
    try:
        if name in _INTS:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(raw)
            return int(raw)
        if name in _FLOATS:
            if isinstance(raw, bool):
                raise ValueError(raw)
            return float(raw)
        if name in _ENUMS:
            return _ENUMS[name](str(raw).strip().lower())
        if name == "concurrency":
            return parse_levels(raw)
        if name == "prompts":
            if isinstance(raw, str):
                return (raw,)
            return tuple(str(p) for p in raw)
        if name in ("ignore_eos", "early_stop"):
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "yes", "on")
            return bool(raw)
        return str(raw).strip()
    except (TypeError, ValueError):
        allowed = ""
        if name in _ENUMS:
            allowed = "; use one of " + ", ".join(v.value for v in _ENUMS[name])
        raise AdvisorError(
            f"{name.replace('_', ' ')}: bad value {raw!r}{allowed}", field=name
        ) from None


def parse_levels(raw: str | Iterable[int | float | str]) -> tuple[int, ...]:
    """``"1,2,4"`` or ``[1, 2, 4]`` to a sorted, de-duplicated tuple of positive ints."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    levels = []
    for item in items:
        if isinstance(item, str):
            item = item.strip()
            if not item:
                continue
        if isinstance(item, bool):
            raise ValueError(item)
        value = int(item)
        if value != float(item) or value < 1:
            raise ValueError(item)
        levels.append(value)
    if not levels:
        raise ValueError(raw)
    return tuple(sorted(set(levels)))
