"""LLM Serving Advisor: Ollama or vLLM, with evidence."""

__version__ = "0.1.0"
