"""The upstream releases this product was checked against: the one place that says which.

The capacity model's vLLM defaults, the ``vllm serve`` flag table
(``advisor/bundles/data/vllm_serve_flags.yaml``, read from this release's argument parser), the
Ollama variable table (``advisor/bundles/data/ollama_env.yaml``) and the images every bundle pins
all follow these constants; tests hold the tables to them.
"""

from __future__ import annotations

# vLLM on PyPI (`pip install vllm==0.33.0`); the images are the project's own on Docker Hub.
VLLM_RELEASE = "0.33.0"
VLLM_IMAGE = f"vllm/vllm-openai:v{VLLM_RELEASE}"
# AMD's builds moved to the vLLM project's own repository (`rocm/vllm` is deprecated).
VLLM_ROCM_IMAGE = f"vllm/vllm-openai-rocm:v{VLLM_RELEASE}"

# Ollama's image tags are its release numbers; `-rocm` is the AMD build.
OLLAMA_RELEASE = "0.34.2"
OLLAMA_IMAGE = f"ollama/ollama:{OLLAMA_RELEASE}"
OLLAMA_ROCM_IMAGE = f"ollama/ollama:{OLLAMA_RELEASE}-rocm"
