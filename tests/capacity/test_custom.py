"""Custom models from a Hugging Face config.json or a GGUF header."""

import json

import gguf
import numpy as np
import pytest

from advisor.capacity import kv
from advisor.capacity.catalog import resolve_model
from advisor.capacity.custom import model_from_gguf, model_from_hf_config
from advisor.capacity.estimate import EstimateRequest, estimate
from advisor.errors import AdvisorError

# Llama-3.1-8B-Instruct config.json (the keys that matter), as published on Hugging Face.
LLAMA_8B_CONFIG = {
    "_name_or_path": "meta-llama/Llama-3.1-8B-Instruct",
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}


def test_it_reads_a_hf_config_into_the_same_shape_as_the_catalog():
    model = model_from_hf_config(LLAMA_8B_CONFIG)
    catalog = resolve_model("llama-3.1-8b")
    for name in (
        "num_layers",
        "hidden_size",
        "num_attention_heads",
        "num_kv_heads",
        "head_dim",
        "vocab_size",
        "max_context",
    ):
        assert getattr(model, name) == getattr(catalog, name), name
    assert kv.kv_bytes_per_token(model, 2) == 128 * 1024
    # Estimated from the shapes: within 1% of the published 8.03B.
    assert model.params_total == pytest.approx(8.03e9, rel=0.01)
    assert model.native_quantization == "bf16" and model.id.startswith("custom:")


def test_it_reads_a_multimodal_text_config_with_layer_types(tmp_path):
    config = {
        "model_type": "gemma3",
        "text_config": {
            "model_type": "gemma3_text",
            "hidden_size": 640,
            "num_hidden_layers": 6,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,
            "head_dim": 256,
            "vocab_size": 262144,
            "max_position_embeddings": 32768,
            "sliding_window": 512,
            "layer_types": ["sliding_attention"] * 5 + ["full_attention"],
        },
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    model = model_from_hf_config(path)
    assert (model.num_full_layers, model.num_sliding_layers, model.sliding_window) == (1, 5, 512)


def test_it_reads_moe_and_mla_configs():
    config = {
        "model_type": "deepseek_v3",
        "hidden_size": 7168,
        "num_hidden_layers": 61,
        "num_attention_heads": 128,
        "num_key_value_heads": 128,
        "vocab_size": 129280,
        "kv_lora_rank": 512,
        "qk_rope_head_dim": 64,
        "n_routed_experts": 256,
        "num_experts_per_tok": 8,
        "moe_intermediate_size": 2048,
        "n_shared_experts": 1,
        "max_position_embeddings": 163840,
        "quantization_config": {"quant_method": "fp8"},
    }
    model = model_from_hf_config(config, params_total=671e9)
    assert model.uses_mla and model.num_experts == 256 and model.num_experts_active == 8
    assert model.params_total == 671e9 and model.params_active < 0.1 * model.params_total
    assert model.native_quantization == "fp8"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"num_hidden_layers": "many", "hidden_size": 1},
        {**LLAMA_8B_CONFIG, "num_key_value_heads": 5},
    ],
)
def test_it_rejects_configs_it_cannot_use(config):
    with pytest.raises(AdvisorError) as error:
        model_from_hf_config(config)
    assert error.value.field == "config"


def test_it_rejects_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(AdvisorError, match="not valid JSON"):
        model_from_hf_config(path)
    with pytest.raises(AdvisorError, match="No such file"):
        model_from_hf_config(tmp_path / "missing.json")


def _write_gguf(
    path, *, arch="llama", layers=2, hidden=64, heads=4, kv_heads=2, vocab=32, with_heads=True
):
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("tiny-test")
    writer.add_block_count(layers)
    writer.add_embedding_length(hidden)
    if with_heads:
        writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_context_length(2048)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_token_list([f"t{i}" for i in range(vocab)])
    writer.add_tensor("token_embd.weight", np.zeros((vocab, hidden), dtype=np.float16))
    for layer in range(layers):
        writer.add_tensor(
            f"blk.{layer}.attn_q.weight", np.zeros((hidden, hidden), dtype=np.float16)
        )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_it_reads_a_gguf_header(tmp_path):
    path = tmp_path / "tiny.gguf"
    _write_gguf(path)
    model = model_from_gguf(path)
    assert (model.num_layers, model.hidden_size, model.num_attention_heads, model.num_kv_heads) == (
        2,
        64,
        4,
        2,
    )
    assert (model.head_dim, model.vocab_size, model.max_context) == (16, 32, 2048)
    assert model.params_total == 32 * 64 + 2 * 64 * 64
    assert model.native_weights_bytes == 2 * model.params_total  # F16 tensors
    assert model.native_quantization == "fp16"
    result = estimate(EstimateRequest(model=model, gpu="rtx-4090", gpu_count=1, concurrency=(1,)))
    assert result.weights_bytes == model.native_weights_bytes
    assert kv.kv_bytes_per_token(model, 2) == 2 * 2 * 16 * 2 * 2


def test_it_rejects_a_file_that_is_not_gguf(tmp_path):
    path = tmp_path / "random.gguf"
    path.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(AdvisorError) as error:
        model_from_gguf(path)
    assert error.value.field == "gguf"
    with pytest.raises(AdvisorError, match="No such GGUF"):
        model_from_gguf(tmp_path / "missing.gguf")


def test_it_rejects_a_gguf_without_the_shapes_it_needs(tmp_path):
    path = tmp_path / "headless.gguf"
    _write_gguf(path, with_heads=False)
    with pytest.raises(AdvisorError, match="attention.head_count"):
        model_from_gguf(path)
