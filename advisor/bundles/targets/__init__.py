"""The registry of bundle targets: one module per deployment flavour, collected in ``TARGETS``."""

from __future__ import annotations

from advisor.bundles.targets import (
    common,
    ollama_compose,
    ollama_host,
    ollama_kubernetes,
    vllm_compose,
    vllm_host,
    vllm_kubernetes,
)
from advisor.bundles.targets.base import Target

TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        vllm_host.TARGET,
        vllm_compose.TARGET,
        vllm_kubernetes.TARGET,
        ollama_host.TARGET,
        ollama_compose.TARGET,
        ollama_kubernetes.TARGET,
        common.TARGET,
    )
}

__all__ = ["TARGETS", "Target"]
