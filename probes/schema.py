"""Validation of a hardware report from another host, field by field.

``validate_report(data) -> dict`` checks a report against schema version 1 (docs/probes.md) and
returns it normalized (missing optional sections filled with defaults, unknown keys kept so newer
probes' extras survive). It raises ``ReportError`` naming the first bad field as a dotted path
(``gpus.0.memory_total_bytes``), with every problem in ``.errors``.

Uses pydantic, which the advisor has; the probes themselves never import this module, so the
standalone copy still needs only psutil and nvidia-ml-py.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

SUPPORTED_SCHEMA_VERSION = 1
MAX_GPUS = 64  # the largest single hosts (e.g. 8-GPU HGX boards) are far below this
MAX_SERVERS = 32
MAX_MODELS_PER_SERVER = 1000

Bytes = Annotated[StrictInt, Field(ge=0)]
Count = Annotated[StrictInt, Field(ge=1, le=100_000)]
ShortText = Annotated[str, Field(max_length=500)]


class ReportError(ValueError):
    """A report that does not match the schema. ``field``: dotted path of the first bad field."""

    def __init__(self, message: str, *, field: str | None, errors: list[tuple[str | None, str]]):
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field
        self.errors = errors


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")


class Container(_Section):
    in_container: StrictBool = False
    runtime: ShortText | None = None


class Host(_Section):
    hostname: Annotated[str, Field(min_length=1, max_length=255)]
    os: ShortText = ""
    os_version: ShortText = ""
    kernel: ShortText = ""
    arch: ShortText = ""
    python: ShortText = ""
    container: Container | None = None


class Cpu(_Section):
    model: ShortText | None = None
    physical_cores: Count | None = None
    logical_cores: Count | None = None
    flags: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=500)] = []
    max_freq_mhz: Annotated[float, Field(ge=0)] | None = None


class Memory(_Section):
    total_bytes: Bytes
    available_bytes: Bytes | None = None
    swap_total_bytes: Bytes | None = None

    @model_validator(mode="after")
    def _available_within_total(self) -> Self:
        if self.available_bytes is not None and self.available_bytes > self.total_bytes:
            raise _FieldError("available_bytes", "is larger than total_bytes")
        return self


class Disk(_Section):
    path: ShortText | None = None
    free_bytes: Bytes | None = None
    total_bytes: Bytes | None = None


class Gpu(_Section):
    vendor: Literal["nvidia", "amd", "apple", "intel", "other"]
    index: Annotated[StrictInt, Field(ge=0, le=1023)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    memory_total_bytes: Bytes | None
    memory_free_bytes: Bytes | None = None
    unified_memory: StrictBool = False
    compute_capability: Annotated[str, Field(pattern=r"^\d{1,2}\.\d{1,2}$")] | None = None
    driver_version: ShortText | None = None
    catalog_id: ShortText | None = None

    @model_validator(mode="after")
    def _free_within_total(self) -> Self:
        total, free = self.memory_total_bytes, self.memory_free_bytes
        if total is not None and free is not None and free > total:
            raise _FieldError("memory_free_bytes", "is larger than memory_total_bytes")
        return self


class Server(_Section):
    kind: Literal["ollama", "vllm", "llamacpp", "openai"]
    base_url: Annotated[str, Field(pattern=r"^https?://", max_length=500)]
    version: ShortText | None = None
    models: Annotated[list[ShortText | None], Field(max_length=MAX_MODELS_PER_SERVER)] = []


class ProbeStatus(_Section):
    status: Literal["ok", "absent", "error"]
    detail: Annotated[str, Field(max_length=2000)] = ""
    duration_ms: Annotated[float, Field(ge=0)] = 0.0


class Report(_Section):
    schema_version: StrictInt
    collected_at: str
    host: Host
    cpu: Cpu = Cpu()
    memory: Memory
    disk: Disk = Disk()
    gpus: Annotated[list[Gpu], Field(max_length=MAX_GPUS)] = []
    software: dict[str, Any] = {}
    servers: Annotated[list[Server], Field(max_length=MAX_SERVERS)] = []
    probes: dict[str, ProbeStatus] = {}

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != SUPPORTED_SCHEMA_VERSION:
            raise ValueError(
                f"schema version {value} is not supported (expected {SUPPORTED_SCHEMA_VERSION})"
            )
        return value

    @field_validator("collected_at")
    @classmethod
    def _iso_timestamp(cls, value: str) -> str:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 timestamp") from None
        return value

    @model_validator(mode="after")
    def _gpu_indices_unique(self) -> Self:
        seen: set[tuple[str, int]] = set()
        for position, gpu in enumerate(self.gpus):
            key = (gpu.vendor, gpu.index)
            if key in seen:
                raise _FieldError(f"gpus.{position}.index", f"repeats {gpu.vendor} GPU {gpu.index}")
            seen.add(key)
        return self


class _FieldError(ValueError):
    """Raised inside model validators to point at a field other than the model itself."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _flatten(exc: ValidationError) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _FieldError):
            problems.append((_path((*loc, *cause.field.split("."))), str(cause)))
            continue
        message = error["msg"].removeprefix("Value error, ")
        problems.append((_path(loc) or None, message))
    return problems


def validate_report(data: object) -> dict[str, Any]:
    """Check ``data`` against the report schema; return it normalized as plain JSON types.

    Raises ReportError (``.field`` the first bad field's dotted path, ``.errors`` all of them).
    """
    if not isinstance(data, dict):
        raise ReportError(
            "a report must be a JSON object", field=None, errors=[(None, "not an object")]
        )
    try:
        report = Report.model_validate(data)
    except ValidationError as exc:
        problems = _flatten(exc)
        field, message = problems[0]
        raise ReportError(message, field=field, errors=problems) from None
    return report.model_dump(mode="json")
