"""The catalogs load, carry a source for every entry, and the resolver finds what drivers print."""

import pytest

from advisor.capacity import kv
from advisor.capacity.catalog import (
    find_gpu,
    list_gpus,
    list_models,
    list_quantizations,
    resolve_gpu,
    resolve_kv_dtype,
    resolve_model,
    resolve_quantization,
)
from advisor.capacity.specs import GIB, QuantKind, Vendor
from advisor.errors import AdvisorError


def test_it_has_at_least_30_models_and_20_gpus_each_with_a_source():
    models, gpus = list_models(), list_gpus()
    assert len(models) >= 30
    assert len(gpus) >= 20
    assert all(model.source for model in models)
    assert all(gpu.source for gpu in gpus)
    assert all(q.source for q in list_quantizations())


def test_it_has_unique_ids_hf_repos_and_ollama_tags():
    models = list_models()
    for attribute in ("id", "hf_repo", "ollama_tag"):
        # A model Ollama's library lacks (GLM-4.5) has no tag: None is not a duplicate.
        values = [getattr(model, attribute) for model in models if getattr(model, attribute)]
        assert len(values) == len(set(values)), attribute


def test_it_covers_every_vendor_and_both_gpu_classes():
    gpus = list_gpus()
    assert {gpu.vendor for gpu in gpus} == {Vendor.NVIDIA, Vendor.AMD, Vendor.APPLE}
    assert any(gpu.datacenter for gpu in gpus if gpu.vendor is Vendor.AMD)
    assert any(not gpu.datacenter for gpu in gpus if gpu.vendor is Vendor.AMD)
    assert any(not gpu.datacenter for gpu in gpus if gpu.vendor is Vendor.NVIDIA)
    assert all(gpu.unified_memory for gpu in gpus if gpu.vendor is Vendor.APPLE)


def test_it_keeps_model_shapes_consistent():
    for model in list_models():
        assert model.num_attention_heads % model.num_kv_heads == 0, model.id
        assert model.params_active <= model.params_total, model.id
        assert (model.num_experts is None) == (model.num_experts_active is None), model.id
        if model.sliding_window:
            assert model.num_full_layers >= 0 and model.num_sliding_layers > 0, model.id


@pytest.mark.parametrize(
    ("driver_name", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", "h100-sxm-80gb"),
        ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ("AMD Instinct MI300X", "mi300x"),
        ("Apple M3 Max", "apple-m3-max"),
        ("NVIDIA A100-SXM4-80GB", "a100-sxm-80gb"),
        ("NVIDIA L4", "l4"),
        ("Tesla T4", "t4"),
        ("nvidia geforce rtx 4090", "rtx-4090"),
        ("RTX 4090", "rtx-4090"),
        ("h100", "h100-sxm-80gb"),
    ],
)
def test_it_resolves_driver_reported_gpu_names(driver_name, expected):
    assert resolve_gpu(driver_name).id == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llama-3.1-8b", "llama-3.1-8b"),
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("llama3.1:8b", "llama-3.1-8b"),
        ("LLAMA3.1:8B", "llama-3.1-8b"),
        ("gemma3:270m", "gemma-3-270m"),
        ("google/gemma-3-270m", "gemma-3-270m"),
        ("qwen3:30b", "qwen3-30b-a3b"),
        ("gpt-oss:20b", "gpt-oss-20b"),
    ],
)
def test_it_resolves_ids_hf_repos_and_ollama_tags(name, expected):
    assert resolve_model(name).id == expected


def test_it_matches_quantization_names_case_insensitively():
    assert resolve_quantization("q4_k_m").id == "Q4_K_M"
    assert resolve_quantization("Q4_K_M").id == "Q4_K_M"
    assert resolve_quantization("AWQ").id == "awq-int4"
    assert resolve_quantization("fp8").kind is QuantKind.WEIGHTS


def test_it_resolves_kv_cache_dtypes_separately_from_weight_formats():
    assert resolve_kv_dtype("fp8").id == "kv-fp8"
    assert resolve_kv_dtype("q8_0").id == "kv-q8_0"
    assert resolve_kv_dtype("auto").bytes_per_weight == 2


def test_it_lists_close_matches_for_an_unknown_model():
    with pytest.raises(AdvisorError) as error:
        resolve_model("llama3.1:9b")
    assert error.value.field == "model"
    assert "llama-3.1-8b" in error.value.message


def test_it_lists_close_matches_for_an_unknown_gpu():
    with pytest.raises(AdvisorError) as error:
        resolve_gpu("H101")
    assert error.value.field == "gpu"
    assert "h100-sxm-80gb" in error.value.message


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_it_rejects_empty_or_non_text_names(bad):
    with pytest.raises(AdvisorError) as error:
        resolve_quantization(bad)
    assert error.value.field == "quantization"


def test_it_reports_driver_visible_memory_and_the_metal_share_on_apple():
    h100 = resolve_gpu("NVIDIA H100 80GB HBM3")
    assert h100.memory_bytes == 81559 * 1024**2  # nvidia-smi memory.total on an H100 SXM
    mac = resolve_gpu("Apple M3 Max")
    assert mac.usable_memory_bytes == int(128 * GIB * 0.75)
    assert mac.with_memory(64 * GIB).usable_memory_bytes == 48 * GIB


def test_it_finds_a_gpu_or_answers_none():
    assert find_gpu("NVIDIA A10G").id == "a10g"
    assert find_gpu("NVIDIA GeForce RTX 9999") is None


def test_it_resolves_an_apple_chip_in_each_memory_size_it_ships_with():
    """An M3 Max with 64 GB is not the 128 GB one; a size Apple never sold is refused."""
    mac = resolve_gpu("Apple M3 Max 64GB")
    assert mac.id == "apple-m3-max-64gb" and mac.memory_bytes == 64 * GIB
    assert resolve_gpu("apple-m3-max-128gb").memory_bytes == 128 * GIB
    with pytest.raises(AdvisorError) as error:
        resolve_gpu("apple-m3-max-32gb")
    assert error.value.field == "gpu" and "ships with" in error.value.message


@pytest.mark.parametrize(
    "name",
    [
        "rtx-3090-ti",
        "rtx-4070",
        "rtx-4070-ti-super",
        "rtx-5070-ti",
        "rtx-5080",
        "a40",
        "h20",
        "l20",
        "NVIDIA GB10",
        "mi355x",
        "r9700",
        "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
    ],
)
def test_it_knows_the_gpus_users_ask_about(name):
    assert resolve_gpu(name).bandwidth_gbps > 0


@pytest.mark.parametrize(
    "name",
    [
        "llama-2-7b",
        "llama-4-scout",
        "llama-4-maverick",
        "qwen3-235b-a22b-2507",
        "qwen3-coder-30b-a3b",
        "qwen2.5-vl-7b",
        "qwen3-vl-8b",
        "mistral-small-3.2-24b",
        "deepseek-v2-lite",
        "glm-4.5",
        "glm-4.6",
    ],
)
def test_it_knows_the_models_users_ask_about(name):
    assert resolve_model(name).source.startswith("https://huggingface.co/")


@pytest.mark.parametrize(
    "name", ["granite-4.0-micro", "ibm-granite/granite-4.0-micro", "granite4:micro", "granite4:3b"]
)
def test_it_sizes_granite_4_micro_kv_from_its_config(name):
    # config.json: 40 layer_types, all "attention" (vLLM runs it as a plain attention model),
    # 8 KV heads of 2560 / 40 = 64 dims. BF16: 2 (K and V) x 8 x 64 x 2 bytes x 40 layers.
    model = resolve_model(name)
    assert model.id == "granite-4.0-micro"
    assert (model.num_full_layers, model.num_sliding_layers) == (40, 0)
    assert kv.kv_bytes_per_token(model, 2) == 2 * 8 * 64 * 2 * 40 == 81_920
    assert kv.kv_bytes_for_context(model, 2, 131_072) == 81_920 * 131_072


@pytest.mark.parametrize(
    "name", ["granite-4.0-h-micro", "granite-4.0-h-tiny", "granite-4.0-h-small", "gemma-4-31b"]
)
def test_it_does_not_guess_models_whose_cache_it_cannot_size(name):
    # Granite 4.0-H keeps a Mamba-2 state per sequence; Gemma 4's global layers use another head
    # size and KV-head count than its sliding ones. Neither fits ModelSpec, so neither resolves.
    with pytest.raises(AdvisorError):
        resolve_model(name)
