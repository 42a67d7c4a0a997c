"""Dollars per million output tokens: what the hardware costs an hour over what it produces an hour.

Two functions, and every surface reads their results:

- ``hourly_price`` prices the serving hardware once: the GPU's hourly price times the GPU count
  (the user's price, else the catalog's), or the CPU host's.
- ``cost_at_load`` prices both servers at ONE stated load (the same concurrency for both), on
  that same hardware. The figures are measured when every server that can run here was measured
  at that load, else predicted; a server with no figure at that load says why, and a server that
  cannot run on the hardware at all gets no cost, only the reason.

The recommendation calls ``cost_at_load`` at the user's peak (``Facts.cost``: the cost reasons,
the side-by-side row, the cost table, ``manage.py advise`` and the API read that result); the
capacity estimate calls it at each concurrency it predicts (``manage.py estimate``, the estimate
API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from probes.kinds import Backend

# A CPU-only host when no price is given: AWS m7i.2xlarge on-demand, us-east-1 (8 vCPU, 32 GiB),
# $0.4032/h (aws.amazon.com/ec2/pricing/on-demand, 2025).
DEFAULT_CPU_HOST_HOURLY_USD = 0.40
DEFAULT_CPU_HOST_SOURCE = "AWS m7i.2xlarge on-demand (default CPU host)"
CPU_HOST = "a CPU-only host"
FREE = "no cost: the hardware is priced at $0/h"
TOKENS_PER_MILLION = 1_000_000
SECONDS_PER_HOUR = 3600


def usd_per_million_tokens(hourly_usd: float, tokens_per_second: float) -> float | None:
    """Cost of a million output tokens at a sustained ``tokens_per_second`` (None when it produces none)."""
    if tokens_per_second <= 0:
        return None
    return round(hourly_usd / (tokens_per_second * SECONDS_PER_HOUR) * TOKENS_PER_MILLION, 4)


def usd_text(value: float) -> str:
    """A dollar figure as every surface shows it: cents, or three significant digits below a dime
    (so a fraction of a cent is not shown as $0.00)."""
    return f"${value:.2f}" if value >= 0.1 or value == 0 else f"${value:.3g}"


class CostBasis(StrEnum):
    MEASURED = "measured"
    PREDICTED = "predicted"


@dataclass(frozen=True)
class HourlyPrice:
    """What the serving hardware costs an hour: ``gpu_count`` x ``per_gpu_usd`` (0 GPUs: the CPU host)."""

    usd: float
    gpu_count: int
    hardware: str  # "4x NVIDIA H100 SXM 80GB", or CPU_HOST
    per_gpu_usd: float | None  # None on the CPU host
    source: str

    @property
    def label(self) -> str:
        """'$11.96/h for 4x NVIDIA H100 SXM 80GB': the whole hardware's hour, never a GPU's."""
        return f"{usd_text(self.usd)}/h for {self.hardware}"

    @property
    def detail(self) -> str:
        """Where the price comes from: '4 x $2.99/GPU-hour, <source>', or the host's source."""
        if self.per_gpu_usd is None:
            return self.source
        return f"{self.gpu_count} x {usd_text(self.per_gpu_usd)}/GPU-hour, {self.source}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "usd_per_hour": round(self.usd, 4),
            "gpu_count": self.gpu_count,
            "hardware": self.hardware,
            "per_gpu_usd": self.per_gpu_usd,
            "source": self.source,
            "label": self.label,
            "detail": self.detail,
        }


def hourly_price(
    *,
    gpu_name: str | None,
    gpu_count: int,
    catalog_gpu_usd: float | None,
    catalog_source: str,
    user_gpu_usd: float | None = None,
    user_cpu_usd: float | None = None,
) -> HourlyPrice | None:
    """The serving hardware's hourly price: the user's GPU price (else the catalog's) x the GPU
    count; with no GPU (``gpu_count`` 0 or no ``gpu_name``), the CPU host's (the user's, else
    ``DEFAULT_CPU_HOST_HOURLY_USD``). None for GPUs that no price is known for."""
    if gpu_count <= 0 or gpu_name is None:
        if user_cpu_usd is not None:
            return HourlyPrice(user_cpu_usd, 0, CPU_HOST, None, "user")
        return HourlyPrice(DEFAULT_CPU_HOST_HOURLY_USD, 0, CPU_HOST, None, DEFAULT_CPU_HOST_SOURCE)
    unit = user_gpu_usd if user_gpu_usd is not None else catalog_gpu_usd
    if unit is None:
        return None
    source = "user" if user_gpu_usd is not None else (catalog_source or "catalog default")
    return HourlyPrice(unit * gpu_count, gpu_count, f"{gpu_count}x {gpu_name}", unit, source)


@dataclass(frozen=True)
class ServerCost:
    """One server's $/1M output tokens at the load, or why there is none (``missing``)."""

    backend: Backend
    output_token_throughput: float | None
    usd_per_million_output_tokens: float | None
    missing: str = ""

    @property
    def text(self) -> str:
        """'$0.19', or the reason there is no figure."""
        usd = self.usd_per_million_output_tokens
        return self.missing if usd is None else usd_text(usd)

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.backend.value,
            "output_token_throughput": self.output_token_throughput,
            "usd_per_million_output_tokens": self.usd_per_million_output_tokens,
            "text": self.text,
            "missing": self.missing,
        }


@dataclass(frozen=True)
class CostAtLoad:
    """Both servers' $/1M output tokens at one load on one priced hardware.

    ``servers`` holds the servers that can run on the hardware (vLLM first); ``not_viable`` the
    others, each with the reason it gets no cost.
    """

    concurrency: int
    basis: CostBasis
    price: HourlyPrice
    servers: tuple[ServerCost, ...]
    not_viable: tuple[tuple[Backend, str], ...] = ()

    def server(self, backend: Backend) -> ServerCost | None:
        return next((s for s in self.servers if s.backend is backend), None)

    def usd(self, backend: Backend) -> float | None:
        """``backend``'s $/1M output tokens here; None when it has no figure or cannot run."""
        entry = self.server(backend)
        return entry.usd_per_million_output_tokens if entry else None

    def text(self, backend: Backend) -> str:
        """'$0.19 (predicted)', why there is no figure, or why the server cannot run here."""
        entry = self.server(backend)
        if entry is None:
            return dict(self.not_viable).get(backend, "no figure")
        if entry.usd_per_million_output_tokens is None:
            return entry.text
        return f"{entry.text} ({self.basis.value})"

    @property
    def label(self) -> str:
        """'at 200 concurrent users, $2.99/h for 1x NVIDIA H100 SXM 80GB'."""
        noun = "user" if self.concurrency == 1 else "users"
        return f"at {self.concurrency} concurrent {noun}, {self.price.label}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "basis": self.basis.value,
            "label": self.label,
            "price": self.price.as_dict(),
            "servers": [s.as_dict() for s in self.servers],
            "not_viable": [{"server": b.value, "reason": why} for b, why in self.not_viable],
        }


def cost_at_load(
    price: HourlyPrice,
    concurrency: int,
    *,
    predicted: Mapping[Backend, float | None],
    measured: Mapping[Backend, float | None] | None = None,
    not_viable: Mapping[Backend, str] | None = None,
) -> CostAtLoad:
    """Each server's $/1M output tokens at ``concurrency`` concurrent requests on ``price``'s hardware.

    ``predicted`` and ``measured`` give each server's output tokens/s at exactly that concurrency
    (absent or None: no figure there; no other load is substituted). The basis is ``measured``
    when every server that can run here was measured at that load, else ``predicted``, for all of
    them alike. ``not_viable`` names the servers that cannot run on the hardware, with the reason;
    they get no cost. Hardware priced at $0/h (owned, say) gives no figures either, and says so.
    """
    excluded = dict(not_viable or {})
    viable = [backend for backend in (Backend.VLLM, Backend.OLLAMA) if backend not in excluded]
    measured = measured or {}
    basis = (
        CostBasis.MEASURED
        if viable and all(_positive(measured.get(b)) for b in viable)
        else CostBasis.PREDICTED
    )
    figures = measured if basis is CostBasis.MEASURED else predicted
    servers = []
    for backend in viable:
        tokens_per_s = _positive(figures.get(backend))
        if price.usd <= 0:
            servers.append(ServerCost(backend, tokens_per_s, None, FREE))
        elif tokens_per_s is None:
            noun = "user" if concurrency == 1 else "users"
            why = f"no {basis.value} throughput at {concurrency} concurrent {noun}"
            servers.append(ServerCost(backend, None, None, why))
        else:
            usd = usd_per_million_tokens(price.usd, tokens_per_s)
            servers.append(ServerCost(backend, round(tokens_per_s, 2), usd))
    return CostAtLoad(
        concurrency,
        basis,
        price,
        tuple(servers),
        tuple((b, excluded[b]) for b in (Backend.VLLM, Backend.OLLAMA) if b in excluded),
    )


def _positive(value: float | None) -> float | None:
    return float(value) if value is not None and value > 0 else None
