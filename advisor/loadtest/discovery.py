"""What answers at a base URL: Ollama, vLLM, llama.cpp or another OpenAI-compatible server.

Probes, in order (each a GET through ``probes/outbound.py``: only to the addresses the policy
checked, redirects refused, a short timeout):
1. ``/api/version`` -> Ollama (its models from ``/api/tags``);
2. ``/version`` -> vLLM (confirmed by ``vllm:`` lines in ``/metrics``);
3. ``/v1/models`` -> OpenAI-compatible; ``owned_by`` "llamacpp" (llama.cpp's server) or "me"
   (llama-cpp-python) marks llama.cpp, "vllm" marks vLLM.

Server-side signals: vLLM ``/metrics`` (requests waiting and running, KV cache usage, preemptions)
and Ollama ``/api/ps`` (``size`` vs ``size_vram``: less in VRAM means layers spilled to the CPU).
"""

from __future__ import annotations

import json
import ssl
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from advisor.errors import AdvisorError
from advisor.loadtest.policy import DEFAULT_ALLOWED_HOSTS, CheckedTarget, check_target
from probes import outbound
from probes.kinds import ServerKind

DISCOVERY_TIMEOUT_S = 5.0
SIGNAL_TIMEOUT_S = 2.0  # one sample a second: a slow answer is skipped, not waited for
# /metrics of a busy vLLM is ~100 KiB; the model list of a big Ollama a few hundred KiB.
MAX_BODY_BYTES = 4 * 2**20


# owned_by values in /v1/models: vllm/entrypoints/openai/serving_models.py ("vllm"),
# llama.cpp tools/server/server.cpp ("llamacpp"), llama_cpp/server/app.py ("me").
_OWNED_BY = {"vllm": ServerKind.VLLM, "llamacpp": ServerKind.LLAMACPP, "me": ServerKind.LLAMACPP}


@dataclass(frozen=True)
class DiscoveredServer:
    """A discovered server. ``api`` is the protocol the load test will speak to it."""

    base_url: str
    kind: ServerKind
    api: str  # "ollama" | "openai"
    version: str = ""
    models: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        return data


@dataclass(frozen=True)
class _Site:
    """A base URL and where its requests may go (the policy's checked addresses)."""

    base: str
    destination: CheckedTarget
    tls: ssl.SSLContext | None
    timeout_s: float

    def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path`` under the base URL; a redirect is an ``AdvisorError``, never followed."""
        url = f"{self.base}{path}"
        prefix = urlsplit(self.base).path.rstrip("/")
        status, body = outbound.get(
            self.destination,
            prefix + path,
            timeout_s=self.timeout_s,
            max_bytes=MAX_BODY_BYTES,
            tls=self.tls,
        )
        if 300 <= status < 400:
            raise AdvisorError(
                f"{url} answered with a redirect ({status}); redirects are not followed",
                field="base_url",
            )
        return status, body


def _json(body: bytes) -> Any:
    """The parsed JSON (callers check its shape), or None when ``body`` is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def discover(
    base_url: str,
    *,
    api: str = "auto",
    destination: CheckedTarget | None = None,
    tls: ssl.SSLContext | None = None,
) -> DiscoveredServer:
    """Identify the server at ``base_url``; ``AdvisorError(field="base_url")`` if nothing does.

    ``destination``: the policy's check of ``base_url`` (``policy.check_target``); without one
    the target is checked against the loopback-only default. ``tls``: the https context
    (default: certificates verified). Blocking; the load generator runs it on a
    thread.
    """
    base = base_url.rstrip("/")
    if destination is None:
        destination = check_target(base, allowed_hosts=DEFAULT_ALLOWED_HOSTS)
    site = _Site(base, destination, tls, DISCOVERY_TIMEOUT_S)
    try:
        return _identify(site, api)
    except ConnectionRefusedError as exc:
        raise AdvisorError(f"cannot connect to {base}: {exc}", field="base_url") from None
    except OSError as exc:
        raise AdvisorError(
            f"{base} did not answer discovery: {type(exc).__name__} {exc}", field="base_url"
        ) from None


def _identify(site: _Site, api: str) -> DiscoveredServer:
    base = site.base
    status, body = site.get("/api/version")
    data = _json(body)
    if status == 200 and isinstance(data, dict) and "version" in data:
        models = _ollama_models(site)
        # Ollama also serves /v1: asked for "openai", speak that to it, still labelled Ollama.
        speak = "openai" if api == "openai" else "ollama"
        return DiscoveredServer(base, ServerKind.OLLAMA, speak, str(data["version"]), models)
    if api == "ollama":
        raise AdvisorError(f"no Ollama server at {base} (/api/version)", field="base_url")
    version = ""
    status, body = site.get("/version")
    data = _json(body)
    if status == 200 and isinstance(data, dict) and "version" in data:
        version = str(data["version"])
    status, body = site.get("/v1/models")
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
        status, body = site.get("/metrics")
        if status == 200 and b"vllm:" in body:
            kind = ServerKind.VLLM
    return DiscoveredServer(base, kind, "openai", version, models)


def _ollama_models(site: _Site) -> list[str]:
    status, body = site.get("/api/tags")
    data = _json(body)
    if status != 200 or not isinstance(data, dict):
        return []
    return [str(m.get("name")) for m in data.get("models") or [] if isinstance(m, dict)]


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


def sample_signals(
    target: DiscoveredServer, *, destination: CheckedTarget, tls: ssl.SSLContext | None = None
) -> dict[str, float | bool]:
    """One sample of the server's own view; {} when the server has none or does not answer.
    Blocking (a short timeout); the load generator runs it on a thread."""
    site = _Site(target.base_url, destination, tls, SIGNAL_TIMEOUT_S)
    try:
        if target.kind is ServerKind.VLLM:
            status, body = site.get("/metrics")
            return parse_vllm_metrics(body.decode(errors="replace")) if status == 200 else {}
        if target.kind is ServerKind.OLLAMA:
            status, body = site.get("/api/ps")
            data = _json(body)
            if status != 200 or not isinstance(data, dict):
                return {}
            size = sum(int(m.get("size") or 0) for m in data.get("models") or [])
            vram = sum(int(m.get("size_vram") or 0) for m in data.get("models") or [])
            return {"size": size, "size_vram": vram, "cpu_spill": vram < size}
    except (OSError, AdvisorError, ValueError):
        return {}
    return {}
