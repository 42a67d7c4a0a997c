"""What answers at a base URL: Ollama, vLLM, llama.cpp or another OpenAI-compatible server.

Probes, in order (each a GET, redirects refused, a short timeout):
1. ``/api/version`` -> Ollama (its models from ``/api/tags``);
2. ``/version`` -> vLLM (confirmed by ``vllm:`` lines in ``/metrics``);
3. ``/v1/models`` -> OpenAI-compatible; ``owned_by`` "llamacpp" (llama.cpp's server) or "me"
   (llama-cpp-python) marks llama.cpp, "vllm" marks vLLM.

Server-side signals: vLLM ``/metrics`` (requests waiting and running, KV cache usage, preemptions)
and Ollama ``/api/ps`` (``size`` vs ``size_vram``: less in VRAM means layers spilled to the CPU).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field

import aiohttp

from advisor.errors import AdvisorError
from probes.kinds import ServerKind

DISCOVERY_TIMEOUT_S = 5.0


# owned_by values in /v1/models: vllm/entrypoints/openai/serving_models.py ("vllm"),
# llama.cpp tools/server/server.cpp ("llamacpp"), llama_cpp/server/app.py ("me").
_OWNED_BY = {"vllm": ServerKind.VLLM, "llamacpp": ServerKind.LLAMACPP, "me": ServerKind.LLAMACPP}


@dataclass(frozen=True)
class Target:
    """A discovered server. ``api`` is the protocol the load test will speak to it."""

    base_url: str
    kind: ServerKind
    api: str  # "ollama" | "openai"
    version: str = ""
    models: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["kind"] = str(self.kind)
        return data


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes, dict]:
    async with session.get(url, allow_redirects=False) as response:
        if 300 <= response.status < 400:
            raise AdvisorError(
                f"{url} answered with a redirect ({response.status}); redirects are not followed",
                field="base_url",
            )
        return response.status, await response.read(), dict(response.headers)


def _json(body: bytes) -> dict | list | None:
    try:
        return json.loads(body)
    except ValueError:
        return None


async def discover_async(
    session: aiohttp.ClientSession, base_url: str, *, api: str = "auto"
) -> Target:
    """Identify the server at ``base_url``; ``AdvisorError(field="base_url")`` if nothing does."""
    base = base_url.rstrip("/")
    try:
        status, body, _ = await _get(session, f"{base}/api/version")
        data = _json(body)
        if status == 200 and isinstance(data, dict) and "version" in data:
            models = await _ollama_models(session, base)
            # Ollama also serves /v1: asked for "openai", speak that to it, still labelled Ollama.
            speak = "openai" if api == "openai" else "ollama"
            return Target(base, ServerKind.OLLAMA, speak, str(data["version"]), models)
        if api == "ollama":
            raise AdvisorError(f"no Ollama server at {base} (/api/version)", field="base_url")
        version = ""
        status, body, _ = await _get(session, f"{base}/version")
        data = _json(body)
        if status == 200 and isinstance(data, dict) and "version" in data:
            version = str(data["version"])
        status, body, _ = await _get(session, f"{base}/v1/models")
        data = _json(body)
        if status != 200 or not isinstance(data, dict):
            raise AdvisorError(
                f"no Ollama or OpenAI-compatible server at {base} "
                f"(/api/version and /v1/models did not answer; /v1/models gave HTTP {status})",
                field="base_url",
            )
        entries = [m for m in data.get("data") or [] if isinstance(m, dict)]
        models = [str(m.get("id")) for m in entries if m.get("id")]
        kind = ServerKind.OPENAI
        for entry in entries:
            kind = _OWNED_BY.get(str(entry.get("owned_by")), kind)
        if version and kind is ServerKind.OPENAI:
            status, body, _ = await _get(session, f"{base}/metrics")
            if status == 200 and b"vllm:" in body:
                kind = ServerKind.VLLM
        return Target(base, kind, "openai", version, models)
    except aiohttp.ClientConnectorError as exc:
        raise AdvisorError(f"cannot connect to {base}: {exc.os_error}", field="base_url") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AdvisorError(
            f"{base} did not answer discovery: {type(exc).__name__} {exc}", field="base_url"
        ) from None


async def _ollama_models(session: aiohttp.ClientSession, base: str) -> list[str]:
    status, body, _ = await _get(session, f"{base}/api/tags")
    data = _json(body)
    if status != 200 or not isinstance(data, dict):
        return []
    return [str(m.get("name")) for m in data.get("models") or [] if isinstance(m, dict)]


def discover(base_url: str, *, api: str = "auto", resolver=None) -> Target:
    """Sync wrapper (views, the CLI). ``resolver``: an aiohttp resolver pinning checked addresses."""

    async def main() -> Target:
        connector = aiohttp.TCPConnector(resolver=resolver) if resolver else aiohttp.TCPConnector()
        timeout = aiohttp.ClientTimeout(total=DISCOVERY_TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            return await discover_async(session, base_url, api=api)

    return asyncio.run(main())


# --- server-side signals ---------------------------------------------------------------------
# vLLM metric names (vllm/v1/metrics/loggers.py); gpu_cache_usage_perc is the pre-v1 name.
_VLLM_GAUGES = {
    "vllm:num_requests_waiting": "requests_waiting",
    "vllm:num_requests_running": "requests_running",
    "vllm:kv_cache_usage_perc": "kv_cache_usage",
    "vllm:gpu_cache_usage_perc": "kv_cache_usage",
    "vllm:num_preemptions_total": "preemptions_total",
    "vllm:num_preemptions": "preemptions_total",
}


def parse_vllm_metrics(text: str) -> dict[str, float]:
    """Sum the gauges we read over all label sets (one per model) from Prometheus text."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("vllm:"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        key = _VLLM_GAUGES.get(name)
        if key is None:
            continue
        try:
            value = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            continue
        values[key] = values.get(key, 0.0) + value
    return values


async def sample_signals(session: aiohttp.ClientSession, target: Target) -> dict:
    """One sample of the server's own view; {} when the server has none or does not answer."""
    try:
        if target.kind is ServerKind.VLLM:
            status, body, _ = await _get(session, f"{target.base_url}/metrics")
            return parse_vllm_metrics(body.decode(errors="replace")) if status == 200 else {}
        if target.kind is ServerKind.OLLAMA:
            status, body, _ = await _get(session, f"{target.base_url}/api/ps")
            data = _json(body)
            if status != 200 or not isinstance(data, dict):
                return {}
            size = sum(int(m.get("size") or 0) for m in data.get("models") or [])
            vram = sum(int(m.get("size_vram") or 0) for m in data.get("models") or [])
            return {"size": size, "size_vram": vram, "cpu_spill": vram < size}
    except (aiohttp.ClientError, TimeoutError, AdvisorError, ValueError):
        return {}
    return {}
