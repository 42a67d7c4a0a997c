"""Dollars per million output tokens: what the hardware costs an hour over what it produces an hour."""

from __future__ import annotations

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


def cost_summary(hourly_usd: float, levels: list[dict], *, price_source: str) -> dict:
    """Per server: $/1M output tokens at every level and at the best-throughput level.

    ``levels`` are performance entries (predicted or measured) carrying ``server``,
    ``concurrency`` and ``output_token_throughput``.
    """
    servers: dict[str, dict] = {}
    for level in levels:
        entry = servers.setdefault(level["server"], {"levels": []})
        throughput = float(level.get("output_token_throughput") or 0)
        entry["levels"].append(
            {
                "concurrency": level["concurrency"],
                "output_token_throughput": throughput,
                "usd_per_million_output_tokens": usd_per_million_tokens(hourly_usd, throughput),
            }
        )
    for entry in servers.values():
        best = max(entry["levels"], key=lambda item: item["output_token_throughput"])
        entry["best"] = best
        entry["usd_per_million_output_tokens"] = best["usd_per_million_output_tokens"]
    return {"hourly_usd": round(hourly_usd, 4), "price_source": price_source, "servers": servers}
