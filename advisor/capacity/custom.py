"""Models outside the catalog: from a Hugging Face ``config.json`` or a local GGUF file's header.

``model_from_hf_config(config)`` takes the parsed dict (or a path to the file);
``model_from_gguf(path)`` reads only the GGUF metadata and tensor table with the ``gguf`` package
(no weights are loaded). Both return a ``ModelSpec`` the estimate accepts in place of a name, and
raise ``AdvisorError(field="config" | "gguf")`` for files they cannot use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.capacity.specs import ModelSpec
from advisor.errors import AdvisorError

if TYPE_CHECKING:
    from gguf import GGUFReader

# Hugging Face config keys that name the same thing in different model families.
_EXPERT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts")
_EXPERTS_PER_TOKEN_KEYS = ("num_experts_per_tok", "num_experts_per_token", "moe_topk")
# model_type -> every N-th layer is global, when the config does not list layer types.
_SLIDING_INTERVAL = {"gemma2": 2, "gemma3": 6, "gemma3_text": 6, "gpt_oss": 2}
# torch dtype -> catalog quantization id.
_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "bf16"}
# quantization_config.quant_method -> catalog quantization id.
_QUANT_METHODS = {"awq": "awq-int4", "gptq": "gptq-int4", "fp8": "fp8", "mxfp4": "mxfp4"}
# gguf LlamaFileType values (gguf-py constants.py) -> catalog quantization id.
_GGUF_FILE_TYPES = {
    0: "bf16",
    1: "fp16",
    2: "Q4_0",
    7: "Q8_0",
    15: "Q4_K_M",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "bf16",
}
_MAX_CONFIG_BYTES = 5_000_000
# A GGUF header does not say which tensors are experts; in the MoE models we know (Mixtral,
# Qwen3-MoE, gpt-oss, DeepSeek) the routed experts hold about 95% of the parameters.
_GGUF_EXPERT_SHARE = 0.95


def _require_int(config: Mapping[str, Any], key: str, field: str) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise AdvisorError(
            f"config.json needs a positive integer {key!r} (got {value!r}).", field=field
        )
    return value


def _load_config(source: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise AdvisorError("config.json is too large to be a model config.", field="config")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdvisorError(f"No such file: {path}.", field="config") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdvisorError(f"config.json is not valid JSON ({exc}).", field="config") from None
    if not isinstance(data, dict):
        raise AdvisorError("config.json must hold a JSON object.", field="config")
    return data


def _estimate_params(
    config: Mapping[str, Any],
    layers: int,
    hidden: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    vocab: int,
) -> tuple[float, float]:
    """(total, active) parameters from the shapes: attention + gated MLP (or experts) + embeddings."""
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2
    experts = next((config[key] for key in _EXPERT_KEYS if config.get(key)), 0)
    per_token = next((config[key] for key in _EXPERTS_PER_TOKEN_KEYS if config.get(key)), 0)
    dense_ff = config.get("intermediate_size") or 4 * hidden
    if experts:
        expert_ff = config.get("moe_intermediate_size") or dense_ff
        shared = config.get("n_shared_experts") or 0
        mlp_total = 3 * hidden * expert_ff * (experts + shared)
        mlp_active = 3 * hidden * expert_ff * (max(1, per_token) + shared)
    else:
        mlp_total = mlp_active = 3 * hidden * dense_ff
    embeddings = vocab * hidden * (1 if config.get("tie_word_embeddings") else 2)
    return (
        float(layers * (attention + mlp_total) + embeddings),
        float(layers * (attention + mlp_active) + embeddings),
    )


def model_from_hf_config(
    source: Mapping[str, Any] | str | Path,
    *,
    model_id: str | None = None,
    params_total: float | None = None,
) -> ModelSpec:
    """A ModelSpec from a Hugging Face config.json (dict or path).

    Multimodal configs use their ``text_config``. Parameter counts are estimated from the shapes
    unless ``params_total`` is given (the estimate ignores biases and norms, within a few percent).
    """
    raw = _load_config(source)
    config = {**raw, **raw["text_config"]} if isinstance(raw.get("text_config"), Mapping) else raw
    layers = _require_int(config, "num_hidden_layers", "config")
    hidden = _require_int(config, "hidden_size", "config")
    heads = _require_int(config, "num_attention_heads", "config")
    kv_heads = config.get("num_key_value_heads") or heads
    if not isinstance(kv_heads, int) or kv_heads <= 0 or heads % kv_heads:
        raise AdvisorError(
            f"num_key_value_heads ({kv_heads!r}) must divide num_attention_heads ({heads}).",
            field="config",
        )
    head_dim = config.get("head_dim") or hidden // heads
    vocab = _require_int(config, "vocab_size", "config")
    context = config.get("max_position_embeddings") or config.get("max_sequence_length") or 4096
    model_type = str(config.get("model_type") or "")
    window = config.get("sliding_window") if config.get("use_sliding_window", True) else None
    interval, full_layers = None, None
    layer_types = config.get("layer_types")
    if window and isinstance(layer_types, list) and layer_types:
        full_layers = sum(1 for kind in layer_types if kind == "full_attention")
    elif window:
        interval = config.get("sliding_window_pattern") or _SLIDING_INTERVAL.get(model_type, 1)
    if window and isinstance(window, int) and window >= context:
        window, interval, full_layers = (
            None,
            None,
            None,
        )  # a window as long as the context is no window
    total, active = _estimate_params(config, layers, hidden, heads, kv_heads, head_dim, vocab)
    if params_total:
        active, total = active * params_total / total, float(params_total)
    quant_method = (config.get("quantization_config") or {}).get("quant_method")
    native = _QUANT_METHODS.get(str(quant_method).lower()) or _DTYPES.get(
        str(config.get("torch_dtype") or config.get("dtype") or "bfloat16"), "bf16"
    )
    name = model_id or str(raw.get("_name_or_path") or model_type or "custom-model")
    experts = next((config[key] for key in _EXPERT_KEYS if config.get(key)), None)
    return ModelSpec(
        id=f"custom:{name}",
        name=name,
        family=model_type or "custom",
        hf_repo=name,
        ollama_tag=None,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        vocab_size=vocab,
        params_total=total,
        params_active=active,
        max_context=int(context),
        sliding_window=window or None,
        full_attention_interval=interval,
        full_attention_layers=full_layers,
        kv_lora_rank=config.get("kv_lora_rank"),
        qk_rope_head_dim=config.get("qk_rope_head_dim") if config.get("kv_lora_rank") else None,
        num_experts=experts,
        num_experts_active=next(
            (config[key] for key in _EXPERTS_PER_TOKEN_KEYS if config.get(key)), None
        )
        if experts
        else None,
        native_quantization=native,
        ollama_quantization="Q4_K_M",
        source="config.json",
    )


def _field(reader: GGUFReader, key: str, default: Any = None) -> Any:
    """One metadata value as gguf decodes it (a number, string or list), or ``default``."""
    item = reader.fields.get(key)
    if item is None:
        return default
    try:
        return item.contents()
    except (ValueError, IndexError, UnicodeDecodeError):
        return default


def model_from_gguf(path: str | Path) -> ModelSpec:
    """A ModelSpec from a GGUF file's header: shapes from its metadata, weight bytes from its tensors."""
    from gguf import GGUFReader  # imported here: numpy-backed and only needed for uploads

    file = Path(path)
    if not file.is_file():
        raise AdvisorError(f"No such GGUF file: {file}.", field="gguf")
    try:
        reader = GGUFReader(str(file), "r")
    except Exception as exc:  # gguf raises ValueError, struct errors, numpy errors for bad files
        raise AdvisorError(
            f"Not a readable GGUF file ({type(exc).__name__}: {exc}).", field="gguf"
        ) from None
    arch = _field(reader, "general.architecture")
    if not arch:
        raise AdvisorError("The GGUF header has no general.architecture.", field="gguf")

    def need(key: str) -> int:
        value = _field(reader, f"{arch}.{key}")
        if isinstance(value, list):
            value = max(value) if value else None
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise AdvisorError(
                f"The GGUF header lacks {arch}.{key}; architecture {arch!r} is not supported.",
                field="gguf",
            )
        return value

    layers, hidden, heads = (
        need("block_count"),
        need("embedding_length"),
        need("attention.head_count"),
    )
    kv_heads = _field(reader, f"{arch}.attention.head_count_kv", heads)
    kv_heads = max(kv_heads) if isinstance(kv_heads, list) else kv_heads
    head_dim = _field(reader, f"{arch}.attention.key_length") or hidden // heads
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    vocab = _field(reader, f"{arch}.vocab_size") or (len(tokens.data) if tokens is not None else 0)
    if not vocab:
        raise AdvisorError(
            "The GGUF header has neither a vocab size nor a token list.", field="gguf"
        )
    params = float(sum(int(t.n_elements) for t in reader.tensors))
    weights = int(sum(int(t.n_bytes) for t in reader.tensors))
    if params <= 0:
        raise AdvisorError("The GGUF file lists no tensors.", field="gguf")
    experts = _field(reader, f"{arch}.expert_count") or None
    used = _field(reader, f"{arch}.expert_used_count") or None
    active = (
        params
        if not experts or not used
        else params * (1 - (1 - used / experts) * _GGUF_EXPERT_SHARE)
    )
    file_type = _field(reader, "general.file_type")
    quant = _GGUF_FILE_TYPES.get(file_type, "Q4_K_M")
    window = _field(reader, f"{arch}.attention.sliding_window") or None
    name = _field(reader, "general.name") or file.stem
    return ModelSpec(
        id=f"custom:{file.name}",
        name=str(name),
        family=str(arch),
        hf_repo=str(name),
        ollama_tag=None,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=int(kv_heads),
        head_dim=int(head_dim),
        vocab_size=int(vocab),
        params_total=params,
        params_active=float(active),
        max_context=int(_field(reader, f"{arch}.context_length") or 4096),
        sliding_window=window,
        full_attention_interval=_SLIDING_INTERVAL.get(str(arch), 1) if window else None,
        num_experts=experts,
        num_experts_active=used if experts else None,
        native_quantization=quant,
        native_weights_bytes=weights,
        ollama_quantization=quant,
        source=f"GGUF header of {file.name}",
    )
