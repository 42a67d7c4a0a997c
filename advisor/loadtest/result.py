"""What a load test returns (``LoadTestResult``) and reports while it runs (``Progress``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from advisor.loadtest.config import LoadTestConfig
from advisor.loadtest.discovery import DiscoveredServer
from advisor.loadtest.metrics import LevelResult


class StopCode(enum.StrEnum):
    """Why a run ended; ``LoadTestResult.stopped_reason`` says it in words."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"
    LOW_SUCCESS = "low_success"  # success rate under 90%
    LATENCY_COLLAPSE = "latency_collapse"  # p95 E2E over 10x the first (single-user) level's
    TIME_BUDGET = "time_budget"  # the run's duration budget ran out
    WARMUP_FAILED = "warmup_failed"  # every warm-up request failed: the server can't serve


@dataclass(frozen=True)
class Progress:
    """A snapshot for progress bars and the task's row; ``levels`` are the finished ones."""

    phase: str  # warmup | measuring | done
    level_index: int
    levels_total: int  # planned levels (an SLO search may add more)
    concurrency: int | None
    request_rate: float | None
    requests_done: int
    requests_total: int | None  # None for a duration-based level
    elapsed_s: float
    levels: tuple[LevelResult, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "level_index": self.level_index,
            "levels_done": len(self.levels),
            "levels_total": self.levels_total,
            "concurrency": self.concurrency,
            "request_rate": self.request_rate,
            "requests_done": self.requests_done,
            "requests_total": self.requests_total,
            "elapsed_s": round(self.elapsed_s, 3),
        }


@dataclass(frozen=True)
class LoadTestResult:
    """A whole run. ``as_dict()`` is the shape in docs/CONTRACTS.md (plus a few extra keys)."""

    target: DiscoveredServer
    model: str
    config: LoadTestConfig
    levels: list[LevelResult]
    stop_code: StopCode
    stopped_reason: str
    started_at: float  # epoch seconds
    duration_s: float
    warmup: dict[str, Any] = field(default_factory=dict)
    max_concurrency_meeting_slos: int | None = None

    @property
    def succeeded(self) -> int:
        """Measured requests that succeeded, over every level (warm-up not counted)."""
        return sum(level.succeeded for level in self.levels)

    def errors_by_kind(self) -> dict[str, int]:
        """Failed measured requests counted by ``ErrorKind`` (``http_<status>`` for statuses)."""
        counts: dict[str, int] = {}
        for level in self.levels:
            for kind, count in level.errors.items():
                counts[kind] = counts.get(kind, 0) + count
        return dict(sorted(counts.items()))

    def failure(self) -> str | None:
        """Why the run failed, or None: every warm-up request failed, or requests were measured
        and not one succeeded (then the errors by kind). A cancelled run did not fail."""
        if self.stop_code is StopCode.WARMUP_FAILED:
            return self.stopped_reason
        if self.stop_code is StopCode.CANCELLED or self.succeeded:
            return None
        sent = sum(level.requests for level in self.levels)
        if not sent:
            return None
        kinds = ", ".join(f"{kind}: {count}" for kind, count in self.errors_by_kind().items())
        return f"none of the {sent} requests succeeded ({kinds})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": {
                "base_url": self.target.base_url,
                "kind": str(self.target.kind),
                "model": self.model,
                "api": self.target.api,
                "version": self.target.version,
            },
            "config": self.config.as_dict(),
            "levels": [level.as_dict() for level in self.levels],
            "stop_code": str(self.stop_code),
            "stopped_reason": self.stopped_reason,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "warmup": dict(self.warmup),
            "max_concurrency_meeting_slos": self.max_concurrency_meeting_slos,
        }
