"""Checks for the user-provided strings that end up inside bundle files.

Model names reach shell scripts, YAML, systemd units and plists. Rather than trusting each
renderer to escape them for its format, a name must match a small alphabet that is inert in all
of them (letters, digits and ``. _ - : / @ +``, the characters Hugging Face repo ids and Ollama tags
use); anything else is refused with an ``AdvisorError`` naming the field. Renderers still quote
(``shlex.quote``, ``yaml.safe_dump``), so a mistake in one layer is caught by the other.
"""

from __future__ import annotations

import re

from advisor.errors import AdvisorError

# Hugging Face repo ids: [A-Za-z0-9._-] in "namespace/name" (huggingface_hub validate_repo_id);
# Ollama tags add ":" for the tag, "/" for namespaces and hosts (hf.co/org/repo:Q4_K_M), "@" digests.
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]*")
MAX_MODEL_NAME_LENGTH = 200  # longest HF repo id is 96 chars (namespace) + 96 (name) + "/"

# Kubernetes object names and label values: RFC 1123 DNS label (63 characters).
DNS_LABEL_MAX = 63
_NOT_DNS = re.compile(r"[^a-z0-9-]+")
DEFAULT_NAME = "llm"
# Bundle names get suffixes ("-vllm", "-hf-cache", "-secrets"): keep room for them within 63.
BUNDLE_NAME_MAX = 40


def check_model_name(value: str, *, field: str = "model") -> str:
    """Return ``value`` when it is a usable model name; raise ``AdvisorError(field=...)`` otherwise."""
    if not isinstance(value, str) or not value:
        raise AdvisorError("A model name is required.", field=field)
    if len(value) > MAX_MODEL_NAME_LENGTH:
        raise AdvisorError(
            f"Model name is longer than {MAX_MODEL_NAME_LENGTH} characters.", field=field
        )
    if not MODEL_NAME_PATTERN.fullmatch(value) or ".." in value or "//" in value:
        raise AdvisorError(
            f"Model name {value[:60]!r} may only use letters, digits and . _ - : / @ + "
            "(a Hugging Face repo id or an Ollama tag).",
            field=field,
        )
    return value


def dns_label(value: str, *, fallback: str = DEFAULT_NAME, limit: int = DNS_LABEL_MAX) -> str:
    """``value`` folded into an RFC 1123 label (lowercase alphanumerics and '-', <= ``limit``).

    Never raises: any input yields a valid label (``fallback`` when nothing usable is left).
    """
    label = _NOT_DNS.sub("-", str(value).lower()).strip("-")
    label = label[: min(limit, DNS_LABEL_MAX)].rstrip("-")
    return label or fallback
