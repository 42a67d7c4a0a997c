"""Ollama on Kubernetes: a model-pull init container, Deployment, Service and PVC with probes."""

from __future__ import annotations

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import OLLAMA_PORT, Backend, BundleInput, GpuVendor
from advisor.bundles.targets.base import (
    OLLAMA_ENGINE_INIT_S,
    PROBE_PERIOD_S,
    Target,
    startup_budget_s,
    yaml_dump_all,
)
from advisor.bundles.targets.ollama_compose import MODELS_DIR, OLLAMA_IMAGE, OLLAMA_IMAGE_ROCM
from advisor.bundles.targets.ollama_env import CONTAINER_HOST, env_dict

PATH = "ollama/kubernetes.yaml"
GPU_RESOURCE = {GpuVendor.NVIDIA: "nvidia.com/gpu", GpuVendor.AMD: "amd.com/gpu"}
CACHE_SIZE_MARGIN = 2.0
MIN_CACHE_GIB = 20
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
    docs = [_pvc(inp), _deployment(inp), _service(inp)]
    return [
        BundleFile(
            PATH,
            yaml_dump_all(docs, header=header),
            description="Kubernetes Deployment with a model-pull init container, Service, PVC",
        )
    ]


def _labels(inp: BundleInput) -> dict:
    return {"app.kubernetes.io/name": inp.name, "app.kubernetes.io/component": "ollama"}


def _pvc(inp: BundleInput) -> dict:
    size = max(MIN_CACHE_GIB, int((inp.weights_gib or 0) * CACHE_SIZE_MARGIN) + 1)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{inp.name}-ollama-models", "labels": _labels(inp)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{size}Gi"}},
        },
    }


def _deployment(inp: BundleInput) -> dict:
    image = OLLAMA_IMAGE_ROCM if inp.gpu_vendor is GpuVendor.AMD else OLLAMA_IMAGE
    budget = startup_budget_s(inp, engine_init_s=OLLAMA_ENGINE_INIT_S)
    mounts = [{"name": "models", "mountPath": MODELS_DIR}]
    env = [{"name": k, "value": v} for k, v in env_dict(inp, host=CONTAINER_HOST).items()]
    http = {"path": "/", "port": "http"}  # Ollama answers "Ollama is running"
    container: dict = {
        "name": "ollama",
        "image": image,
        "env": env,
        "ports": [{"name": "http", "containerPort": OLLAMA_PORT}],
        "startupProbe": {
            "httpGet": http,
            "periodSeconds": PROBE_PERIOD_S,
            "failureThreshold": budget // PROBE_PERIOD_S,
        },
        "readinessProbe": {"httpGet": http, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": http, "periodSeconds": 15, "failureThreshold": 4},
        "volumeMounts": mounts,
    }
    resource = GPU_RESOURCE.get(inp.gpu_vendor)
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
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{inp.name}-ollama", "labels": _labels(inp)},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": _labels(inp)},
            "template": {
                "metadata": {"labels": _labels(inp)},
                "spec": {
                    "initContainers": [pull],
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "models",
                            "persistentVolumeClaim": {"claimName": f"{inp.name}-ollama-models"},
                        }
                    ],
                },
            },
        },
    }


def _service(inp: BundleInput) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{inp.name}-ollama", "labels": _labels(inp)},
        "spec": {
            "selector": _labels(inp),
            "ports": [{"name": "http", "port": OLLAMA_PORT, "targetPort": "http"}],
        },
    }


TARGET = Target(
    name="ollama-kubernetes",
    backends=frozenset({Backend.OLLAMA}),
    render=render,
    description="Kubernetes manifests with a model-pull step",
)
