"""Catalog pickers: search the model, GPU and quantization catalogs (the capacity model's data).

``GET /catalog/<kind>/?q=...`` answers htmx with ``<option>`` elements for a ``<datalist>`` and a
plain browser with a searchable page. The search itself is a case-insensitive prefix match: each
word of the query must start a name, a word of a name, or the name with its punctuation dropped,
over each entry's id, name, aliases and the other names the resolver accepts ("m3" finds the
Apple M3 chips, not the H100 through "HBM3").
"""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisor.capacity import catalog

# How many options a datalist gets: enough to choose from, few enough to read.
MAX_OPTIONS = 30
# Longest query we search for; catalog names are far shorter.
MAX_QUERY_CHARS = 200


def _gpus_with_memory_sizes() -> list:
    """Every catalog GPU, and for a chip sold in several memory sizes (Apple's unified memory:
    an M3 Max ships with 36 to 128 GB) one entry per size, so the picker asks which one."""
    entries = []
    for gpu in catalog.list_gpus():
        entries.append(gpu)
        for size in gpu.memory_options_gib:
            entries.append(catalog.resolve_gpu(f"{gpu.id}-{size}gb"))
    return entries


KINDS = {
    "models": ("Models", catalog.list_models),
    "gpus": ("GPUs", _gpus_with_memory_sizes),
    "quantizations": ("Quantizations", catalog.list_quantizations),
}


def _names(entry) -> list[str]:
    names = [entry.id, getattr(entry, "name", "")]
    for attr in ("hf_repo", "ollama_tag"):
        if getattr(entry, attr, None):
            names.append(getattr(entry, attr))
    names.extend(getattr(entry, "aliases", ()) or ())
    names.extend(getattr(entry, "driver_names", ()) or ())
    return [str(n) for n in names if n]


def _starts(name: str) -> list[str]:
    """Where a query word may start matching ``name``: the name, each of its words, and the name
    without punctuation ("llama31" finds "llama-3.1-8b")."""
    name = name.lower()
    return [name, re.sub(r"[^a-z0-9]", "", name), *re.split(r"[^a-z0-9.]+", name)]


def _matches(entry, word: str) -> bool:
    return any(start.startswith(word) for name in _names(entry) for start in _starts(name))


def catalog_search(kind: str, query: str) -> list:
    """Entries of one catalog where every word of ``query`` starts a name or a word of one (all
    entries when blank)."""
    _, lister = KINDS[kind]
    words = query.lower().split()
    entries = list(lister())
    return [e for e in entries if all(_matches(e, w) for w in words)]


@require_GET
def catalog_list(request: HttpRequest, kind: str) -> HttpResponse:
    """Search page (full) or datalist options (htmx). Unknown kinds are 404."""
    if kind not in KINDS:
        raise Http404("no such catalog")
    title, _ = KINDS[kind]
    params = request.GET
    # The pickers send their own field name (model=..., gpu=...); the page sends q=...
    query = (
        params.get("q") or params.get("model") or params.get("gpu") or params.get("quantization")
    )
    query = (query or "")[:MAX_QUERY_CHARS]
    entries = catalog_search(kind, query)
    context = {"kind": kind, "title": title, "query": query, "entries": entries}
    if request.htmx:
        context["entries"] = entries[:MAX_OPTIONS]
        return render(request, "catalog.html#options", context)
    return render(request, "catalog.html", context)
