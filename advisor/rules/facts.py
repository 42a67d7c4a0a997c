"""What the rules judge: the answers plus every piece of evidence, as plain JSON-shaped data.

``Facts`` holds the answers, the hardware report (probes' JSON), the capacity estimate
(``Estimate.as_dict()``), measured load tests (``LoadTestResult.as_dict()``), the resolved model
and serving GPU, and — only when the model does not fit — what would. ``facts_build`` (in
``advisor/rules/assemble.py``) assembles them; tests may build ``Facts`` directly.

The small read helpers below (``Side``, ``level_p95``...) turn those dicts into the numbers the rules
quote, tolerating absent data: no estimate or no load test simply means those rules stay silent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from advisor.rules.answers import Answers
from advisor.rules.measured_on import Setup
from advisor.rules.questions import Platform
from probes.kinds import Backend, backend_for_kind


@dataclass(frozen=True)
class Facts:
    """Everything ``recommend`` looks at. All dicts are JSON-shaped; every part but answers optional.

    ``platform`` is the effective OS (the answer, else the hardware report, else inferred from the
    GPU); ``gpu`` is ``GpuSpec.as_dict()`` of the serving GPU (None for CPU only or unknown);
    ``gpu_count`` 0 means CPU only. ``setup`` is that hardware with the model and quantization as
    catalog ids: a load test counts only when it ran on this setup. ``alternatives`` lists
    configurations that would fit when the asked one does not; ``reference`` is a vLLM estimate
    on a reference Linux GPU server (for warnings to Mac and CPU-only users with many users).
    """

    answers: Answers
    platform: Platform = Platform.LINUX
    gpu: dict[str, Any] | None = None
    gpu_count: int = 0
    model: dict[str, Any] | None = None
    hardware: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    load_tests: tuple[dict[str, Any], ...] = ()
    # Load tests measured on other (or unknown) hardware than ``setup``: listed and warned about,
    # never evidence (``advisor.rules.measured_on``); ``load_tests`` holds the others.
    other_hardware: tuple[dict[str, Any], ...] = ()
    setup: Setup | None = None
    alternatives: tuple[dict[str, Any], ...] = ()
    reference: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default=())  # what facts_build had to assume
    # Ollama's predicted levels when sized with fewer parallel slots than the user's (1 .. n-1);
    # rules weigh them with the main estimate's, which keeps the verdict monotone in users.
    ollama_sizings: tuple[dict[str, Any], ...] = ()
    # Derived (see ``Levels``); pass nothing. A what-if copy made with ``dataclasses.replace``
    # keeps it only while it was built from these very estimate, sizings and load tests.
    levels: Levels | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "platform", Platform(self.platform))
        object.__setattr__(self, "load_tests", tuple(self.load_tests))
        object.__setattr__(self, "other_hardware", tuple(self.other_hardware))
        object.__setattr__(self, "ollama_sizings", tuple(self.ollama_sizings))
        sources = (self.estimate, self.ollama_sizings, self.load_tests)
        if self.levels is None or not self.levels.built_from(*sources):
            object.__setattr__(self, "levels", Levels(*sources))

    def with_answers(self, **changes: Any) -> Facts:
        """These facts with some answers changed (a what-if)."""
        return dataclasses.replace(self, answers=dataclasses.replace(self.answers, **changes))

    def with_load_tests(self, load_tests: tuple[dict[str, Any], ...]) -> Facts:
        """These facts with other load-test results (a what-if)."""
        return dataclasses.replace(self, load_tests=load_tests)

    @property
    def users(self) -> int:
        return self.answers.peak_concurrent_users

    @property
    def cpu_only(self) -> bool:
        return self.gpu_count == 0

    @property
    def ram_bytes(self) -> int | None:
        """The host's RAM from the hardware report, when one says."""
        return ((self.hardware or {}).get("memory") or {}).get("total_bytes")

    @property
    def vllm_measured_on_cpu(self) -> bool:
        """No GPU, yet a load test measured vLLM (its CPU build) serving successfully here.

        Then "vLLM needs a GPU" is disproved by the user's own evidence, and the workload and
        measured rules decide instead of the CPU-only constraint.
        """
        return self.cpu_only and vllm_served(self.load_tests)

    @property
    def vllm_unavailable_on_cpu(self) -> bool:
        """CPU only and nothing shows vLLM running here: the constraint that leaves only Ollama."""
        return self.cpu_only and not self.vllm_measured_on_cpu

    @property
    def vendor(self) -> str | None:
        return (self.gpu or {}).get("vendor")

    @property
    def apple(self) -> bool:
        return self.vendor == "apple" or bool((self.gpu or {}).get("unified_memory"))

    @property
    def gpu_name(self) -> str:
        if self.cpu_only:
            return "CPU only"
        return (self.gpu or {}).get("name") or "an unknown GPU"

    @property
    def hardware_label(self) -> str:
        """'2x NVIDIA H100 80GB', 'Apple M3 Max', 'CPU only'."""
        if self.cpu_only or self.gpu_count <= 1:
            return self.gpu_name
        return f"{self.gpu_count}x {self.gpu_name}"

    @property
    def model_label(self) -> str:
        return (self.model or {}).get("name") or self.answers.model

    @property
    def plan(self) -> dict[str, Any] | None:
        """The serving plan (``ServingPlan.as_dict()``) the estimate computed; None without one."""
        return self.estimate["plan"] if self.estimate else None

    def vllm_estimate(self) -> dict[str, Any]:
        return (self.estimate or {}).get("vllm") or {}

    def ollama_estimate(self) -> dict[str, Any]:
        return (self.estimate or {}).get("ollama") or {}

    @cached_property
    def cost_rows(self) -> tuple[dict[str, Any], ...]:
        """Per level at your load where both servers have a throughput: $/1M output tokens each
        (the two cost rules and the comparison table read them; derived once per instance)."""
        return _cost_rows_of(self)

    def predicted(self, backend: Backend) -> Side:
        """The capacity model's predicted levels for one server (the user's sizing last, so ``at``
        picks it; for Ollama, the smaller sizings' levels come first)."""
        return self._levels.predicted[backend]

    def measured(self, backend: Backend) -> Side:
        """Measured load-test levels for one server (Ollama and llama.cpp count as Ollama)."""
        return self._levels.measured[backend]

    @property
    def _levels(self) -> Levels:
        assert self.levels is not None  # __post_init__ always sets it
        return self.levels


@dataclass(frozen=True, eq=False)
class Levels:
    """Each server's predicted and measured levels, derived once from the estimate, the smaller
    Ollama sizings and the load tests; it never sees the answers, so the what-ifs that change only
    answers share it, and any other change builds a new one (``Facts.__post_init__``)."""

    estimate: dict[str, Any] | None
    ollama_sizings: tuple[dict[str, Any], ...]
    load_tests: tuple[dict[str, Any], ...]

    def built_from(
        self,
        estimate: dict[str, Any] | None,
        ollama_sizings: tuple[dict[str, Any], ...],
        load_tests: tuple[dict[str, Any], ...],
    ) -> bool:
        return (
            self.estimate is estimate
            and self.ollama_sizings is ollama_sizings
            and self.load_tests is load_tests
        )

    @cached_property
    def predicted(self) -> dict[Backend, Side]:
        sides = {}
        for backend in Backend:
            rows = [r for r in self.ollama_sizings if backend is Backend.OLLAMA]
            for row in (self.estimate or {}).get("performance") or ():
                if _server_of(row) == backend:
                    rows.append(row)
            sides[backend] = Side(backend, "model", tuple(rows))
        return sides

    @cached_property
    def measured(self) -> dict[Backend, Side]:
        rows: dict[Backend, list[dict[str, Any]]] = {backend: [] for backend in Backend}
        for result in self.load_tests:
            backend = backend_for_kind(((result or {}).get("target") or {}).get("kind"))
            if backend is not None:
                rows[backend].extend(
                    level for level in result.get("levels") or () if level.get("concurrency")
                )
        return {backend: Side(backend, "measured", tuple(rows[backend])) for backend in Backend}


def vllm_served(load_tests: tuple[dict[str, Any], ...]) -> bool:
    """A load test saw vLLM answer at least one request."""
    return any(
        (level.get("succeeded") or 0) > 0
        for result in load_tests
        if backend_for_kind(((result or {}).get("target") or {}).get("kind")) is Backend.VLLM
        for level in (result or {}).get("levels") or ()
    )


# ---- cost ------------------------------------------------------------------------------------


def hourly_cost(f: Facts) -> float | None:
    """Dollars per hour for the serving hardware (the user's price, else the catalog's)."""
    if f.cpu_only or not f.gpu:
        return None
    price = f.answers.gpu_hourly_cost_usd
    if price is None:
        price = f.gpu.get("hourly_usd")
    return float(price) * max(f.gpu_count, 1) if price is not None else None


def cost_per_million(hourly: float, tokens_per_s: float) -> float:
    return hourly / (tokens_per_s * 3600) * 1_000_000


def _cost_rows_of(f: Facts) -> tuple[dict[str, Any], ...]:
    """Per level at your load where both servers have a throughput: $/1M output tokens each.

    Two rules and the comparison table read them.
    """
    hourly = hourly_cost(f)
    if not hourly or hourly <= 0:
        return ()  # free (owned, or priced at 0): no cost to compare
    return tuple(_cost_rows(f, hourly))


def _cost_rows(f: Facts, hourly: float) -> list[dict[str, Any]]:
    rows = []
    measured_ollama, measured_vllm = f.measured(Backend.OLLAMA), f.measured(Backend.VLLM)
    for kind, ollama_side, vllm_side in (
        ("measured", measured_ollama, measured_vllm),
        ("predicted", f.predicted(Backend.OLLAMA), f.predicted(Backend.VLLM)),
    ):
        for ollama in ollama_side.at_your_load(f.users):
            c = ollama["concurrency"]
            if (
                kind == "predicted"
                and throughput(measured_ollama.at(c))
                and throughput(measured_vllm.at(c))
            ):
                continue  # both servers measured at this load: the measurement speaks
            ollama_tput, vllm_tput = throughput(ollama), throughput(vllm_side.at(c))
            if ollama_tput and vllm_tput:
                cost = {
                    Backend.OLLAMA: cost_per_million(hourly, ollama_tput),
                    Backend.VLLM: cost_per_million(hourly, vllm_tput),
                }
                rows.append({"concurrency": c, "source": kind, "cost": cost})
    return sorted(rows, key=lambda row: row["concurrency"])  # stable: the user's sizing last


def _server_of(row: dict[str, Any]) -> Backend | None:
    return backend_for_kind(row.get("server"))


@dataclass(frozen=True)
class Side:
    """Levels (predicted or measured) for one server, indexed by concurrency.

    The levels are read-only: the two indexes below are built once, on first use.
    """

    backend: Backend
    source: str  # "model" | "measured"
    levels: tuple[dict[str, Any], ...]

    def __bool__(self) -> bool:
        return bool(self.levels)

    @cached_property
    def _by_concurrency(self) -> dict[Any, dict[str, Any]]:
        index: dict[Any, dict[str, Any]] = {}
        for level in self.levels:
            index[level.get("concurrency")] = level  # the last one at a concurrency wins
        return index

    @cached_property
    def _ordered(self) -> tuple[dict[str, Any], ...]:
        """Levels at concurrency 1 or more, by concurrency (stable: keeps their order)."""
        chosen = [lvl for lvl in self.levels if (lvl.get("concurrency") or 0) >= 1]
        return tuple(sorted(chosen, key=lambda lvl: lvl["concurrency"]))

    def at(self, concurrency: int) -> dict[str, Any] | None:
        """The level at exactly ``concurrency`` (the last one measured there), else None."""
        return self._by_concurrency.get(concurrency)

    def up_to(self, peak: int) -> list[dict[str, Any]]:
        """Every level (all runs, all sizings) at or below ``peak`` concurrency, by concurrency."""
        return [lvl for lvl in self._ordered if lvl["concurrency"] <= peak]

    def at_your_load(self, peak: int) -> list[dict[str, Any]]:
        """Levels at or below ``peak`` plus, when none is at the peak itself, those at the first
        concurrency above it (in that order).

        The set only grows with ``peak``: a level above the old peak was either the first one
        above (already in) or is now at or below the new peak.
        """
        levels = self.up_to(peak)
        above = [lvl for lvl in self.levels if (lvl.get("concurrency") or 0) > peak]
        if above and not any(lvl["concurrency"] == peak for lvl in levels):
            first = min(lvl["concurrency"] for lvl in above)
            levels += [lvl for lvl in above if lvl["concurrency"] == first]
        return levels

    def single(self) -> dict[str, Any] | None:
        return self.at(1)

    def highest(self) -> dict[str, Any] | None:
        ordered = sorted(self.levels, key=lambda level: level.get("concurrency") or 0)
        return ordered[-1] if ordered else None


def metric(level: dict[str, Any] | None, name: str, stat: str = "p95") -> float | None:
    """``level[name][stat]`` (e.g. e2el_ms p95), None when absent or not positive."""
    if not level:
        return None
    value: Any = level.get(name)
    if isinstance(value, dict):
        value = value.get(stat)
    if isinstance(value, int | float) and value > 0:
        return float(value)
    return None


def failure_rate(level: dict[str, Any] | None) -> float:
    """Failed / attempted requests at a measured level (0 for predictions)."""
    if not level:
        return 0.0
    requests = level.get("requests") or 0
    failed = level.get("failed") or 0
    return failed / requests if requests else 0.0


def throughput(level: dict[str, Any] | None) -> float | None:
    """Output tokens per second at a level, None when absent."""
    value = (level or {}).get("output_token_throughput")
    return float(value) if isinstance(value, int | float) and value > 0 else None
