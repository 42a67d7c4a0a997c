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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from advisor.capacity.cost import CostAtLoad, cost_at_load, hourly_price
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
    # How to build these facts again for other answers, as a re-run would (``facts_build`` with
    # the same hardware report and load tests, sizing the capacity model for the new answers);
    # None for facts made by hand. The users flip search uses it (``triggers.backend_at``).
    rebuild: Callable[[Answers], Facts] | None = field(default=None, compare=False, repr=False)

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

    def ollama_plan(self) -> dict[str, Any]:
        """Ollama as we set it (the serving plan's, with the size measured on the user's server
        when they gave one); empty without an estimate."""
        return self.plan["ollama"] if self.plan else {}

    @cached_property
    def cost(self) -> CostAtLoad | None:
        """Each server's $/1M output tokens at the user's peak, on this hardware (``cost_at_load``);
        None when no price is known. The cost rules, the side-by-side row, the cost table, the CLI
        and the API all read this one result (derived once per instance)."""
        return _cost_of(self)

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


def vllm_unavailable(facts: Facts) -> str | None:
    """Why vLLM cannot run on this hardware at all (a Mac, CPU only), else None: the serving
    plan's reason; without an estimate, the same judgement from the facts."""
    if facts.plan is not None:
        return facts.plan["vllm"]["why_not"] or None
    if facts.platform == Platform.MACOS or facts.apple:
        return "not available on macOS"
    if facts.vllm_unavailable_on_cpu:
        return "not available without a GPU"
    return None


def _cost_of(f: Facts) -> CostAtLoad | None:
    if f.gpu is None and not f.cpu_only:
        return None  # an unknown GPU: no price
    gpu = None if f.cpu_only else f.gpu
    price = hourly_price(
        gpu_name=gpu["name"] if gpu else None,
        gpu_count=f.gpu_count,
        catalog_gpu_usd=gpu["hourly_usd"] if gpu else None,
        catalog_source=gpu["price_source"] if gpu else "",
        user_gpu_usd=f.answers.gpu_hourly_cost_usd,
    )
    if price is None:
        return None
    unavailable = vllm_unavailable(f)
    return cost_at_load(
        price,
        f.users,
        predicted={backend: f.predicted(backend).throughput_at(f.users) for backend in Backend},
        measured={backend: throughput(f.measured(backend).at(f.users)) for backend in Backend},
        not_viable={Backend.VLLM: unavailable} if unavailable else None,
    )


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

    def throughput_at(self, concurrency: int) -> float | None:
        """Output tokens/s at exactly ``concurrency``: the level there, else the curve read linearly
        between the nearest levels below and above it (what-ifs ask for user counts the estimate
        did not predict; a recommendation always predicts its own peak). None past the last level.
        """
        exact = self.at(concurrency)
        if exact is not None:
            return throughput(exact)
        below = [c for c in self._by_concurrency if isinstance(c, int) and 0 < c < concurrency]
        above = [c for c in self._by_concurrency if isinstance(c, int) and c > concurrency]
        if not below or not above:
            return None
        low, high = max(below), min(above)
        low_tput, high_tput = throughput(self.at(low)), throughput(self.at(high))
        if low_tput is None or high_tput is None:
            return None
        return low_tput + (high_tput - low_tput) * (concurrency - low) / (high - low)

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
