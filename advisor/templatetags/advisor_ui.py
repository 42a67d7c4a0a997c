"""Template helpers for the web UI: navigation state, number formatting, highlighted previews."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from advisor.views.charts import server_name

register = template.Library()

# Bytes in a GiB: GPU memory is reported in binary units by NVML, ROCm and macOS alike.
GIB = 1024**3


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str, *prefixes: str) -> str:
    """A nav link marked ``aria-current="page"`` when the current URL name is it or starts a prefix."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    active = current == url_name or any(current.startswith(p) for p in prefixes if p)
    if active:
        return format_html('<a href="{}" aria-current="page">{}</a>', reverse(url_name), label)
    return format_html('<a href="{}">{}</a>', reverse(url_name), label)


@register.filter
def gib(value) -> str:
    """Bytes as GiB with one decimal ("79.6 GiB"); blank for missing values."""
    if value in (None, ""):
        return ""
    try:
        return f"{float(value) / GIB:.1f} GiB"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def num(value, digits: int = 1) -> str:
    """A number rounded for reading ("1,234.5"), yes/no for flags; blank for missing values,
    text passed through."""
    if value in (None, ""):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return value  # text (a version such as "0.32") is shown as it is
    try:
        return f"{float(value):,.{int(digits)}f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(value) -> str:
    """A 0-1 fraction as a whole percentage ("82%")."""
    if value in (None, ""):
        return ""
    try:
        return f"{float(value):.0%}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def label(value) -> str:
    """A snake_case name as words ("multi_lora" -> "Multi lora")."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def billions(value) -> str:
    """A parameter count as billions ("8.0B"); blank for missing values."""
    if value in (None, ""):
        return ""
    try:
        return f"{float(value) / 1e9:,.1f}B"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def server_label(kind) -> str:
    """A backend kind as its product name ("vllm" -> "vLLM", "llamacpp" -> "llama.cpp")."""
    return server_name(kind)
