"""Ollama with Docker Compose: NVIDIA, ROCm and CPU flavours, each with a one-shot model pull."""

from __future__ import annotations

from typing import Any

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import OLLAMA_PORT, BundleInput
from advisor.bundles.targets.base import OLLAMA_ENGINE_INIT_S, Target, startup_budget_s, yaml_dump
from advisor.bundles.targets.ollama_env import CONTAINER_HOST, env_dict
from advisor.releases import OLLAMA_IMAGE, OLLAMA_ROCM_IMAGE
from probes.kinds import Backend

# The compose interpolation variable for another image (set in .env); Ollama never reads it.
IMAGE_VAR = "BUNDLE_OLLAMA_IMAGE"
MODELS_DIR = "/root/.ollama"  # the image's OLLAMA_MODELS parent
FLAVOURS = {
    "nvidia": "NVIDIA GPUs (needs the NVIDIA Container Toolkit)",
    "rocm": "AMD GPUs (ROCm: /dev/kfd, /dev/dri)",
    "cpu": "CPU only (llama.cpp on the host's cores)",
}


def render(inp: BundleInput) -> list[BundleFile]:
    return [
        BundleFile(
            f"ollama/compose.{flavour}.yaml",
            yaml_dump(
                _compose(inp, flavour),
                header=f"Ollama for {inp.ollama_tag} on {label}, tuned by the LLM Serving Advisor.\n"
                "Start: docker compose -f <this file> up -d   (the pull service fetches the model)",
            ),
            description=f"docker compose for {label}",
        )
        for flavour, label in FLAVOURS.items()
    ]


def _compose(inp: BundleInput, flavour: str) -> dict[str, Any]:
    budget = startup_budget_s(inp, engine_init_s=OLLAMA_ENGINE_INIT_S)
    server: dict[str, Any] = {
        "image": f"${{{IMAGE_VAR}:-{OLLAMA_ROCM_IMAGE if flavour == 'rocm' else OLLAMA_IMAGE}}}",
        "environment": env_dict(inp, host=CONTAINER_HOST),
        "ports": [f"{OLLAMA_PORT}:{OLLAMA_PORT}"],
        "volumes": [f"ollama-models:{MODELS_DIR}"],
        "healthcheck": {
            "test": ["CMD", "ollama", "list"],
            "interval": "30s",
            "timeout": "5s",
            "retries": 3,
            "start_period": f"{budget}s",
        },
        "restart": "unless-stopped",
    }
    if flavour == "nvidia":
        count = max(inp.gpu_count, 1)
        server["deploy"] = {
            "resources": {
                "reservations": {
                    "devices": [{"driver": "nvidia", "count": count, "capabilities": ["gpu"]}]
                }
            }
        }
    elif flavour == "rocm":
        server["devices"] = ["/dev/kfd", "/dev/dri"]
    pull = {
        "image": server["image"],
        "entrypoint": ["ollama", "pull", inp.ollama_tag],
        "environment": {"OLLAMA_HOST": f"ollama:{OLLAMA_PORT}"},
        "depends_on": {"ollama": {"condition": "service_healthy"}},
        "restart": "no",
    }
    return {
        "name": f"{inp.name}-ollama",
        "services": {"ollama": server, "pull-model": pull},
        "volumes": {"ollama-models": {}},
    }


TARGET = Target(
    name="ollama-compose",
    backends=frozenset({Backend.OLLAMA}),
    render=render,
    description="docker compose for NVIDIA, ROCm and CPU",
)
