"""Ollama's memory fit, CPU spill, defaults and the settings to use instead."""

import pytest

from advisor.capacity import kv, ollama
from advisor.capacity.catalog import (
    list_models,
    resolve_gpu,
    resolve_model,
    resolve_quantization,
)
from advisor.capacity.specs import GIB, MIB


def _fit(model_id="llama-3.1-8b", quant="Q4_K_M", gpu="rtx-4090", count=1, **kwargs):
    model = resolve_model(model_id)
    weights = kv.weights_bytes(model, resolve_quantization(quant))
    vram = resolve_gpu(gpu).usable_memory_bytes
    kwargs.setdefault("num_ctx", 4096)
    return ollama.ollama_fit(
        model, weights_bytes=weights, vram_bytes=vram, gpu_count=count, **kwargs
    )


@pytest.mark.parametrize(
    ("vram_gib", "expected"),
    [(16, 4096), (23.9, 4096), (24, 32768), (47.9, 32768), (48, 131072), (80, 131072)],
)
def test_it_tiers_the_default_context_by_vram_and_caps_it_at_the_model(vram_gib, expected):
    """Under 24 GiB 4k, 24-48 GiB 32k, 48 GiB+ 256k, never above Llama 3.1's 131,072."""
    assert ollama.default_num_ctx(int(vram_gib * GIB), resolve_model("llama-3.1-8b")) == expected


def test_it_reserves_a_full_context_per_parallel_slot():
    """KV = num_ctx x num_parallel x 128 KiB for Llama-3.1-8B in f16."""
    one = _fit(num_ctx=8192, num_parallel=1)
    four = _fit(num_ctx=8192, num_parallel=4)
    assert one.kv_cache_bytes == 8192 * 128 * 1024
    assert four.kv_cache_bytes == 4 * one.kv_cache_bytes


def test_it_uses_ollamas_llama_graph_estimate():
    """fs/ggml GraphSize, llama: max(4b(1+4e+c(1+h)), 4b(e+v)) with b=512, e=4096, h=32, v=128256."""
    model = resolve_model("llama-3.1-8b")
    context = 4096
    expected = max(4 * 512 * (1 + 4 * 4096 + context * 33), 4 * 512 * (4096 + 128256))
    assert ollama.graph_bytes(model, context, flash_attention=False) == expected
    assert ollama.graph_bytes(model, context, flash_attention=True) == 4 * 512 * (4096 + 128256)


def test_it_fits_a_q4_8b_model_on_a_24gb_card():
    fit = _fit()
    assert fit.fits_in_vram
    assert fit.gpu_layers == fit.total_layers == 33
    assert fit.reserve_bytes == 457 * MIB
    embedding = ollama.input_embedding_bytes(resolve_model("llama-3.1-8b"), fit.weights_bytes)
    assert embedding == int(128256 * 4096 * fit.weights_bytes / 8.03e9)
    # llama-server's GPU buffers: the token embedding stays in host memory.
    assert fit.memory_bytes == fit.weights_bytes - embedding + fit.kv_cache_bytes + fit.graph_bytes


@pytest.mark.parametrize(
    ("release", "estimated"),
    [(None, False), ("0.3.13", True), ("0.12.10", True), ("0.12.11", False), ("v0.30.8", False)],
)
def test_it_knows_which_releases_report_memory_gos_estimate(release, estimated):
    """llm/memory.go sized models up to 0.12.10; 0.12.11 removed it."""
    assert ollama.sized_by_estimate(release) is estimated


def test_it_rejects_a_release_without_a_version_number():
    with pytest.raises(ValueError, match="no version number"):
        ollama.sized_by_estimate("latest")


def test_it_adds_the_reserve_and_one_buffer_layer_in_estimating_releases():
    """memory.go's size: + 457 MiB per GPU + blk.0 (weights + KV); its llama graph ignores flash
    attention."""
    current = _fit(num_ctx=8192, flash_attention=True)
    old = _fit(num_ctx=8192, flash_attention=True, release="0.5.7")
    model = resolve_model("llama-3.1-8b")
    graph = ollama.graph_bytes(model, 8192, flash_attention=False)
    output = int(128256 * 4096 * old.weights_bytes / 8.03e9)
    embedding = ollama.input_embedding_bytes(model, old.weights_bytes)
    layer = int((old.weights_bytes - embedding - output + old.kv_cache_bytes) / 32)
    assert old.graph_bytes == graph > current.graph_bytes
    assert old.memory_bytes == (
        old.weights_bytes - embedding + old.kv_cache_bytes + graph + 457 * MIB + layer
    )


def test_it_uses_the_partial_offload_graph_when_an_estimating_release_spills():
    """GraphSize's llama partial-offload graph is larger than the full one at 2k context."""
    model = resolve_model("llama-3.1-70b")
    fit = _fit("llama-3.1-70b", num_ctx=2048, release="0.3.13")
    assert not fit.fits_in_vram
    assert fit.graph_bytes == ollama.partial_graph_bytes(model, 2048)
    assert fit.graph_bytes > ollama.graph_bytes(model, 2048, flash_attention=False)


def test_it_spills_layers_to_the_cpu_when_vram_runs_out():
    """Llama 3.1 70B Q4_K_M (~40 GiB) on one 24 GB card: part of the 80 layers stay on the GPU."""
    fit = _fit("llama-3.1-70b")
    assert not fit.fits_in_vram
    assert 0 < fit.gpu_layers < 80
    assert fit.total_layers == 81
    assert fit.vram_used_bytes <= fit.vram_bytes
    assert "layers on the GPU" in fit.notes[0]


def test_it_spreads_layers_over_several_gpus():
    assert _fit("llama-3.1-70b", count=2).fits_in_vram


def test_it_runs_everything_on_the_cpu_without_a_gpu():
    fit = _fit(count=0)
    assert not fit.fits_in_vram and fit.gpu_layers == 0
    assert "CPU" in fit.notes[0]


def test_it_ignores_a_quantized_kv_cache_without_flash_attention():
    fit = _fit(kv_cache_type="q8_0", kv_dtype_bytes=34 / 32, flash_attention=False)
    assert fit.kv_cache_type == "f16"
    assert fit.kv_cache_bytes == 4096 * 128 * 1024
    assert "OLLAMA_FLASH_ATTENTION=1" in fit.notes[0]


def _tuned(model_id="llama-3.1-8b", *, gpu="rtx-4090", num_ctx=2048, target=8):
    model = resolve_model(model_id)
    return ollama.tuned_fit(
        model,
        weights_bytes=kv.weights_bytes(model, resolve_quantization("Q4_K_M")),
        vram_bytes=resolve_gpu(gpu).usable_memory_bytes if gpu else 0,
        gpu_count=1 if gpu else 0,
        num_ctx=num_ctx,
        target_parallel=target,
    )


def test_it_sets_the_slots_asked_for_when_they_fit_with_flash_attention_on_a_gpu():
    fit = _tuned(target=8)
    assert (fit.num_parallel, fit.num_ctx, fit.kv_cache_type) == (8, 2048, "f16")
    assert fit.fits_in_vram and fit.flash_attention


def test_it_sizes_the_context_to_hold_one_request_and_never_below_the_users():
    """Ollama truncates prompts past num_ctx: the context length the user asked for is the floor."""
    model = resolve_model("llama-3.1-8b")
    assert ollama.recommended_context(1000, 500, model) == 2048
    assert ollama.recommended_context(1000, 500, model, required_context=8192) == 8192


def test_it_turns_on_a_q8_cache_when_f16_cannot_hold_the_slots():
    f16_only = _tuned(num_ctx=16384, target=16)
    assert f16_only.kv_cache_type == "q8_0" and f16_only.flash_attention
    assert 1 <= f16_only.num_parallel <= 16 and f16_only.fits_in_vram


def test_it_keeps_cpu_only_settings_to_a_few_slots():
    fit = _tuned("llama-3.2-3b", gpu=None, target=32)
    assert fit.num_parallel == ollama.CPU_MAX_USEFUL_PARALLEL
    assert not fit.flash_attention


@pytest.mark.parametrize("target", [1, 2, 7, 64, 257])
@pytest.mark.parametrize("flash", [False, True])
def test_it_finds_the_same_slot_count_as_counting_down_from_the_target(target, flash):
    """The binary search in ``most_slots_that_fit`` equals the count-down it replaced, for every
    catalog model on a small, a mid-size and a large GPU."""
    kv_type, kv_bytes = ("q8_0", 8.5 / 8) if flash else ("f16", 2.0)
    for model in list_models():
        weights = kv.weights_bytes(model, resolve_quantization(model.ollama_quantization))
        for gpu in ("rtx-3060", "rtx-4090", "h100"):

            def fit_at(n, model=model, weights=weights, gpu=gpu):
                vram = resolve_gpu(gpu).usable_memory_bytes
                return ollama.ollama_fit(
                    model, weights_bytes=weights, vram_bytes=vram, gpu_count=1, num_ctx=4096,
                    num_parallel=n, kv_cache_type=kv_type, kv_dtype_bytes=kv_bytes,
                    flash_attention=flash,
                )  # fmt: skip

            counted = next(
                (fit_at(n) for n in range(target, 0, -1) if fit_at(n).fits_in_vram), None
            )
            assert ollama.most_slots_that_fit(fit_at, target) == counted, (model.id, gpu)
