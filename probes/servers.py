"""LLM servers answering on this host (or on configured URLs), labelled by kind.

Contract: ``probe(urls=None) -> Outcome``; ``data`` is ``{"servers": [server, ...], "checked":
[base_url, ...], "skipped": {base_url: reason}}`` where a server is ``{"kind", "base_url",
"version", "models": [name, ...]}`` plus, by kind, ``loaded`` (Ollama ``/api/ps``: name,
size_bytes, size_vram_bytes) or ``metrics`` (vLLM ``/metrics`` gauges). ``absent`` when nothing
answers; a URL that answers but is no LLM server (the advisor itself on :8000) is ``skipped``.

How a server is told apart (each from the project's own source):
- ``ollama``: ``GET /api/version`` answers ``{"version": ...}`` (ollama server/routes.go).
- ``vllm``: ``/v1/models`` entries are ``owned_by: "vllm"`` and ``GET /version`` answers
  (vllm/entrypoints/openai/api_server.py).
- ``llamacpp``: ``owned_by: "me"`` (llama-cpp-python, llama_cpp/server/app.py ``get_models``) or
  ``"llamacpp"`` (llama.cpp's own llama-server).
- ``openai``: any other OpenAI-compatible ``/v1/models``.

Every request goes through ``probes.outbound``: each base URL is resolved once (and checked,
when the caller gives a check: the advisor's allow-list), every GET connects to those addresses
only, and a redirect is never followed (the URL is skipped, saying so).

Seam: ``fetch(destination, path) -> (status, body bytes)``; tests run real HTTP servers on
loopback.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import urllib.parse
from typing import Any

from probes import outbound
from probes.base import Outcome
from probes.kinds import ServerKind

# Ollama's default port (ollama envconfig OLLAMA_HOST), vLLM's default (`vllm serve --port`), the
# demo engines of `make engines` (llama.cpp on 11435, vLLM on 8001) and the scripted servers of
# `manage.py tryservers` (18000, 18434).
DEFAULT_SERVER_URLS = (
    "http://127.0.0.1:11434",
    "http://127.0.0.1:8000",
    "http://127.0.0.1:11435",
    "http://127.0.0.1:8001",
    "http://127.0.0.1:18000",
    "http://127.0.0.1:18434",
)
SERVER_URLS_ENV = "ADVISOR_PROBE_SERVER_URLS"  # comma-separated extra base URLs
HTTP_TIMEOUT_S = 0.8  # per request: a local server answers these in milliseconds
BUSY_REASON = f"accepted the connection but did not answer within {HTTP_TIMEOUT_S:g} s (busy?)"
MAX_BODY_BYTES = 4 * 2**20  # /metrics of a busy vLLM is ~100 KiB; refuse anything absurd
# vLLM gauges worth showing next to a recommendation (vllm/v1/metrics/loggers.py names).
VLLM_METRICS = (
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:kv_cache_usage_perc",
    "vllm:gpu_cache_usage_perc",
)


LLAMACPP_OWNERS = frozenset({"me", "llamacpp"})


def fetch(destination: outbound.Destination, path: str) -> tuple[int, bytes]:
    """GET ``path`` at ``destination``; returns (HTTP status, body). Raises OSError when nothing
    answers, ``outbound.Refused`` (a ValueError) for a redirect, which is never followed."""
    status, body = outbound.get(
        destination, path, timeout_s=HTTP_TIMEOUT_S, max_bytes=MAX_BODY_BYTES
    )
    if 300 <= status < 400:
        raise outbound.Refused(
            f"{path} answered with a redirect (HTTP {status}); redirects are not followed"
        )
    return status, body


def normalize_url(url: str) -> str:
    """``host:port`` or a URL ending in ``/v1`` or ``/`` -> ``http://host:port`` (ValueError if bad)."""
    text = url.strip()
    if "://" not in text:
        text = f"http://{text}"
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class _Site:
    """A base URL, the path under it, and where its requests may go (resolved once)."""

    def __init__(self, base_url: str, check: outbound.Check | None):
        self.base_url = base_url
        self.prefix = urllib.parse.urlsplit(base_url).path.rstrip("/")
        self.destination = outbound.pin(base_url, check=check)


def configured_urls(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Defaults, then ``ADVISOR_PROBE_SERVER_URLS``, then ``extra``; normalized, without repeats.
    Raises ValueError naming a bad URL."""
    env = [u for u in os.environ.get(SERVER_URLS_ENV, "").split(",") if u.strip()]
    urls: list[str] = []
    for url in (*DEFAULT_SERVER_URLS, *env, *extra):
        normalized = normalize_url(url)
        if normalized not in urls:
            urls.append(normalized)
    return urls


def _json(site: _Site, path: str) -> Any:
    status, body = fetch(site.destination, site.prefix + path)
    if status != 200:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _ollama(site: _Site, version: str) -> dict[str, Any]:
    tags = _json(site, "/api/tags") or {}
    running = _json(site, "/api/ps") or {}
    return {
        "kind": str(ServerKind.OLLAMA),
        "base_url": site.base_url,
        "version": version,
        "models": [m.get("name") or m.get("model") for m in tags.get("models", [])],
        "loaded": [
            {
                "name": m.get("name") or m.get("model"),
                "size_bytes": m.get("size"),
                "size_vram_bytes": m.get("size_vram"),
            }
            for m in running.get("models", [])
        ],
    }


def parse_metrics(text: str, names: tuple[str, ...] = VLLM_METRICS) -> dict[str, float]:
    """Sum the samples of each wanted metric in Prometheus text format (labels ignored)."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in names:
            try:
                values[name] = values.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                continue
    return values


def _metrics_text(site: _Site) -> str | None:
    try:
        status, body = fetch(site.destination, site.prefix + "/metrics")
    except OSError:
        return None
    return body.decode("utf-8", "replace") if status == 200 else None


def _openai(site: _Site, listing: dict[str, Any]) -> dict[str, Any]:
    entries = [m for m in listing.get("data", []) if isinstance(m, dict)]
    owners = {str(m.get("owned_by", "")) for m in entries}
    server: dict[str, Any] = {
        "base_url": site.base_url,
        "models": [m.get("id") for m in entries],
        "version": None,
    }
    if owners & LLAMACPP_OWNERS and "vllm" not in owners:
        server["kind"] = str(ServerKind.LLAMACPP)
        return server
    version_body = _json(site, "/version")
    version = version_body.get("version") if isinstance(version_body, dict) else None
    server["version"] = version if isinstance(version, str) else None
    metrics = _metrics_text(site) if ("vllm" in owners or version) else None
    # Without owned_by "vllm" a /version alone proves little; vLLM's metric names settle it.
    if "vllm" in owners or (metrics and "vllm:" in metrics):
        server["kind"] = str(ServerKind.VLLM)
        server["metrics"] = parse_metrics(metrics) if metrics else {}
    else:
        server["kind"] = str(ServerKind.OPENAI)
    return server


def identify(
    base_url: str, *, check: outbound.Check | None = None
) -> tuple[dict[str, Any] | None, str]:
    """Ask one base URL what it is: (server or None, why not). Raises OSError if nothing answers,
    ``outbound.Refused`` when ``check`` refuses its addresses or it answers with a redirect."""
    site = _Site(base_url, check)
    version = _json(site, "/api/version")
    if isinstance(version, dict) and isinstance(version.get("version"), str):
        return _ollama(site, version["version"]), ""
    listing = _json(site, "/v1/models")
    if isinstance(listing, dict) and isinstance(listing.get("data"), list):
        return _openai(site, listing), ""
    health = _json(site, "/healthz")
    if isinstance(health, dict) and {"database", "worker"} <= health.keys():
        return None, "the LLM Serving Advisor itself"
    return None, "answers HTTP but is not an Ollama or OpenAI-compatible server"


def probe(
    urls: list[str] | None = None,
    *,
    extra: list[str] | tuple[str, ...] = (),
    check: outbound.Check | None = None,
) -> Outcome:
    """Probe each URL at once; see the module docstring.

    ``urls``: the trusted ones (default ``configured_urls()``: the built-in loopback ports and
    ``ADVISOR_PROBE_SERVER_URLS``); ``extra``: URLs a user gave, whose addresses must pass
    ``check`` (``outbound.Check``; None: no check, the standalone CLI run by the user on their
    own machine). Raises ValueError for an extra URL that is not http(s).
    """
    trusted = urls if urls is not None else configured_urls()
    given = [url for url in dict.fromkeys(normalize_url(u) for u in extra) if url not in trusted]
    targets = [*trusted, *given]
    found: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}

    def visit(base_url: str) -> None:
        try:
            server, reason = identify(base_url, check=check if base_url in given else None)
        except outbound.Refused as exc:  # refused by the check, or a redirect
            skipped[base_url] = str(exc)
            return
        except ssl.SSLError as exc:
            skipped[base_url] = f"TLS: {exc}"
            return
        except TimeoutError:
            # Listening but silent: llama-cpp-python answers /v1/models only between generations.
            skipped[base_url] = BUSY_REASON
            return
        except OSError:
            return  # nothing listening: the common case, not worth a line
        except Exception as exc:  # a server answering nonsense must not hide the others
            skipped[base_url] = f"{type(exc).__name__}: {exc}"
            return
        if server is not None:
            found[base_url] = server
        else:
            skipped[base_url] = reason

    threads = [threading.Thread(target=visit, args=(url,), daemon=True) for url in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    servers = [found[url] for url in targets if url in found]
    data = {"servers": servers, "checked": list(targets), "skipped": skipped}
    if not servers:
        return Outcome.absent(f"no LLM server answered on {', '.join(targets)}", data)
    names = ", ".join(f"{s['kind']} at {s['base_url']}" for s in servers)
    return Outcome.ok(data, names)
