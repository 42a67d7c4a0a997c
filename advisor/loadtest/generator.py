"""The load generator: warm-up, then a closed-loop sweep, an open-loop Poisson run or an SLO search.

``LoadGenerator(config).run()`` is a coroutine; ``advisor.loadtest.runner.run_load_test`` is the
sync entry point that runs it on its own thread. ``LoadGenerator.cancel()`` and
``LoadGenerator.snapshot()`` are safe to call from other threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import threading
import time
from collections.abc import Coroutine
from typing import Any

from advisor.errors import AdvisorError
from advisor.loadtest.client import RequestOutcome, RequestSpec, build_request
from advisor.loadtest.config import ApiKind, LoadShape, LoadTestConfig
from advisor.loadtest.discovery import DiscoveredServer, discover, sample_signals
from advisor.loadtest.metrics import LevelResult, summarize
from advisor.loadtest.policy import DEFAULT_ALLOWED_HOSTS, CheckedTarget, check_target
from advisor.loadtest.prompts import PromptSource
from advisor.loadtest.result import LoadTestResult, Progress, StopCode
from advisor.loadtest.wire import WireClient
from probes import outbound
from probes.kinds import ServerKind

# Early stop, so a sweep does not keep loading a server that is already failing: it stops when
# fewer than 90% of requests succeed ...
MIN_SUCCESS_RATE = 0.9
# ... or p95 E2E passes 10x its value at the first (single-user) level: latency collapse.
COLLAPSE_FACTOR = 10.0
# A level "meets the SLOs" when 95% of its requests do (p95 within every SLO).
SLO_ATTAINMENT_TARGET = 0.95
CANCEL_POLL_S = 0.1  # cancel lands within 2 s with a wide margin
SIGNAL_SAMPLE_S = 1.0  # server-side signals: one /metrics (or /api/ps) read a second


class _Cancelled(Exception):
    pass


class LoadGenerator:
    """One run. Build it, ``await run()`` on a loop; other threads may call ``cancel()``.

    ``destination``: the policy's check of the target (``policy.check_target``); every request
    of the run (discovery, the load, server signals) goes to its addresses only. Without one the
    target is checked against the loopback-only default. ``tls``: the https context (default:
    certificates verified).
    """

    def __init__(
        self,
        config: LoadTestConfig,
        *,
        destination: CheckedTarget | None = None,
        target: DiscoveredServer | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        self.config = config
        self.destination = destination
        self.tls = tls
        self.target = target
        self.levels: list[LevelResult] = []
        self.phase = "starting"
        self.level_index = 0
        self.levels_total = len(config.concurrency) if config.shape is LoadShape.SWEEP else 1
        self.current_concurrency: int | None = None
        self.current_rate: float | None = None
        self.requests_done = 0
        self.requests_total: int | None = None
        self._cancel = threading.Event()
        self._started = time.perf_counter()
        self._deadline = 0.0
        self._prompts = PromptSource(
            prompts=config.prompts, tokens=config.prompt_tokens, seed=config.seed
        )
        self._next_prompt = 0
        self._headers = {"Content-Type": "application/json"}
        if config.api_key:
            self._headers["Authorization"] = f"Bearer {config.api_key}"

    # --- control from other threads --------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def snapshot(self) -> Progress:
        return Progress(
            phase=self.phase,
            level_index=self.level_index,
            levels_total=max(self.levels_total, len(self.levels)),
            concurrency=self.current_concurrency,
            request_rate=self.current_rate,
            requests_done=self.requests_done,
            requests_total=self.requests_total,
            elapsed_s=time.perf_counter() - self._started,
            levels=tuple(self.levels),
        )

    # --- the run ----------------------------------------------------------------------------
    async def run(self) -> LoadTestResult:
        config = self.config
        started_at = time.time()
        self._started = time.perf_counter()
        self._deadline = self._started + config.max_duration_s
        if self.destination is None:
            self.destination = check_target(config.base, allowed_hosts=DEFAULT_ALLOWED_HOSTS)
        if self.destination.tls and self.tls is None:
            self.tls = outbound.tls_context()  # one for the run: discovery, signals, the load
        # Discovery and server signals: blocking GETs on a thread; the measured requests through
        # the wire client (kernel timestamps, see advisor/loadtest/wire.py). Both connect only to
        # the destination's checked addresses (probes/outbound.py).
        self.wire = WireClient(self.destination, tls=self.tls)
        try:
            if self.target is None:
                self.target = await asyncio.to_thread(self._target)
            target = self.target
            code, reason, best, warmup = await self._shapes()
        finally:
            self.wire.close()
        self.phase = "done"
        return LoadTestResult(
            target=target,
            model=config.model,
            config=config,
            levels=list(self.levels),
            stop_code=code,
            stopped_reason=reason,
            started_at=started_at,
            duration_s=time.perf_counter() - self._started,
            warmup=warmup,
            max_concurrency_meeting_slos=best,
        )

    def _target(self) -> DiscoveredServer:
        config = self.config
        destination, tls = self.destination, self.tls
        if config.api is ApiKind.AUTO:
            target = discover(config.base, api="auto", destination=destination, tls=tls)
        else:
            try:
                target = discover(
                    config.base, api=str(config.api), destination=destination, tls=tls
                )
            except AdvisorError:
                kind = ServerKind.OLLAMA if config.api is ApiKind.OLLAMA else ServerKind.OPENAI
                return DiscoveredServer(config.base, kind, str(config.api))
            if target.api != str(config.api):
                target = DiscoveredServer(
                    config.base, target.kind, str(config.api), target.version, target.models
                )
        if target.models and not _model_served(config.model, target.models):
            raise AdvisorError(
                f"{target.kind} at {config.base} does not serve {config.model!r}; "
                f"it serves: {', '.join(target.models[:20])}",
                field="model",
            )
        return target

    async def _shapes(self) -> tuple[StopCode, str, int | None, dict[str, Any]]:
        config = self.config
        warmup: dict[str, Any] = {}
        try:
            if config.warmup:
                warmup = await self._warmup()
                if warmup["succeeded"] == 0:
                    sample = warmup["errors"]
                    return (
                        StopCode.WARMUP_FAILED,
                        f"every warm-up request failed: {sample}",
                        None,
                        warmup,
                    )
            if config.shape is LoadShape.POISSON:
                code, reason = await self._poisson()
                return code, reason, None, warmup
            if config.shape is LoadShape.SLO_SEARCH:
                return (*await self._slo_search(), warmup)
            code, reason = await self._sweep()
            return code, reason, None, warmup
        except _Cancelled:
            done = len(self.levels)
            return StopCode.CANCELLED, f"cancelled after {done} level(s)", None, warmup

    async def _warmup(self) -> dict[str, Any]:
        self.phase = "warmup"
        n = self.config.warmup
        width = min(n, min(self.config.concurrency))
        self.current_concurrency, self.current_rate = width, None
        outcomes: list[RequestOutcome] = []
        await self._guarded(self._closed_loop(width, n, None, outcomes))
        failed = [o for o in outcomes if not o.success]
        errors = sorted({f"{o.error_kind}: {o.error[:120]}" for o in failed})
        return {
            "requests": len(outcomes),
            "succeeded": len(outcomes) - len(failed),
            "errors": errors,
        }

    async def _sweep(self) -> tuple[StopCode, str]:
        baseline = None
        for index, concurrency in enumerate(self.config.concurrency):
            if time.perf_counter() >= self._deadline:
                return StopCode.TIME_BUDGET, self._budget_reason()
            self.level_index = index
            level = await self._closed_level(concurrency)
            if time.perf_counter() >= self._deadline and level.partial:
                return StopCode.TIME_BUDGET, self._budget_reason()
            if not self.config.early_stop:
                continue
            if level.success_rate < MIN_SUCCESS_RATE:
                return StopCode.LOW_SUCCESS, (
                    f"stopped at concurrency {concurrency}: {level.success_rate:.0%} of requests "
                    f"succeeded (under {MIN_SUCCESS_RATE:.0%})"
                )
            p95 = level.e2el_ms.p95
            if baseline is None:
                baseline = p95
            elif baseline > 0 and p95 > COLLAPSE_FACTOR * baseline:
                return StopCode.LATENCY_COLLAPSE, (
                    f"stopped at concurrency {concurrency}: p95 E2E {p95:.0f} ms is over "
                    f"{COLLAPSE_FACTOR:g}x the first level's {baseline:.0f} ms (latency collapse)"
                )
        return StopCode.COMPLETED, f"all {len(self.levels)} levels completed"

    async def _slo_search(self) -> tuple[StopCode, str, int | None]:
        low, high = min(self.config.concurrency), max(self.config.concurrency)
        self.levels_total = 1
        best: int | None = None
        failed_at: int | None = None
        concurrency = low
        while True:  # double until the SLOs break or the upper bound passes
            if time.perf_counter() >= self._deadline:
                return StopCode.TIME_BUDGET, self._budget_reason(), best
            level = await self._closed_level(concurrency)
            if self._meets_slos(level):
                best = concurrency
                if concurrency >= high:
                    break
                concurrency = min(concurrency * 2, high)
                self.levels_total += 1
            else:
                failed_at = concurrency
                break
        while best is not None and failed_at is not None and failed_at - best > 1:
            if time.perf_counter() >= self._deadline:
                return StopCode.TIME_BUDGET, self._budget_reason(), best
            middle = (best + failed_at) // 2
            self.levels_total += 1
            level = await self._closed_level(middle)
            if self._meets_slos(level):
                best = middle
            else:
                failed_at = middle
        if best is None:
            reason = f"no level met the SLOs (even concurrency {low})"
        elif failed_at is None:
            reason = f"every level up to the upper bound {high} met the SLOs"
        else:
            reason = f"highest concurrency meeting the SLOs: {best} ({failed_at} did not)"
        return StopCode.COMPLETED, reason, best

    def _meets_slos(self, level: LevelResult) -> bool:
        attainment = level.slo_attainment or 0.0
        return level.success_rate >= MIN_SUCCESS_RATE and attainment >= SLO_ATTAINMENT_TARGET

    def _budget_reason(self) -> str:
        return (
            f"the run's {self.config.max_duration_s:g} s budget ran out after "
            f"{len(self.levels)} level(s)"
        )

    # --- levels ---------------------------------------------------------------------------
    async def _closed_level(self, concurrency: int) -> LevelResult:
        config = self.config
        self.phase = "measuring"
        self.current_concurrency, self.current_rate = concurrency, None
        n = None if config.duration_s else config.requests_per_level
        outcomes: list[RequestOutcome] = []
        signals: dict[str, float | bool] = {}
        sampler = asyncio.create_task(self._sample(signals))
        start = time.perf_counter()
        try:
            complete = await self._guarded(
                self._closed_loop(concurrency, n, config.duration_s, outcomes)
            )
        finally:
            sampler.cancel()
        level = summarize(
            outcomes,
            duration_s=time.perf_counter() - start,
            slos=config.slos,
            concurrency=concurrency,
            server=signals,
            # cut off (cancel, budget) or fewer requests than planned (the budget ran out)
            partial=not complete or (n is not None and len(outcomes) < n),
        )
        self.levels.append(level)
        if self._cancel.is_set():
            raise _Cancelled
        return level

    async def _poisson(self) -> tuple[StopCode, str]:
        config = self.config
        rate = float(config.rate or 0)
        self.phase = "measuring"
        self.current_concurrency, self.current_rate = None, rate
        n = config.requests_per_level
        outcomes: list[RequestOutcome] = []
        signals: dict[str, float | bool] = {}
        sampler = asyncio.create_task(self._sample(signals))
        start = time.perf_counter()
        try:
            complete = await self._guarded(self._open_loop(rate, n, outcomes))
        finally:
            sampler.cancel()
        level = summarize(
            outcomes,
            duration_s=time.perf_counter() - start,
            slos=config.slos,
            request_rate=rate,
            server=signals,
            partial=not complete or len(outcomes) < n,
        )
        self.levels.append(level)
        if self._cancel.is_set():
            raise _Cancelled
        if level.partial:
            return StopCode.TIME_BUDGET, self._budget_reason()
        return StopCode.COMPLETED, f"{n} requests at {rate:g}/s (Poisson arrivals) completed"

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> bool:
        """Run ``work`` until done, a cancel, or the deadline plus one request timeout.

        Returns False when it was cut off; its requests in flight are dropped, finished ones kept.
        """
        task = asyncio.create_task(work)
        hard_stop = self._deadline + self.config.request_timeout_s
        while not task.done():
            if self._cancel.is_set() or time.perf_counter() >= hard_stop:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return False
            await asyncio.wait({task}, timeout=CANCEL_POLL_S)
        task.result()
        return not self._cancel.is_set()

    @property
    def _server(self) -> DiscoveredServer:
        """The server under load: given, or discovered at the start of ``run()``."""
        if self.target is None:
            raise RuntimeError("the server is known only once run() has started")
        return self.target

    @property
    def _checked(self) -> CheckedTarget:
        """Where requests may go: given, or checked at the start of ``run()``."""
        if self.destination is None:
            raise RuntimeError("the destination is checked only once run() has started")
        return self.destination

    def _spec(self) -> RequestSpec:
        index = self._next_prompt
        self._next_prompt += 1
        return build_request(
            base_url=self.config.base,
            api=self._server.api,
            endpoint=str(self.config.endpoint),
            model=self.config.model,
            prompt=self._prompts.get(index),
            max_tokens=self.config.max_tokens,
            ignore_eos=self.config.ignore_eos,
        )

    async def _one(self, spec: RequestSpec, outcomes: list[RequestOutcome]) -> None:
        timeout_s = self.config.request_timeout_s
        out = await self.wire.send(spec, timeout_s=timeout_s, headers=self._headers)
        outcomes.append(out)
        self.requests_done += 1

    async def _closed_loop(
        self,
        concurrency: int,
        n: int | None,
        duration_s: float | None,
        outcomes: list[RequestOutcome],
    ) -> None:
        """``concurrency`` users, each sending its next request when the last one ends."""
        self.requests_done = 0
        self.requests_total = n
        issued = 0
        level_end = time.perf_counter() + duration_s if duration_s else None

        async def user() -> None:
            nonlocal issued
            while True:
                now = time.perf_counter()
                if now >= self._deadline or (level_end is not None and now >= level_end):
                    return
                if n is not None and issued >= n:
                    return
                issued += 1
                # Built as it leaves: at most ``concurrency`` prompts are held at once.
                await self._one(self._spec(), outcomes)

        users = [asyncio.create_task(user()) for _ in range(concurrency)]
        try:
            await asyncio.gather(*users)
        finally:
            for task in users:
                task.cancel()

    async def _open_loop(self, rate: float, n: int, outcomes: list[RequestOutcome]) -> None:
        """``n`` requests at Poisson arrival times (seeded), as ``vllm bench serve --request-rate``.

        Like vLLM, the exponential gaps are rescaled so the last arrival lands at n / rate.
        """
        self.requests_done = 0
        self.requests_total = n
        rng = random.Random(self.config.seed)
        arrivals: list[float] = []
        total = 0.0
        for _ in range(n):
            total += rng.expovariate(rate)
            arrivals.append(total)
        scale = (n / rate) / arrivals[-1] if arrivals[-1] > 0 else 1.0
        # In flight at most ``max_in_flight``, the closed loop's cap (vllm bench serve's
        # --max-concurrency): a server that falls behind makes arrivals wait instead of piling up
        # requests, and their prompts, without bound.
        in_flight = asyncio.Semaphore(self.config.max_in_flight)

        async def one() -> None:
            try:
                await self._one(self._spec(), outcomes)
            finally:
                in_flight.release()

        start = time.perf_counter()
        tasks: list[asyncio.Task[None]] = []
        try:
            for arrival in arrivals:
                wait = start + arrival * scale - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                await in_flight.acquire()
                if time.perf_counter() >= self._deadline:
                    in_flight.release()
                    break
                tasks.append(asyncio.create_task(one()))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def _sample(self, signals: dict[str, float | bool]) -> None:
        """Keep the peak of each server gauge, and the preemptions during the level."""
        server = self._server
        if server.kind not in (ServerKind.VLLM, ServerKind.OLLAMA):
            return
        first_preemptions = None
        while True:
            sample = await asyncio.to_thread(
                sample_signals, server, destination=self._checked, tls=self.tls
            )
            for key, value in sample.items():
                if key == "preemptions_total":
                    if first_preemptions is None:
                        first_preemptions = value
                    signals["preemptions"] = value - first_preemptions
                elif isinstance(value, bool):
                    signals[key] = signals.get(key, False) or value
                else:
                    signals[f"max_{key}"] = max(signals.get(f"max_{key}", value), value)
            await asyncio.sleep(SIGNAL_SAMPLE_S)


def _model_served(model: str, served: list[str]) -> bool:
    """Exact match, or Ollama's implicit ``:latest`` tag."""
    names = set(served)
    return model in names or f"{model}:latest" in names
