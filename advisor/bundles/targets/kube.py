"""Kubernetes building blocks shared by the vLLM and Ollama manifests (plain dicts for YAML)."""

from __future__ import annotations

from typing import Any

from advisor.bundles.inputs import BundleInput
from advisor.bundles.targets.base import PROBE_PERIOD_S
from advisor.capacity.specs import Vendor

GPU_RESOURCE: dict[Vendor | None, str] = {
    Vendor.NVIDIA: "nvidia.com/gpu",
    Vendor.AMD: "amd.com/gpu",
}  # device plugins
CACHE_SIZE_MARGIN = 2.0  # the model volume holds the download plus room for a second revision
MIN_CACHE_GIB = 20
READINESS = {"periodSeconds": 5, "failureThreshold": 3}
LIVENESS = {"periodSeconds": 15, "failureThreshold": 4}


def labels(inp: BundleInput, component: str) -> dict[str, Any]:
    return {"app.kubernetes.io/name": inp.name, "app.kubernetes.io/component": component}


def cache_pvc(inp: BundleInput, name: str, component: str) -> dict[str, Any]:
    """A ReadWriteOnce claim sized to twice the weights (at least ``MIN_CACHE_GIB``)."""
    size = max(MIN_CACHE_GIB, int((inp.weights_gib or 0) * CACHE_SIZE_MARGIN) + 1)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "labels": labels(inp, component)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{size}Gi"}},
        },
    }


def http_probes(path: str, *, startup_budget_s: int) -> dict[str, Any]:
    """Startup (sized to the first start), readiness and liveness probes on the named port."""
    get = {"path": path, "port": "http"}
    return {
        "startupProbe": {
            "httpGet": dict(get),
            "periodSeconds": PROBE_PERIOD_S,
            "failureThreshold": startup_budget_s // PROBE_PERIOD_S,
        },
        "readinessProbe": {"httpGet": dict(get), **READINESS},
        "livenessProbe": {"httpGet": dict(get), **LIVENESS},
    }


def deployment(
    inp: BundleInput,
    component: str,
    pod_spec: dict[str, Any],
    *,
    annotations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One replica that owns its GPUs and RWO volume: ``Recreate``, never two pods at once."""
    metadata: dict[str, Any] = {"labels": labels(inp, component)}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{inp.name}-{component}", "labels": labels(inp, component)},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels(inp, component)},
            "template": {"metadata": metadata, "spec": pod_spec},
        },
    }


def service(inp: BundleInput, component: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{inp.name}-{component}", "labels": labels(inp, component)},
        "spec": {
            "selector": labels(inp, component),
            "ports": [{"name": "http", "port": port, "targetPort": "http"}],
        },
    }
