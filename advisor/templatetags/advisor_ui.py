"""Template helpers for the web UI: navigation state, number formatting, highlighted previews."""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from advisor.rules.checks import ms
from advisor.views.charts import SERVER_NAMES, server_name

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
    """A snake_case name as words ("multi_lora" -> "Multi LoRA", "vllm_p95" -> "vLLM p95")."""
    words = [WORDS.get(word, word) for word in str(value or "").split("_") if word]
    if not words:
        return ""
    first = words[0]
    if first not in WORDS.values():
        words[0] = first[:1].upper() + first[1:]
    return " ".join(words)


# Words a snake_case name spells differently from how people write them.
WORDS = {
    **{kind: SERVER_NAMES[kind] for kind in ("vllm", "ollama", "llamacpp")},
    "gpu": "GPU",
    "gpus": "GPUs",
    "cpu": "CPU",
    "kv": "KV",
    "ttft": "TTFT",
    "tpot": "TPOT",
    "itl": "ITL",
    "e2e": "E2E",
    "e2el": "E2E",
    "slo": "SLO",
    "slos": "SLOs",
    "lora": "LoRA",
    "ram": "RAM",
    "vram": "VRAM",
    "tps": "tokens/s",
    "usd": "USD",
    "ms": "(ms)",
}


@register.filter
def evidence(reason) -> list[tuple[str, str]]:
    """A reason's evidence as (label, value) pairs for people: numbers rounded (milliseconds as
    ms or s), and text the reason's own sentence already says left out."""
    message = str(reason.get("message") or "")
    pairs = []
    for key, value in (reason.get("evidence") or {}).items():
        if isinstance(value, str) and (not value or value in message):
            continue
        pairs.append((label(key), human(value, key)))
    return pairs


def human(value, key: str = "") -> str:
    """One figure for people: "22.3 s" for 22344.7 ms, "0.15" not "0.1499999", "1,024"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if key.endswith("_ms"):
            return ms(value)  # as the reasons' own sentences write latencies
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


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


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?::[^}]*)?\}")


@register.filter
def placeholders(message) -> SafeString:
    """A rule's message template for the rules page: each ``{field}`` shown as a named slot
    (``<var>hardware</var>``) rather than raw braces."""
    text = str(conditional_escape(message))

    def slot(match: re.Match[str]) -> str:
        words = " ".join(WORDS.get(word, word) for word in match.group(1).split("_"))
        return f'<var title="filled in from your answers">{words}</var>'

    return mark_safe(_PLACEHOLDER.sub(slot, text))  # the text was escaped above


@register.filter
def signed_pct(value) -> str:
    """A percentage with its sign ("+12.3%", "-4.0%"): the model's error on a measurement."""
    if value in (None, ""):
        return ""
    try:
        return f"{float(value):+.1f}%"
    except (TypeError, ValueError):
        return str(value)
