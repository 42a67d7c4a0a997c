"""The deployment bundle of a recommendation: file tree, highlighted preview, copy, zip download.

``GET /recommendations/<id>/bundle/?file=<path>`` shows the tree and one file (htmx swaps just the
preview); ``GET /recommendations/<id>/bundle.zip`` downloads every file.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from advisor.errors import AdvisorError
from advisor.models import Assessment, Recommendation
from advisor.services.bundles import bundle_for_recommendation
from advisor.views.access import visible
from advisor.views.highlight import highlight_file, lexer_name

# The file shown first when none is asked for: it explains the others.
FIRST_FILE = "README.md"
# ?backend= renders the other server's files instead of the recommended one's.
BACKENDS = {"vllm": "vLLM", "ollama": "Ollama"}


def _backend(request: HttpRequest) -> str | None:
    """The ``backend`` asked for (None: the recommended one); AdvisorError for an unknown one."""
    backend = request.GET.get("backend") or None
    if backend is not None and backend not in BACKENDS:
        raise AdvisorError(f"backend must be one of {', '.join(BACKENDS)}", field="backend")
    return backend


def _recommendation(request: HttpRequest, pk) -> Recommendation:
    allowed = visible(Assessment.objects.all(), request)
    queryset = Recommendation.objects.select_related("assessment").filter(assessment__in=allowed)
    return get_object_or_404(queryset, pk=pk)


def _tree(paths: list[str]) -> list[dict]:
    """Files grouped by folder, folders in order: [{folder, files: [{path, name}]}]."""
    groups: dict[str, list[dict]] = {}
    for path in sorted(paths, key=lambda p: (p.count("/"), p)):
        folder, _, name = path.rpartition("/")
        groups.setdefault(folder, []).append({"path": path, "name": name})
    return [{"folder": folder, "files": files} for folder, files in groups.items()]


@require_GET
def bundle_detail(request: HttpRequest, pk) -> HttpResponse:
    recommendation = _recommendation(request, pk)
    context: dict = {"recommendation": recommendation, "assessment": recommendation.assessment}
    try:
        bundle = bundle_for_recommendation(recommendation=recommendation, backend=_backend(request))
    except AdvisorError as exc:
        context["error"] = exc.message
        return render(request, "bundle.html", context, status=422)
    other = "ollama" if bundle.backend == "vllm" else "vllm"
    context["other"] = {"key": other, "label": BACKENDS[other]}
    context["chosen_backend"] = request.GET.get("backend") or ""
    paths = bundle.paths
    wanted = request.GET.get("file") or (FIRST_FILE if FIRST_FILE in paths else paths[0])
    status = 200
    if wanted not in paths:
        context["file_error"] = f"The bundle has no file {wanted!r}; pick one from the list."
        wanted = FIRST_FILE if FIRST_FILE in paths else paths[0]
        status = 404
    current = bundle.file(wanted)
    context.update(
        {
            "bundle": bundle,
            "tree": _tree(paths),
            "current": current,
            "language": lexer_name(current.path),
            "highlighted": mark_safe(
                highlight_file(current.path, current.content)
            ),  # Pygments escapes the text
        }
    )
    template = "bundle.html#preview" if request.htmx else "bundle.html"
    return render(request, template, context, status=status)


@require_GET
def bundle_zip(request: HttpRequest, pk) -> HttpResponse:
    recommendation = _recommendation(request, pk)
    try:
        bundle = bundle_for_recommendation(recommendation=recommendation, backend=_backend(request))
    except AdvisorError as exc:
        return render(
            request,
            "bundle.html",
            {
                "recommendation": recommendation,
                "assessment": recommendation.assessment,
                "error": exc.message,
            },
            status=422,
        )
    response = HttpResponse(bundle.to_zip(), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, bundle.filename)
    return response
