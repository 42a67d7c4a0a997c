"""``BundleInput``: the one typed view of a recommendation that every bundle target renders from.

``bundle_input_from(recommendation, estimate, answers)`` reads the three stored JSON dicts (the rules
engine's ``Recommendation.as_dict()``, the capacity model's ``Estimate.as_dict()`` and the answers),
tolerating missing optional keys, so the renderers never depend on the other areas' internals. Pure
Python; the capacity catalog is consulted (when importable) only to map a model to its Hugging Face
repo id and Ollama tag and a GPU to its vendor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from advisor.bundles.names import BUNDLE_NAME_MAX, check_model_name, dns_label
from advisor.bundles.readers import (
    first_bool,
    flag,
    migration_lines,
    nested,
    one_line,
    read_float,
    read_int,
    texts,
)
from advisor.errors import AdvisorError
from probes.kinds import Backend


class GpuVendor(StrEnum):
    NVIDIA = "nvidia"
    AMD = "amd"
    APPLE = "apple"
    CPU = "cpu"


# Defaults when the estimate is missing a figure, each the server's own default.
VLLM_DEFAULT_GPU_MEMORY_UTILIZATION = 0.9  # vllm/config/cache.py CacheConfig.gpu_memory_utilization
VLLM_DEFAULT_MAX_NUM_SEQS = 256  # vllm: default below 70 GiB GPUs (shared/REFERENCE.md)
VLLM_DEFAULT_MAX_LORA_RANK = 16  # vllm/config/lora.py LoRAConfig.max_lora_rank
OLLAMA_DEFAULT_MAX_QUEUE = 512  # ollama envconfig MaxQueue default
OLLAMA_PORT = 11434  # ollama envconfig Host default port
VLLM_PORT = 8000  # vllm cli_args FrontendArgs.port default

# Answers' quantization ids -> vLLM --quantization methods (None: let vLLM read the checkpoint).
# fp8 quantizes a bf16 checkpoint on load; AWQ/GPTQ need a checkpoint in that format.
VLLM_QUANTIZATION_BY_ANSWER = {
    "fp8": "fp8",
    "awq": "awq",
    "awq-int4": "awq",
    "awq_int4": "awq",
    "gptq": "gptq",
    "gptq-int4": "gptq",
    "gptq_int4": "gptq",
    "bitsandbytes": "bitsandbytes",
    "mxfp4": "mxfp4",
}
VLLM_KV_CACHE_DTYPES = {"auto", "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16"}
OLLAMA_KV_CACHE_TYPES = {"f16", "q8_0", "q4_0"}


@dataclass(frozen=True)
class Reason:
    rule_id: str
    message: str
    kind: str = "supporting"  # decisive | supporting | opposing


@dataclass(frozen=True)
class VllmSettings:
    tensor_parallel_size: int
    max_model_len: int
    max_num_seqs: int
    gpu_memory_utilization: float
    quantization: str | None
    kv_cache_dtype: str
    enable_prefix_caching: bool
    enable_lora: bool
    max_loras: int
    max_lora_rank: int
    kv_cache_tokens: int | None = None
    max_concurrency: float | None = None
    fits: bool | None = None


@dataclass(frozen=True)
class OllamaSettings:
    num_ctx: int
    num_parallel: int
    max_loaded_models: int
    keep_alive: str
    flash_attention: bool
    kv_cache_type: str
    max_queue: int
    host: str
    fits_in_vram: bool | None = None
    gpu_layers: int | None = None
    total_layers: int | None = None
    memory_bytes: int | None = None


@dataclass(frozen=True)
class BundleInput:
    """Everything a bundle target needs, already checked. Model names are safe to embed."""

    backend: Backend
    name: str  # RFC 1123 label for Kubernetes objects, units and compose services
    model_id: str  # what the user asked for (catalog id, repo id or tag)
    hf_repo: str  # what vLLM loads
    ollama_tag: str  # what Ollama pulls
    gpu_vendor: GpuVendor
    gpu_name: str
    gpu_count: int
    platform: str
    use_case: str
    deployment_target: str
    peak_concurrent_users: int
    context_length: int
    avg_prompt_tokens: int
    avg_output_tokens: int
    features: frozenset[str]
    lora_adapters: int
    vllm: VllmSettings
    ollama: OllamaSettings
    weights_bytes: int | None = None
    confidence: float | None = None
    confidence_label: str = ""
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[str, ...] = ()
    switch_triggers: tuple[str, ...] = ()
    migration: tuple[str, ...] = ()
    slos: Mapping[str, float] = field(default_factory=dict)
    performance: tuple[Mapping[str, Any], ...] = ()

    @property
    def other_backend(self) -> Backend:
        return self.backend.other

    @property
    def port(self) -> int:
        return VLLM_PORT if self.backend is Backend.VLLM else OLLAMA_PORT

    @property
    def served_model(self) -> str:
        """The model name clients send in requests to this bundle's server."""
        return self.hf_repo if self.backend is Backend.VLLM else self.ollama_tag

    @property
    def weights_gib(self) -> float | None:
        return None if self.weights_bytes is None else self.weights_bytes / 1024**3


def bundle_input_from(
    recommendation: Mapping[str, Any] | None,
    estimate: Mapping[str, Any] | None,
    answers: Mapping[str, Any] | None,
    *,
    backend: str | None = None,
) -> BundleInput:
    """Build the typed input from stored JSON. Raises ``AdvisorError(field=...)`` on bad values.

    ``backend`` overrides the recommendation's verdict (to render the alternative server).
    """
    rec = dict(recommendation or {})
    est = dict(estimate or {})
    ans = dict(answers or {})

    chosen = backend or rec.get("backend")
    try:
        backend_enum = Backend(str(chosen).lower())
    except ValueError:
        raise AdvisorError(
            f"Unknown backend {chosen!r}; expected 'ollama' or 'vllm'.", field="backend"
        ) from None

    # The rules engine records the hardware it sized the verdict for (also when a hardware report,
    # not the answers, chose it): render that hardware.
    facts = rec.get("facts") if isinstance(rec.get("facts"), Mapping) else {}
    for key in ("gpu", "gpu_count", "platform"):
        if facts.get(key) is not None:
            ans[key] = facts[key]
    model_id = check_model_name(str(ans.get("model") or est.get("model_id") or ""), field="model")
    hf_repo, ollama_tag = _model_names(model_id, est, ans)
    gpu_count = read_int(ans.get("gpu_count"), default=None, field="gpu_count")
    if gpu_count is None:
        gpu_count = read_int(
            est.get("gpu_count") or nested(est, "gpu", "count"), default=1, field="gpu_count"
        )
    gpu_name = one_line(
        nested(est, "gpu", "name") or ans.get("gpu") or nested(est, "gpu", "id") or ""
    )
    vendor = _vendor(gpu_name, gpu_count, est)

    context_length = read_int(ans.get("context_length"), default=8192, field="context_length")
    peak = read_int(ans.get("peak_concurrent_users"), default=1, field="peak_concurrent_users")
    features = frozenset(str(f) for f in (ans.get("features") or ()))
    lora_adapters = read_int(ans.get("lora_adapters"), default=0, field="lora_adapters")
    deployment_target = str(ans.get("deployment_target") or "workstation")

    return BundleInput(
        backend=backend_enum,
        name=dns_label(str(ans.get("name") or model_id), limit=BUNDLE_NAME_MAX),
        model_id=model_id,
        hf_repo=hf_repo,
        ollama_tag=ollama_tag,
        gpu_vendor=vendor,
        gpu_name=gpu_name,
        gpu_count=gpu_count,
        platform=str(ans.get("platform") or "auto"),
        use_case=str(ans.get("use_case") or "prototype"),
        deployment_target=deployment_target,
        peak_concurrent_users=peak,
        context_length=context_length,
        avg_prompt_tokens=read_int(
            ans.get("avg_prompt_tokens"), default=512, field="avg_prompt_tokens"
        ),
        avg_output_tokens=read_int(
            ans.get("avg_output_tokens"), default=256, field="avg_output_tokens"
        ),
        features=features,
        lora_adapters=lora_adapters,
        vllm=_vllm_settings(est, ans, gpu_count, context_length, peak, features, lora_adapters),
        ollama=_ollama_settings(est, ans, vendor, context_length, peak, deployment_target),
        weights_bytes=_weights_bytes(est, backend_enum),
        confidence=read_float(rec.get("confidence"), default=None, field="confidence"),
        confidence_label=str(rec.get("confidence_label") or ""),
        reasons=_reasons(rec),
        warnings=texts(rec.get("warnings")),
        switch_triggers=texts(rec.get("switch_triggers")),
        migration=migration_lines(rec.get("migration")),
        slos={
            key: float(ans[key])
            for key in ("slo_ttft_ms", "slo_tpot_ms", "slo_e2e_p95_ms")
            if isinstance(ans.get(key), int | float) and not isinstance(ans.get(key), bool)
        },
        performance=tuple(p for p in est.get("performance") or () if isinstance(p, Mapping)),
    )


def _vllm_settings(est, ans, gpu_count, context_length, peak, features, lora_adapters):
    v = est.get("vllm") if isinstance(est.get("vllm"), Mapping) else {}
    tp = read_int(
        v.get("tensor_parallel_size"), default=max(gpu_count, 1), field="tensor_parallel_size"
    )
    quant_answer = str(ans.get("quantization") or "auto").lower()
    if quant_answer == "auto":  # the format the estimate sized vLLM for
        quant_answer = str(v.get("quantization") or est.get("quantization") or "auto").lower()
    request = est.get("request") if isinstance(est.get("request"), Mapping) else {}
    kv_dtype = str(
        v.get("kv_cache_dtype") or request.get("kv_cache_dtype") or est.get("kv_cache_dtype") or ""
    ).lower()
    kv_dtype = kv_dtype.removeprefix("kv-") or "auto"
    if kv_dtype not in VLLM_KV_CACHE_DTYPES:
        kv_dtype = "auto"
    multi_lora = "multi_lora" in features or lora_adapters > 0
    return VllmSettings(
        tensor_parallel_size=max(tp, 1),
        max_model_len=read_int(
            v.get("max_model_len"), default=context_length, field="max_model_len"
        ),
        max_num_seqs=read_int(
            v.get("max_num_seqs"),
            default=max(VLLM_DEFAULT_MAX_NUM_SEQS, peak),
            field="max_num_seqs",
        ),
        gpu_memory_utilization=read_float(
            v.get("gpu_memory_utilization") or est.get("gpu_memory_utilization"),
            default=VLLM_DEFAULT_GPU_MEMORY_UTILIZATION,
            field="gpu_memory_utilization",
        ),
        quantization=VLLM_QUANTIZATION_BY_ANSWER.get(quant_answer),
        kv_cache_dtype=kv_dtype,
        # Chat traffic repeats system prompts and history; vLLM V1 turns this on by default, we
        # say so explicitly so the file documents it.
        enable_prefix_caching=True,
        enable_lora=multi_lora,
        max_loras=max(1, min(lora_adapters, 64)) if multi_lora else 1,
        max_lora_rank=VLLM_DEFAULT_MAX_LORA_RANK,
        kv_cache_tokens=read_int(v.get("kv_cache_tokens"), default=None, field="kv_cache_tokens"),
        max_concurrency=read_float(v.get("max_concurrency"), default=None, field="max_concurrency"),
        fits=v.get("fits") if isinstance(v.get("fits"), bool) else None,
    )


def _ollama_settings(est, ans, vendor, context_length, peak, deployment_target):
    o = est.get("ollama") if isinstance(est.get("ollama"), Mapping) else {}
    # The capacity model's tuned settings, when it gives them, win over the sizing at the
    # defaults (``num_ctx``/``num_parallel`` at the top level describe Ollama as installed).
    tuned = o.get("recommended") if isinstance(o.get("recommended"), Mapping) else {}
    env = tuned.get("env") if isinstance(tuned.get("env"), Mapping) else {}
    kv_type = str(env.get("OLLAMA_KV_CACHE_TYPE") or o.get("kv_cache_type") or "f16").lower()
    if kv_type not in OLLAMA_KV_CACHE_TYPES:
        kv_type = "f16"
    local_only = deployment_target in ("laptop", "workstation")
    if tuned:
        num_ctx = env.get("OLLAMA_CONTEXT_LENGTH") or tuned.get("num_ctx")
        num_parallel = env.get("OLLAMA_NUM_PARALLEL") or tuned.get("num_parallel")
    else:
        num_ctx, num_parallel = o.get("num_ctx"), o.get("num_parallel")
    return OllamaSettings(
        num_ctx=read_int(num_ctx, default=context_length, field="num_ctx"),
        num_parallel=max(1, read_int(num_parallel, default=1, field="num_parallel")),
        # One model per server: a second would evict it and cost a reload (seconds to minutes).
        max_loaded_models=1,
        # Keep the model resident on a shared server; a laptop frees the memory after 30 minutes.
        keep_alive="30m" if local_only else "-1",
        # A quantized KV cache needs flash attention (Ollama FAQ); otherwise on for GPUs.
        flash_attention=kv_type != "f16"
        or flag(env.get("OLLAMA_FLASH_ATTENTION"), default=vendor is not GpuVendor.CPU),
        kv_cache_type=kv_type,
        max_queue=max(OLLAMA_DEFAULT_MAX_QUEUE, peak * 4),
        host=f"127.0.0.1:{OLLAMA_PORT}" if local_only else f"0.0.0.0:{OLLAMA_PORT}",
        fits_in_vram=first_bool(tuned.get("fits_in_vram"), o.get("fits_in_vram")),
        gpu_layers=read_int(o.get("gpu_layers"), default=None, field="gpu_layers"),
        total_layers=read_int(o.get("total_layers"), default=None, field="total_layers"),
        memory_bytes=read_int(
            tuned.get("memory_bytes") or o.get("memory_bytes"), default=None, field="memory_bytes"
        ),
    )


def _model_names(model_id: str, est: Mapping, ans: Mapping) -> tuple[str, str]:
    """(Hugging Face repo id, Ollama tag) for the model: from the estimate, the catalog, or the id."""
    hf_repo = nested(est, "model", "hf_repo")
    tag = nested(est, "model", "ollama_tag")
    if not (hf_repo and tag):
        spec = _catalog_model(model_id)
        if spec is not None:
            hf_repo = hf_repo or spec.hf_repo
            tag = tag or spec.ollama_tag
    hf_repo = str(hf_repo or model_id)
    tag = str(tag or model_id)
    return check_model_name(hf_repo, field="model"), check_model_name(tag, field="model")


def _catalog_model(model_id: str):
    try:
        from advisor.capacity.catalog import resolve_model
    except ImportError:
        return None
    try:
        return resolve_model(model_id)
    except AdvisorError:
        return None  # a custom model: the id itself is used for both servers


def _vendor(gpu_name: str, gpu_count: int, est: Mapping) -> GpuVendor:
    if gpu_count == 0:
        return GpuVendor.CPU
    vendor = nested(est, "gpu", "vendor")
    if not vendor and gpu_name:
        try:
            from advisor.capacity.catalog import resolve_gpu
        except ImportError:
            resolve_gpu = None
        if resolve_gpu is not None:
            try:
                vendor = str(resolve_gpu(gpu_name).vendor)
            except AdvisorError:
                vendor = None
    if not vendor:
        lowered = gpu_name.lower()
        if any(word in lowered for word in ("amd", "instinct", "radeon", "mi2", "mi3")):
            vendor = "amd"
        elif "apple" in lowered or lowered.startswith(("m1", "m2", "m3", "m4")):
            vendor = "apple"
        else:
            vendor = "nvidia"
    try:
        return GpuVendor(str(vendor).lower())
    except ValueError:
        return GpuVendor.NVIDIA


def _reasons(rec: Mapping) -> tuple[Reason, ...]:
    out: list[Reason] = []
    for kind in ("decisive", "supporting", "opposing", "reasons"):
        for item in rec.get(kind) or ():
            if isinstance(item, Mapping):
                message = str(item.get("message") or "").strip()
                if message:
                    label = "supporting" if kind == "reasons" else kind
                    out.append(Reason(str(item.get("rule_id") or ""), message, label))
            elif isinstance(item, str) and item.strip():
                out.append(Reason("", item.strip(), "supporting" if kind == "reasons" else kind))
    return tuple(out)


def _weights_bytes(est: Mapping, backend: Backend) -> int | None:
    """The weights the chosen server downloads: Ollama's GGUF build is smaller than bf16."""
    value = est.get("weights_bytes")
    if backend is Backend.OLLAMA:
        value = nested(est, "ollama", "weights_bytes") or est.get("ollama_weights_bytes") or value
    return read_int(value, default=None, field="weights_bytes")
