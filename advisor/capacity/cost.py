"""Dollars per million output tokens: what the hardware costs an hour over what it produces an hour."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

# A CPU-only host when no price is given: AWS m7i.2xlarge on-demand, us-east-1 (8 vCPU, 32 GiB),
# $0.4032/h (aws.amazon.com/ec2/pricing/on-demand, 2025).
DEFAULT_CPU_HOST_HOURLY_USD = 0.40
TOKENS_PER_MILLION = 1_000_000
SECONDS_PER_HOUR = 3600


def usd_per_million_tokens(hourly_usd: float, tokens_per_second: float) -> float | None:
    """Cost of a million output tokens at a sustained ``tokens_per_second`` (None when it produces none)."""
    if tokens_per_second <= 0:
        return None
    return round(hourly_usd / (tokens_per_second * SECONDS_PER_HOUR) * TOKENS_PER_MILLION, 4)


class CostLevel(TypedDict):
    concurrency: int
    output_token_throughput: float
    usd_per_million_output_tokens: float | None


class ServerCost(TypedDict):
    """One server's levels, the best-throughput one, and its price per million tokens."""

    levels: list[CostLevel]
    best: CostLevel
    usd_per_million_output_tokens: float | None


class CostSummary(TypedDict):
    hourly_usd: float
    price_source: str
    servers: dict[str, ServerCost]


def cost_summary(
    hourly_usd: float, levels: Iterable[Mapping[str, Any]], *, price_source: str
) -> CostSummary:
    """Per server: $/1M output tokens at every level and at the best-throughput level.

    ``levels`` are performance entries (predicted or measured) carrying ``server``,
    ``concurrency`` and ``output_token_throughput``.
    """
    per_server: dict[str, list[CostLevel]] = {}
    for level in levels:
        throughput = float(level.get("output_token_throughput") or 0)
        per_server.setdefault(level["server"], []).append(
            {
                "concurrency": level["concurrency"],
                "output_token_throughput": throughput,
                "usd_per_million_output_tokens": usd_per_million_tokens(hourly_usd, throughput),
            }
        )
    servers: dict[str, ServerCost] = {}
    for server, entries in per_server.items():
        best = max(entries, key=lambda item: item["output_token_throughput"])
        servers[server] = {
            "levels": entries,
            "best": best,
            "usd_per_million_output_tokens": best["usd_per_million_output_tokens"],
        }
    return {"hourly_usd": round(hourly_usd, 4), "price_source": price_source, "servers": servers}
