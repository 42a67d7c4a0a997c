"""Catalog pickers: search the model, GPU and quantization catalogs (the capacity model's data).

``GET /catalog/<kind>/?q=...`` answers htmx with ``<option>`` elements for a ``<datalist>`` and a
plain browser with a searchable page. The search itself is a case-insensitive substring match
over each entry's id, name, aliases and the other names the resolver accepts.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisor.capacity import catalog

# How many options a datalist gets: enough to choose from, few enough to read.
MAX_OPTIONS = 30
# Longest query we search for; catalog names are far shorter.
MAX_QUERY_CHARS = 200
KINDS = {
    "models": ("Models", catalog.list_models),
    "gpus": ("GPUs", catalog.list_gpus),
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


def catalog_search(kind: str, query: str) -> list:
    """Entries of one catalog whose names contain every word of ``query`` (all when blank)."""
    _, lister = KINDS[kind]
    words = query.lower().split()
    entries = list(lister())
    if not words:
        return entries
    return [e for e in entries if all(any(w in n.lower() for n in _names(e)) for w in words)]


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
