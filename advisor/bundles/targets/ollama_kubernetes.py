"""Ollama on Kubernetes: a model-pull init container, Deployment, Service and PVC with probes."""

from __future__ import annotations

from typing import Any

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import OLLAMA_PORT, BundleInput
from advisor.bundles.targets import kube
from advisor.bundles.targets.base import (
    OLLAMA_ENGINE_INIT_S,
    Target,
    startup_budget_s,
    yaml_dump_all,
)
from advisor.bundles.targets.ollama_compose import MODELS_DIR
from advisor.bundles.targets.ollama_env import CONTAINER_HOST, env_dict
from advisor.capacity.specs import Vendor
from advisor.releases import OLLAMA_IMAGE, OLLAMA_ROCM_IMAGE
from probes.kinds import Backend

PATH = "ollama/kubernetes.yaml"
COMPONENT = "ollama"
# The init container starts a private server, pulls into the shared volume, and stops it. The
# model name arrives through $OLLAMA_MODEL, never pasted into the script.
PULL_SCRIPT = (
    "ollama serve & pid=$!\n"
    "until ollama list >/dev/null 2>&1; do sleep 1; done\n"
    'ollama pull "$OLLAMA_MODEL"\n'
    'kill "$pid"\n'
)


def render(inp: BundleInput) -> list[BundleFile]:
    header = (
        f"Ollama for {inp.ollama_tag}, tuned by the LLM Serving Advisor.\n"
        f"Apply: kubectl apply -f {PATH}   (the init container pulls the model into the PVC)"
    )
    documents = [
        kube.cache_pvc(inp, f"{inp.name}-ollama-models", COMPONENT),
        kube.deployment(inp, COMPONENT, _pod_spec(inp)),
        kube.service(inp, COMPONENT, OLLAMA_PORT),
    ]
    return [
        BundleFile(
            PATH,
            yaml_dump_all(documents, header=header),
            description="Kubernetes Deployment with a model-pull init container, Service, PVC",
        )
    ]


def _pod_spec(inp: BundleInput) -> dict[str, Any]:
    image = OLLAMA_ROCM_IMAGE if inp.gpu_vendor is Vendor.AMD else OLLAMA_IMAGE
    budget = startup_budget_s(inp, engine_init_s=OLLAMA_ENGINE_INIT_S)
    mounts = [{"name": "models", "mountPath": MODELS_DIR}]
    env = [{"name": k, "value": v} for k, v in env_dict(inp, host=CONTAINER_HOST).items()]
    container: dict[str, Any] = {
        "name": "ollama",
        "image": image,
        "env": env,
        "ports": [{"name": "http", "containerPort": OLLAMA_PORT}],
        **kube.http_probes("/", startup_budget_s=budget),  # "/" answers "Ollama is running"
        "volumeMounts": mounts,
    }
    resource = kube.GPU_RESOURCE.get(inp.gpu_vendor)
    if resource and inp.gpu_count > 0:
        container["resources"] = {"limits": {resource: inp.gpu_count}}
    pull = {
        "name": "pull-model",
        "image": image,
        "command": ["/bin/sh", "-c", PULL_SCRIPT],
        "env": [
            {"name": "OLLAMA_MODEL", "value": inp.ollama_tag},
            {"name": "OLLAMA_HOST", "value": f"127.0.0.1:{OLLAMA_PORT}"},
        ],
        "volumeMounts": [dict(m) for m in mounts],
    }
    return {
        "initContainers": [pull],
        "containers": [container],
        "volumes": [
            {
                "name": "models",
                "persistentVolumeClaim": {"claimName": f"{inp.name}-ollama-models"},
            }
        ],
    }


TARGET = Target(
    name="ollama-kubernetes",
    backends=frozenset({Backend.OLLAMA}),
    render=render,
    description="Kubernetes manifests with a model-pull step",
)
