"""vLLM on Kubernetes: Deployment, Service and PVC, probes on /health, GPU limits, shm, metrics."""

from __future__ import annotations

from typing import Any

from advisor.bundles.archive import BundleFile
from advisor.bundles.inputs import VLLM_PORT, BundleInput
from advisor.bundles.targets import kube
from advisor.bundles.targets.base import (
    VLLM_ENGINE_INIT_S,
    Target,
    startup_budget_s,
    yaml_dump_all,
)
from advisor.bundles.targets.vllm_args import API_KEY_ENV, serve_args
from advisor.bundles.targets.vllm_compose import HF_CACHE
from advisor.capacity.specs import Vendor
from advisor.releases import VLLM_IMAGE, VLLM_ROCM_IMAGE
from probes.kinds import Backend

PATH = "vllm/kubernetes.yaml"
COMPONENT = "vllm"
SHM_GIB_PER_GPU = 2  # vLLM's Kubernetes example mounts a 2Gi memory emptyDir at /dev/shm
METRICS_ANNOTATIONS = {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": str(VLLM_PORT),
    "prometheus.io/path": "/metrics",
}


def render(inp: BundleInput) -> list[BundleFile]:
    budget = startup_budget_s(inp, engine_init_s=VLLM_ENGINE_INIT_S)
    documents = [
        kube.cache_pvc(inp, f"{inp.name}-hf-cache", COMPONENT),
        kube.deployment(inp, COMPONENT, _pod_spec(inp, budget), annotations=METRICS_ANNOTATIONS),
        kube.service(inp, COMPONENT, VLLM_PORT),
    ]
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


def _pod_spec(inp: BundleInput, budget: int) -> dict[str, Any]:
    gpus = inp.vllm.gpus
    resource = kube.GPU_RESOURCE.get(inp.gpu_vendor, kube.GPU_RESOURCE[Vendor.NVIDIA])
    image = VLLM_ROCM_IMAGE if inp.gpu_vendor is Vendor.AMD else VLLM_IMAGE
    secret = f"{inp.name}-secrets"
    container = {
        "name": "vllm",
        "image": image,
        "command": ["vllm", "serve"],
        # Kubernetes expands $(VAR) from the container's env, so the key never sits in the manifest.
        "args": serve_args(inp),
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
        **kube.http_probes("/health", startup_budget_s=budget),
        "volumeMounts": [
            {"name": "hf-cache", "mountPath": HF_CACHE},
            {"name": "shm", "mountPath": "/dev/shm"},
        ],
    }
    return {
        "containers": [container],
        "volumes": [
            {"name": "hf-cache", "persistentVolumeClaim": {"claimName": f"{inp.name}-hf-cache"}},
            {
                "name": "shm",
                "emptyDir": {"medium": "Memory", "sizeLimit": f"{SHM_GIB_PER_GPU * gpus}Gi"},
            },
        ],
    }


TARGET = Target(
    name="vllm-kubernetes",
    backends=frozenset({Backend.VLLM}),
    render=render,
    description="Kubernetes manifests",
)
