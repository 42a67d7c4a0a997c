"""vLLM with Docker Compose: one file for NVIDIA (CUDA image) and one for AMD (ROCm image)."""

from __future__ import annotations

from typing import Any

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import VLLM_PORT, BundleInput
from advisor.bundles.targets.base import VLLM_ENGINE_INIT_S, Target, startup_budget_s, yaml_dump
from advisor.bundles.targets.vllm_args import API_KEY_ENV, serve_args
from advisor.releases import VLLM_IMAGE, VLLM_ROCM_IMAGE
from probes.kinds import Backend

# Compose interpolation variables (set in .env to run other images); named so nobody mistakes
# them for variables vLLM itself reads.
IMAGE_VAR = "BUNDLE_VLLM_IMAGE"
ROCM_IMAGE_VAR = "BUNDLE_VLLM_ROCM_IMAGE"
HF_CACHE = "/root/.cache/huggingface"  # the images run as root; HF_HOME default under it

# vLLM's own health check from inside the container (the images ship python3, not always curl).
HEALTHCHECK = [
    "CMD",
    "python3",
    "-c",
    f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{VLLM_PORT}/health', timeout=4)",
]


def render(inp: BundleInput) -> list[BundleFile]:
    return [
        BundleFile(
            "vllm/compose.nvidia.yaml",
            yaml_dump(_compose(inp, rocm=False), header=_header(inp, "NVIDIA (CUDA)")),
            description="docker compose for NVIDIA GPUs (needs the NVIDIA Container Toolkit)",
        ),
        BundleFile(
            "vllm/compose.rocm.yaml",
            yaml_dump(_compose(inp, rocm=True), header=_header(inp, "AMD (ROCm)")),
            description="docker compose for AMD Instinct/Radeon GPUs (/dev/kfd, /dev/dri)",
        ),
    ]


def _header(inp: BundleInput, flavour: str) -> str:
    return (
        f"vLLM for {inp.hf_repo} on {flavour}, tuned by the LLM Serving Advisor.\n"
        "Start: docker compose --env-file .env -f <this file> up -d   (.env from .env.example)"
    )


def _compose(inp: BundleInput, *, rocm: bool) -> dict[str, Any]:
    budget = startup_budget_s(inp, engine_init_s=VLLM_ENGINE_INIT_S)
    gpus = inp.vllm.gpus
    service: dict[str, Any] = {
        "image": f"${{{ROCM_IMAGE_VAR}:-{VLLM_ROCM_IMAGE}}}"
        if rocm
        else f"${{{IMAGE_VAR}:-{VLLM_IMAGE}}}",
        "entrypoint": ["vllm", "serve"],
        "command": serve_args(inp),
        # vLLM reads its API key from the environment, so it never shows in `ps` or `docker inspect`'s
        # command line (vllm/entrypoints/serve/middleware/register.py).
        "environment": {
            API_KEY_ENV: f"${{{API_KEY_ENV}:?set {API_KEY_ENV} in .env}}",
            "HF_TOKEN": "${HF_TOKEN:-}",
            "HF_HOME": HF_CACHE,
        },
        "ports": [f"{VLLM_PORT}:{VLLM_PORT}"],
        # Tensor-parallel workers exchange tensors through shared memory (vLLM docker docs).
        "ipc": "host",
        "volumes": [f"hf-cache:{HF_CACHE}"],
        "healthcheck": {
            "test": HEALTHCHECK,
            "interval": "30s",
            "timeout": "5s",
            "retries": 3,
            "start_period": f"{budget}s",
        },
        "restart": "unless-stopped",
    }
    if rocm:
        # vLLM's ROCm docker instructions: the kernel driver and render nodes, video group.
        service["devices"] = ["/dev/kfd", "/dev/dri"]
        service["group_add"] = ["video"]
        service["cap_add"] = ["SYS_PTRACE"]
        service["security_opt"] = ["seccomp=unconfined"]
    else:
        service["deploy"] = {
            "resources": {
                "reservations": {
                    "devices": [{"driver": "nvidia", "count": gpus, "capabilities": ["gpu"]}]
                }
            }
        }
    return {"name": f"{inp.name}-vllm", "services": {"vllm": service}, "volumes": {"hf-cache": {}}}


TARGET = Target(
    name="vllm-compose",
    backends=frozenset({Backend.VLLM}),
    render=render,
    description="docker compose for NVIDIA and ROCm",
)
