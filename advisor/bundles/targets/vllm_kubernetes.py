"""vLLM on Kubernetes: Deployment, Service and PVC, probes on /health, GPU limits, shm, metrics."""

from __future__ import annotations

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import VLLM_PORT, Backend, BundleInput, GpuVendor
from advisor.bundles.targets.base import (
    PROBE_PERIOD_S,
    VLLM_ENGINE_INIT_S,
    Target,
    startup_budget_s,
    yaml_dump_all,
)
from advisor.bundles.targets.vllm_args import API_KEY_ENV, serve_args
from advisor.bundles.targets.vllm_compose import HF_CACHE, VLLM_IMAGE_NVIDIA, VLLM_IMAGE_ROCM

PATH = "vllm/kubernetes.yaml"
GPU_RESOURCE = {GpuVendor.AMD: "amd.com/gpu"}  # device plugins' resource names
DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
SHM_GIB_PER_GPU = 2  # vLLM's Kubernetes example mounts a 2Gi memory emptyDir at /dev/shm
CACHE_SIZE_MARGIN = 2.0  # the PVC holds the download plus room for a second revision
MIN_CACHE_GIB = 20


def render(inp: BundleInput) -> list[BundleFile]:
    documents = [_pvc(inp), _deployment(inp), _service(inp)]
    budget = startup_budget_s(inp, engine_init_s=VLLM_ENGINE_INIT_S)
    header = (
        f"vLLM for {inp.hf_repo}, tuned by the LLM Serving Advisor.\n"
        f"Secret first: kubectl create secret generic {inp.name}-secrets \\\n"
        '  --from-literal=api-key="$VLLM_API_KEY" --from-literal=hf-token="$HF_TOKEN"\n'
        f"Then: kubectl apply -f {PATH}   (first start may take up to {budget} s: "
        "download, load, compile)"
    )
    return [
        BundleFile(
            PATH,
            yaml_dump_all(documents, header=header),
            description="Kubernetes Deployment + Service + PVC with probes and GPU limits",
        )
    ]


def _labels(inp: BundleInput) -> dict:
    return {"app.kubernetes.io/name": inp.name, "app.kubernetes.io/component": "vllm"}


def _pvc(inp: BundleInput) -> dict:
    weights_gib = inp.weights_gib or 0
    size = max(MIN_CACHE_GIB, int(weights_gib * CACHE_SIZE_MARGIN) + 1)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{inp.name}-hf-cache", "labels": _labels(inp)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{size}Gi"}},
        },
    }


def _deployment(inp: BundleInput) -> dict:
    gpus = inp.vllm.tensor_parallel_size
    resource = GPU_RESOURCE.get(inp.gpu_vendor, DEFAULT_GPU_RESOURCE)
    image = VLLM_IMAGE_ROCM if inp.gpu_vendor is GpuVendor.AMD else VLLM_IMAGE_NVIDIA
    budget = startup_budget_s(inp, engine_init_s=VLLM_ENGINE_INIT_S)
    secret = f"{inp.name}-secrets"
    http = {"path": "/health", "port": "http"}
    container = {
        "name": "vllm",
        "image": image,
        "command": ["vllm", "serve"],
        # Kubernetes expands $(VAR) from the container's env, so the key never sits in the manifest.
        "args": serve_args(inp, api_key_arg=f"$({API_KEY_ENV})"),
        "env": [
            {
                "name": API_KEY_ENV,
                "valueFrom": {"secretKeyRef": {"name": secret, "key": "api-key"}},
            },
            {
                "name": "HF_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {"name": secret, "key": "hf-token", "optional": True}
                },
            },
            {"name": "HF_HOME", "value": HF_CACHE},
        ],
        "ports": [{"name": "http", "containerPort": VLLM_PORT}],
        "resources": {"limits": {resource: gpus}},  # vLLM's GPU images need a GPU
        "startupProbe": {
            "httpGet": http,
            "periodSeconds": PROBE_PERIOD_S,
            "failureThreshold": budget // PROBE_PERIOD_S,
        },
        "readinessProbe": {"httpGet": http, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": http, "periodSeconds": 15, "failureThreshold": 4},
        "volumeMounts": [
            {"name": "hf-cache", "mountPath": HF_CACHE},
            {"name": "shm", "mountPath": "/dev/shm"},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{inp.name}-vllm", "labels": _labels(inp)},
        "spec": {
            "replicas": 1,
            # One pod owns the GPUs and the RWO cache: replace, don't overlap.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": _labels(inp)},
            "template": {
                "metadata": {
                    "labels": _labels(inp),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(VLLM_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "hf-cache",
                            "persistentVolumeClaim": {"claimName": f"{inp.name}-hf-cache"},
                        },
                        {
                            "name": "shm",
                            "emptyDir": {
                                "medium": "Memory",
                                "sizeLimit": f"{SHM_GIB_PER_GPU * gpus}Gi",
                            },
                        },
                    ],
                },
            },
        },
    }


def _service(inp: BundleInput) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{inp.name}-vllm", "labels": _labels(inp)},
        "spec": {
            "selector": _labels(inp),
            "ports": [{"name": "http", "port": VLLM_PORT, "targetPort": "http"}],
        },
    }


TARGET = Target(
    name="vllm-kubernetes",
    backends=frozenset({Backend.VLLM}),
    render=render,
    description="Kubernetes manifests",
)
