"""Ollama's memory fit: weights + num_ctx x num_parallel KV + compute graph + reserve vs VRAM.

What ``/api/ps`` reports as ``size`` (and ``ollama ps`` prints) depends on the release:

- Up to 0.12.10 Ollama *estimated* it before loading (``llm/memory.go`` ``estimateGPULayers``; the
  log line ``msg=offload ... memory.required.full``): the 457 MiB minimum memory of each GPU used,
  one extra layer (``blk.0`` weights + its KV) as a buffer, every repeating layer's weights and KV,
  the output layer (``output`` + ``output_norm``; ``token_embd`` only when the output is tied to
  it) and the compute graph of ``fs/ggml/ggml.go`` ``GraphSize`` (full offload, or the larger
  partial-offload graph when layers spill to the CPU). The token embedding of an untied model is
  left out.
- 0.12.11 removed ``llm/memory.go``; since 0.30 Ollama runs upstream ``llama-server`` and ``size``
  is the sum of the buffers it logs (``llm/llama_server.go`` ``MemorySize``: model, KV and compute
  buffers; on a full offload only the GPU ones, the token embedding staying in host memory). The
  minimum memory is still held back when fitting (``server/sched.go``), but is not part of ``size``.

The compute graph is ``GraphSize``'s llama formula for every architecture (it matches llama.cpp's
logged compute buffer for Llama models: 560 MiB at 8k context, 258.5 MiB with flash attention).
Defaults from ``envconfig/config.go``: OLLAMA_NUM_PARALLEL 1, OLLAMA_CONTEXT_LENGTH tiered by VRAM,
OLLAMA_KV_CACHE_TYPE f16, which q8_0/q4_0 replace only with flash attention. Ollama spreads layers
over several GPUs (no tensor parallelism) and keeps what does not fit in system RAM, running those
layers on the CPU.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any

from advisor.capacity import kv
from advisor.capacity.specs import GIB, MIB, ModelSpec

# Minimum memory Ollama leaves free on each GPU (ml/device.go DeviceInfo.MinimumMemory: 457 MiB;
# 512 MiB on Metal).
MINIMUM_RESERVE_BYTES = 457 * MIB
# The last release that sized models with llm/memory.go's estimate (0.12.11 removed the file).
LAST_ESTIMATE_RELEASE = (0, 12, 10)
# llama.cpp's default logical batch (num_batch) that the graph estimate scales with.
NUM_BATCH = 512
# OLLAMA_MAX_QUEUE default: past it Ollama answers HTTP 503 "server busy" (envconfig/config.go).
MAX_QUEUE = 512
# OLLAMA_NUM_PARALLEL default since mid-2025 (envconfig/config.go; earlier 4-or-1, then 2).
DEFAULT_NUM_PARALLEL = 1
# Default context by total VRAM (OLLAMA_CONTEXT_LENGTH unset; REFERENCE.md, Ollama 2026 releases):
# under 24 GiB -> 4k, 24-48 GiB -> 32k, 48 GiB and up -> 256k; never above the model's own.
CONTEXT_TIERS = ((24 * GIB, 4096), (48 * GIB, 32768))
CONTEXT_TOP_TIER = 262144
# Context granularity we recommend (llama.cpp pads the KV cache to multiples of 256 anyway).
CONTEXT_STEP = 1024
MIN_RECOMMENDED_CONTEXT = 2048
# The most slots we set (OLLAMA_NUM_PARALLEL): each reserves a full num_ctx of KV memory, and
# llama.cpp's batch gains flatten past a handful of sequences (the article's "a handful of users").
ADVISED_MAX_PARALLEL = 4
# Ollama's KV element sizes (ggml block layouts: q8_0 34 B / 32, q4_0 18 B / 32).
KV_BYTES = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
# CPU-only: more slots than this only divide the same memory bandwidth (llama.cpp batches slots,
# but on a CPU a decode step is already bandwidth-bound at batch 1).
CPU_MAX_USEFUL_PARALLEL = 4


def default_num_ctx(total_vram_bytes: int, model: ModelSpec) -> int:
    """Ollama's default context for this much VRAM, capped at the model's trained context."""
    tier = CONTEXT_TOP_TIER
    for limit, context in CONTEXT_TIERS:
        if total_vram_bytes < limit:
            tier = context
            break
    return min(tier, model.max_context)


def graph_bytes(model: ModelSpec, context: int, flash_attention: bool) -> int:
    """Compute-graph buffer on a full offload: Ollama's llama estimate, max(4b(1+4e+c(1+h)), 4b(e+v)).

    With flash attention llama.cpp never materialises the b x c x heads score matrix, so the
    context term drops out.
    """
    batch, embedding, vocab = NUM_BATCH, model.hidden_size, model.vocab_size
    attention = 0 if flash_attention else context * (1 + model.num_attention_heads)
    return max(4 * batch * (1 + 4 * embedding + attention), 4 * batch * (embedding + vocab))


def partial_graph_bytes(model: ModelSpec, context: int) -> int:
    """Compute graph when layers spill to the CPU, as ``GraphSize`` estimates it for llama
    (fs/ggml/ggml.go): 4be + max(4b(1+e+max(c,e)) + e^2 9/16 + 4c(bh + d kv), 4b(e+v) + e v 105/128)
    with d the head dimension and kv the KV heads."""
    batch, embedding, vocab = NUM_BATCH, model.hidden_size, model.vocab_size
    heads, head_dim, kv_heads = model.num_attention_heads, model.head_dim, model.num_kv_heads
    return 4 * batch * embedding + max(
        4 * batch * (1 + embedding + max(context, embedding))
        + embedding * embedding * 9 // 16
        + 4 * context * (batch * heads + head_dim * kv_heads),
        4 * batch * (embedding + vocab) + embedding * vocab * 105 // 128,
    )


def sized_by_estimate(release: str | None) -> bool:
    """Whether ``release`` reports ``llm/memory.go``'s estimate as its size (0.12.10 and older).

    None is the current release. Raises ValueError for a release without a version number.
    """
    if not release:
        return False
    numbers = re.findall(r"\d+", release)
    if not numbers:
        raise ValueError(f"Ollama release {release!r} has no version number.")
    return tuple(int(n) for n in numbers[:3]) <= LAST_ESTIMATE_RELEASE


def input_embedding_bytes(model: ModelSpec, weights_bytes: int) -> int:
    """The token embedding (``token_embd``) of an untied model, which neither the estimate nor
    llama-server's GPU buffers count: llama.cpp keeps the input layer in host memory. A tied
    model's embedding is also its output layer, counted on the GPU."""
    if model.tie_word_embeddings:
        return 0
    return int(model.vocab_size * model.hidden_size * weights_bytes / model.params_total)


def kv_cache_bytes(model: ModelSpec, kv_dtype_bytes: float, num_ctx: int, num_parallel: int) -> int:
    """Each parallel slot reserves a full ``num_ctx`` context (sliding layers keep their window)."""
    return kv.kv_bytes_for_context(model, kv_dtype_bytes, num_ctx) * max(1, num_parallel)


@dataclass(frozen=True)
class OllamaFit:
    """What Ollama would load for one configuration, and where."""

    fits_in_vram: bool
    num_ctx: int
    num_parallel: int
    kv_cache_type: str
    flash_attention: bool
    gpu_layers: int
    total_layers: int
    weights_bytes: int
    kv_cache_bytes: int
    graph_bytes: int
    reserve_bytes: int
    memory_bytes: int
    vram_bytes: int
    vram_used_bytes: int
    notes: tuple[str, ...] = field(default=())

    @property
    def gpu_fraction(self) -> float:
        return self.gpu_layers / self.total_layers if self.total_layers else 0.0

    def as_dict(self) -> dict[str, Any]:
        # Every field is a number, string or bool (notes aside): no deep copy needed.
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data["notes"] = list(self.notes)
        return data


def ollama_fit(
    model: ModelSpec,
    *,
    weights_bytes: int,
    vram_bytes: int,
    gpu_count: int,
    num_ctx: int,
    num_parallel: int = DEFAULT_NUM_PARALLEL,
    kv_cache_type: str = "f16",
    kv_dtype_bytes: float = 2.0,
    flash_attention: bool = False,
    release: str | None = None,
) -> OllamaFit:
    """Ollama's fit for ``model`` on ``gpu_count`` GPUs of ``vram_bytes`` each (0 GPUs: CPU only).

    ``memory_bytes`` is the ``size`` ``release`` reports (the current one when None; see the
    module docstring for how 0.12.10 and older estimated it). ``total_layers`` counts the output
    layer as Ollama's "offloaded N/M layers" log does. When the whole model does not fit, the
    repeating layers that fit stay on the GPU and the rest (and the output layer) run from system
    RAM on the CPU. Raises ValueError for a release without a version number.
    """
    notes: list[str] = []
    if kv_cache_type != "f16" and not flash_attention:
        notes.append(
            f"OLLAMA_KV_CACHE_TYPE={kv_cache_type} is ignored without OLLAMA_FLASH_ATTENTION=1; "
            "the cache stays f16."
        )
        kv_cache_type, kv_dtype_bytes = "f16", 2.0
    estimated = sized_by_estimate(release)
    context = num_ctx * max(1, num_parallel)
    cache = kv_cache_bytes(model, kv_dtype_bytes, num_ctx, num_parallel)
    # memory.go's llama graph ignores flash attention; llama.cpp's real buffer does not.
    graph = graph_bytes(model, context, flash_attention and not estimated)
    total_layers = model.num_layers + 1
    offloaded_weights = weights_bytes - input_embedding_bytes(model, weights_bytes)
    if gpu_count <= 0:
        notes.append("No GPU: llama.cpp runs every layer on the CPU from system RAM.")
        return OllamaFit(
            fits_in_vram=False,
            num_ctx=num_ctx,
            num_parallel=num_parallel,
            kv_cache_type=kv_cache_type,
            flash_attention=flash_attention,
            gpu_layers=0,
            total_layers=total_layers,
            weights_bytes=weights_bytes,
            kv_cache_bytes=cache,
            graph_bytes=graph,
            reserve_bytes=0,
            memory_bytes=weights_bytes + cache + graph,
            vram_bytes=0,
            vram_used_bytes=0,
            notes=tuple(notes),
        )
    total_vram = vram_bytes * gpu_count
    reserve = MINIMUM_RESERVE_BYTES * gpu_count
    output_layer = int(model.vocab_size * model.hidden_size * weights_bytes / model.params_total)
    per_layer = (max(0, offloaded_weights - output_layer) + cache) / model.num_layers
    # memory.go adds one layer (blk.0 weights + KV) per GPU as a buffer and counts the reserve.
    buffer = int(per_layer) * gpu_count if estimated else 0
    needed = offloaded_weights + cache + graph + reserve + buffer
    fits = needed <= total_vram
    if fits:
        gpu_layers, used = total_layers, needed - reserve - buffer
        memory = needed if estimated else offloaded_weights + cache + graph
    else:
        if estimated:
            graph = max(graph, partial_graph_bytes(model, context))
        room = total_vram - reserve - buffer - graph
        gpu_layers = max(0, min(model.num_layers, math.floor(room / per_layer))) if room > 0 else 0
        used = int(gpu_layers * per_layer + (graph if gpu_layers else 0))
        # The estimate counts what it placed plus what overflowed; llama-server sums its
        # buffers, the CPU's included.
        memory = (
            offloaded_weights + cache + graph + reserve + buffer
            if estimated
            else weights_bytes + cache + graph
        )
        notes.append(
            f"Needs {needed / GIB:.1f} GiB but {total_vram / GIB:.1f} GiB of VRAM: "
            f"{gpu_layers}/{total_layers} layers on the GPU, the rest on the CPU (much slower)."
        )
    return OllamaFit(
        fits_in_vram=fits,
        num_ctx=num_ctx,
        num_parallel=num_parallel,
        kv_cache_type=kv_cache_type,
        flash_attention=flash_attention,
        gpu_layers=gpu_layers,
        total_layers=total_layers,
        weights_bytes=weights_bytes,
        kv_cache_bytes=cache,
        graph_bytes=graph,
        reserve_bytes=reserve,
        memory_bytes=memory,
        vram_bytes=total_vram,
        vram_used_bytes=used,
        notes=tuple(notes),
    )


def recommended_context(
    prompt_tokens: int, output_tokens: int, model: ModelSpec, *, required_context: int | None = None
) -> int:
    """Enough context for one request of prompt + output, rounded up to 1k, at least 2k.

    ``required_context`` (the context length the user says requests need) raises the floor:
    Ollama silently truncates prompts longer than ``num_ctx``.
    """
    needed = max(MIN_RECOMMENDED_CONTEXT, prompt_tokens + output_tokens, required_context or 0)
    return min(model.max_context, CONTEXT_STEP * math.ceil(needed / CONTEXT_STEP))


def most_slots_that_fit(fit_at: Callable[[int], OllamaFit], target: int) -> OllamaFit | None:
    """``fit_at(n)`` for the most slots ``n`` in 1..``target`` that stays in VRAM; None if none does.

    Memory only grows with the slots (the KV cache is num_ctx x slots; the graph grows with the
    context), so a binary search finds what counting down from ``target`` would, in ~log2(target)
    fits instead of up to ``target`` (4,096 for the largest load levels).
    """
    low = fit_at(1)
    if not low.fits_in_vram:
        return None
    high = fit_at(target)
    if high.fits_in_vram:
        return high
    while high.num_parallel - low.num_parallel > 1:  # invariant: low fits, high does not
        mid = fit_at((low.num_parallel + high.num_parallel) // 2)
        low, high = (mid, high) if mid.fits_in_vram else (low, mid)
    return low


def tuned_fit(
    model: ModelSpec,
    *,
    weights_bytes: int,
    vram_bytes: int,
    gpu_count: int,
    num_ctx: int,
    target_parallel: int,
) -> OllamaFit:
    """Ollama as we would set it: ``num_ctx`` and the most slots up to ``target_parallel`` that keep
    everything in VRAM, with flash attention on a GPU (llama.cpp then never materialises the
    attention scores, so the graph stops growing with the context), first with the f16 cache,
    then with a q8_0 cache (which needs flash attention: Ollama docs/faq.md).

    When not even one slot fits, ``target_parallel`` slots with the f16 cache (the layers that do
    not fit run on the CPU). On a CPU every slot shares the same cores and memory bandwidth:
    batching a few helps, many only stretch each user's latency.
    """
    target = max(1, target_parallel)
    if gpu_count <= 0:
        target = min(target, CPU_MAX_USEFUL_PARALLEL)

    def fit_at(parallel: int, kv_type: str = "f16", flash: bool = False) -> OllamaFit:
        return ollama_fit(
            model,
            weights_bytes=weights_bytes,
            vram_bytes=vram_bytes,
            gpu_count=gpu_count,
            num_ctx=num_ctx,
            num_parallel=parallel,
            kv_cache_type=kv_type,
            kv_dtype_bytes=KV_BYTES[kv_type],
            flash_attention=flash,
        )

    if gpu_count <= 0:
        return fit_at(target)
    best: OllamaFit | None = None
    for kv_type, flash in (("f16", True), ("q8_0", True)):
        fit = most_slots_that_fit(partial(fit_at, kv_type=kv_type, flash=flash), target)
        if fit is not None and (best is None or fit.num_parallel > best.num_parallel):
            best = fit
    return best if best is not None else fit_at(target, "f16", True)
