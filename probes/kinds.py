"""The LLM servers the advisor knows, named once for the whole code base (core, Django and probes).

They live in ``probes`` because it is the one package that must also run alone on a GPU host
(copied without the advisor, see ``gpu_catalog.py``); everything else imports them from here.

``Backend`` is what the advisor chooses between and renders bundles for: Ollama or vLLM.
``ServerKind`` is what a probe or a load test finds answering at a URL; llama.cpp (the engine
Ollama runs) counts as the Ollama side, another OpenAI-compatible server as neither.
"""

from __future__ import annotations

from enum import StrEnum


class Backend(StrEnum):
    OLLAMA = "ollama"
    VLLM = "vllm"

    @property
    def label(self) -> str:
        return "Ollama" if self is Backend.OLLAMA else "vLLM"

    @property
    def other(self) -> Backend:
        return Backend.VLLM if self is Backend.OLLAMA else Backend.OLLAMA


class ServerKind(StrEnum):
    OLLAMA = "ollama"
    VLLM = "vllm"
    LLAMACPP = "llamacpp"
    OPENAI = "openai"  # some other OpenAI-compatible server

    @property
    def backend(self) -> Backend | None:
        """The side a measurement of this server counts for (llama.cpp: Ollama's engine)."""
        return _BACKEND_OF_KIND.get(self)


_BACKEND_OF_KIND = {
    ServerKind.OLLAMA: Backend.OLLAMA,
    ServerKind.LLAMACPP: Backend.OLLAMA,
    ServerKind.VLLM: Backend.VLLM,
}


def backend_for_kind(kind: object) -> Backend | None:
    """``ServerKind(kind).backend`` for a kind read from JSON (any case); None when unknown."""
    try:
        return ServerKind(str(kind or "").lower()).backend
    except ValueError:
        return None
