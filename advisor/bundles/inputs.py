"""``BundleInput``: the one typed view of a recommendation that every bundle target renders from.

``bundle_input_from(recommendation, estimate, answers)`` reads the three stored JSON dicts (the rules
engine's ``Recommendation.as_dict()``, the capacity model's ``Estimate.as_dict()`` and the answers)
so the renderers never depend on the other areas' internals. They are our own output: a key their
producer always writes is read as ``data["key"]``, so a renamed key fails (a test renames each)
instead of falling back to a default. Defaults apply only where the producer writes nothing: no
estimate at all (a custom model the capacity model could not size). Pure Python; the capacity
catalog maps a model to its Hugging Face repo id and Ollama tag and a GPU to its vendor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from advisor.bundles.names import BUNDLE_NAME_MAX, check_model_name, dns_label
from advisor.bundles.readers import (
    migration_lines,
    nested,
    one_line,
    read_float,
    read_int,
    texts,
)
from advisor.capacity.catalog import resolve_gpu, resolve_model
from advisor.capacity.specs import ModelSpec, Vendor
from advisor.capacity.vllm import DEFAULT_GPU_MEMORY_UTILIZATION
from advisor.errors import AdvisorError
from probes.kinds import Backend

# Defaults when there is no estimate, each the server's own default.
VLLM_DEFAULT_MAX_NUM_SEQS = 256  # vllm engine/arg_utils.py: the default below 70 GiB GPUs
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
class ReasonLine:
    """A reason as the bundle's README quotes it (``rules.verdict.Reason`` is the whole one)."""

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
    data_parallel_size: int = 1
    max_num_batched_tokens: int | None = None  # None: vLLM's default (no estimate to say more)
    requests_held: int | None = None
    request_tokens: int | None = None

    @property
    def gpus(self) -> int:
        """GPUs one ``vllm serve`` takes: tensor-parallel x data-parallel."""
        return self.tensor_parallel_size * self.data_parallel_size


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
    gpu_vendor: Vendor | None  # None: no GPU, the CPU serves
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
    reasons: tuple[ReasonLine, ...] = ()
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
    raw_facts = rec.get("facts")
    facts: Mapping[str, Any] = raw_facts if isinstance(raw_facts, Mapping) else {}
    for key in ("gpu", "gpu_count", "platform"):
        if facts.get(key) is not None:
            ans[key] = facts[key]
    model_id = check_model_name(str(ans["model"]), field="model")
    hf_repo, ollama_tag = _model_names(model_id, est, ans)
    gpu_count = read_int(ans["gpu_count"], default=None, field="gpu_count")
    if gpu_count is None:  # the hardware report decided, and the verdict did not say
        gpu_count = read_int(nested(est, "gpu", "count"), default=1, field="gpu_count")
    gpu_name = one_line(nested(est, "gpu", "name") or ans["gpu"] or "")
    vendor = _vendor(gpu_name, gpu_count, est)

    context_length = read_int(ans["context_length"], field="context_length")
    peak = read_int(ans["peak_concurrent_users"], field="peak_concurrent_users")
    features = frozenset(str(f) for f in ans["features"])
    lora_adapters = read_int(ans["lora_adapters"], field="lora_adapters")
    deployment_target = str(ans["deployment_target"])

    return BundleInput(
        backend=backend_enum,
        name=dns_label(model_id, limit=BUNDLE_NAME_MAX),
        model_id=model_id,
        hf_repo=hf_repo,
        ollama_tag=ollama_tag,
        gpu_vendor=vendor,
        gpu_name=gpu_name,
        gpu_count=gpu_count,
        platform=str(ans["platform"]),
        use_case=str(ans["use_case"]),
        deployment_target=deployment_target,
        peak_concurrent_users=peak,
        context_length=context_length,
        avg_prompt_tokens=read_int(ans["avg_prompt_tokens"], field="avg_prompt_tokens"),
        avg_output_tokens=read_int(ans["avg_output_tokens"], field="avg_output_tokens"),
        features=features,
        lora_adapters=lora_adapters,
        vllm=_vllm_settings(est, ans, gpu_count, context_length, peak, features, lora_adapters),
        ollama=_ollama_settings(est, ans, vendor, context_length, peak, deployment_target),
        weights_bytes=_weights_bytes(est, backend_enum),
        confidence=read_float(rec["confidence"], default=None, field="confidence"),
        confidence_label=str(rec["confidence_label"]),
        reasons=_reasons(rec),
        warnings=texts(rec["warnings"]),
        switch_triggers=texts(rec["switch_triggers"]),
        migration=migration_lines(rec["migration"]),
        slos={
            key: float(ans[key])
            for key in ("slo_ttft_ms", "slo_tpot_ms", "slo_e2e_p95_ms")
            if isinstance(ans.get(key), int | float) and not isinstance(ans.get(key), bool)
        },
        performance=tuple(est.get("performance", ())),
    )


def _vllm_settings(
    est: Mapping[str, Any],
    ans: Mapping[str, Any],
    gpu_count: int,
    context_length: int,
    peak: int,
    features: frozenset[str],
    lora_adapters: int,
) -> VllmSettings:
    multi_lora = "multi_lora" in features or lora_adapters > 0
    max_loras = max(1, min(lora_adapters, 64)) if multi_lora else 1
    if not est:  # no estimate: vLLM's own defaults, sized by the answers
        return VllmSettings(
            tensor_parallel_size=max(gpu_count, 1),
            max_model_len=context_length,
            max_num_seqs=max(VLLM_DEFAULT_MAX_NUM_SEQS, peak),
            gpu_memory_utilization=DEFAULT_GPU_MEMORY_UTILIZATION,
            quantization=_vllm_quantization(str(ans["quantization"]).lower()),
            kv_cache_dtype="auto",
            # Chat traffic repeats system prompts and history; vLLM V1 turns this on by default,
            # we say so explicitly so the file documents it.
            enable_prefix_caching=True,
            enable_lora=multi_lora,
            max_loras=max_loras,
            max_lora_rank=VLLM_DEFAULT_MAX_LORA_RANK,
        )
    plan = est["plan"]["vllm"]  # the serving plan the verdict rests on
    return VllmSettings(
        tensor_parallel_size=read_int(plan["tensor_parallel_size"], field="tensor_parallel_size"),
        data_parallel_size=read_int(plan["data_parallel_size"], field="data_parallel_size"),
        max_model_len=read_int(plan["max_model_len"], field="max_model_len"),
        max_num_seqs=read_int(plan["max_num_seqs"], field="max_num_seqs"),
        max_num_batched_tokens=read_int(
            plan["max_num_batched_tokens"], field="max_num_batched_tokens"
        ),
        gpu_memory_utilization=read_float(
            plan["gpu_memory_utilization"], field="gpu_memory_utilization"
        ),
        quantization=_vllm_quantization(str(plan["quantization"]).lower()),
        kv_cache_dtype=str(plan["kv_cache_dtype"]),
        kv_cache_tokens=read_int(plan["kv_cache_tokens"], field="kv_cache_tokens"),
        max_concurrency=read_float(plan["max_concurrency"], field="max_concurrency"),
        requests_held=read_int(plan["requests_held"]["held"], field="requests_held"),
        request_tokens=read_int(plan["requests_held"]["request_tokens"], field="requests_held"),
        fits=bool(plan["fits"]),
        enable_prefix_caching=True,
        enable_lora=multi_lora,
        max_loras=max_loras,
        max_lora_rank=VLLM_DEFAULT_MAX_LORA_RANK,
    )


def _vllm_quantization(quantization: str) -> str | None:
    """vLLM's --quantization for a weight format (None: vLLM reads it from the checkpoint)."""
    return VLLM_QUANTIZATION_BY_ANSWER.get(quantization)


def _ollama_settings(
    est: Mapping[str, Any],
    ans: Mapping[str, Any],
    vendor: Vendor | None,
    context_length: int,
    peak: int,
    deployment_target: str,
) -> OllamaSettings:
    local_only = deployment_target in ("laptop", "workstation")
    # Keep the model resident on a shared server; a laptop frees the memory after 30 minutes.
    keep_alive = "30m" if local_only else "-1"
    host = f"127.0.0.1:{OLLAMA_PORT}" if local_only else f"0.0.0.0:{OLLAMA_PORT}"
    if not est:  # no estimate: Ollama's defaults, sized by the answers
        return OllamaSettings(
            num_ctx=context_length,
            num_parallel=1,
            max_loaded_models=1,
            keep_alive=keep_alive,
            flash_attention=vendor is not None,
            kv_cache_type="f16",
            max_queue=max(OLLAMA_DEFAULT_MAX_QUEUE, peak * 4),
            host=host,
        )
    plan = est["plan"]["ollama"]  # Ollama as we set it: the serving plan the verdict rests on
    kv_type = str(plan["kv_cache_type"]).lower()
    if kv_type not in OLLAMA_KV_CACHE_TYPES:
        raise AdvisorError(f"Unknown Ollama KV cache type {kv_type!r}.", field="kv_cache_type")
    return OllamaSettings(
        num_ctx=read_int(plan["num_ctx"], field="num_ctx"),
        num_parallel=read_int(plan["num_parallel"], field="num_parallel"),
        # One model per server: a second would evict it and cost a reload (seconds to minutes).
        max_loaded_models=1,
        keep_alive=keep_alive,
        flash_attention=bool(plan["flash_attention"]),
        kv_cache_type=kv_type,
        max_queue=read_int(plan["max_queue"], field="max_queue"),
        host=host,
        fits_in_vram=bool(plan["fits_in_vram"]),
        gpu_layers=read_int(plan["gpu_layers"], field="gpu_layers"),
        total_layers=read_int(plan["total_layers"], field="total_layers"),
        memory_bytes=read_int(plan["memory_bytes"], field="memory_bytes"),
    )


def _model_names(model_id: str, est: Mapping[str, Any], ans: Mapping[str, Any]) -> tuple[str, str]:
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


def _catalog_model(model_id: str) -> ModelSpec | None:
    try:
        return resolve_model(model_id)
    except AdvisorError:
        return None  # a custom model: the id itself is used for both servers


def _vendor(gpu_name: str, gpu_count: int, est: Mapping[str, Any]) -> Vendor | None:
    """The GPUs' vendor; None when no GPU serves (``gpu_count`` 0)."""
    if gpu_count == 0:
        return None
    vendor = nested(est, "gpu", "vendor")
    if not vendor and gpu_name:
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
        return Vendor(str(vendor).lower())
    except ValueError:
        return Vendor.NVIDIA


def _reasons(rec: Mapping[str, Any]) -> tuple[ReasonLine, ...]:
    return tuple(
        ReasonLine(item["rule_id"], str(item["message"]).strip(), kind)
        for kind in ("decisive", "supporting", "opposing")
        for item in rec[kind]
    )


def _weights_bytes(est: Mapping[str, Any], backend: Backend) -> int | None:
    """The weights the chosen server downloads: Ollama's GGUF build is smaller than bf16."""
    if not est:
        return None
    value = est["ollama_weights_bytes"] if backend is Backend.OLLAMA else est["weights_bytes"]
    return read_int(value, default=None, field="weights_bytes")
