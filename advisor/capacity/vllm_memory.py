"""How much GPU memory one vLLM worker gives its KV cache, release by release.

vLLM 0.33.0 (the pinned release; paths are inside the ``vllm`` wheel of that version):

- ``v1/worker/utils.py:724`` ``request_memory``: requested = ceil(total x gpu_memory_utilization),
  where *total* is what the CUDA runtime reports (``torch.cuda.mem_get_info``), below the marketing
  size (an H100 80GB reports 79.1-79.3 GiB).
- ``v1/worker/gpu_worker.py:641`` ``determine_available_memory``: a profile run inside
  ``utils/mem_utils.py:230`` ``memory_profiling``; KV budget (line 753) = requested - non-KV memory
  (weights + non-torch memory + the profile run's transient torch peak) - the CUDA graph estimate.
- ``v1/worker/gpu_model_runner.py:6072`` ``profile_run``: one forward pass over
  ``max_num_batched_tokens`` dummy tokens, then ``_dummy_sampler_run`` (line 5866) over
  ``max_num_seqs`` rows of logits (``max_num_seqs x vocab_size``, float32, plus the sort / softmax /
  top-k-top-p copies the sampler makes): the larger term on a big GPU with 1024 sequences.
- ``v1/worker/gpu_model_runner.py:6268`` ``profile_cudagraph_memory``: a dummy capture whose memory
  is subtracted since v0.21.0 (``envs.py:2219`` ``VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS`` = 1).
- ``config/cache.py:215``: ``gpu_memory_utilization`` defaults to 0.92.
- ``engine/arg_utils.py:2940`` ``get_batch_defaults`` (API server): >= 160 GiB -> 16384 batched
  tokens and 1024 sequences; >= 70 GiB and not an A100 nor a GB10 -> 8192 and 1024; else 2048 and 256.

Older releases differ where the table below says so (each read in that release's wheel: 0.7.2,
0.8.5, 0.9.2, 0.10.1, 0.11.0, 0.21.0, 0.27.1, 0.33.0). Where vLLM measures a term instead of
computing it, the constant is counted from the code or taken from public start-up logs, and says
which.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from advisor.capacity.specs import GIB, MIB, GpuSpec, ModelSpec
from advisor.errors import AdvisorError
from advisor.releases import VLLM_RELEASE

# Transient torch peak of the forward pass per batched token and per unit of hidden size. V1
# (torch.compile'd) logs on an 80 GB GPU with Llama-3.1-8B (hidden 4096, 8192 batched tokens, before
# the sampler joined the profile run): "PyTorch activation peak memory takes 1.19GiB" / 1.24 GiB ->
# 1.2 GiB / (8192 x 4096) = 38 bytes; 36 keeps the earlier fit. V0 (eager) grew by 0.92 GiB from
# 20,000 to 29,000 batched tokens in vllm-project/vllm issue 10517 (peak_torch_memory 17.06 ->
# 17.98 GiB, Llama-3.1-8B) -> 27 bytes (FITTED on that pair, so those two corpus points are
# in-sample for it).
FORWARD_BYTES_PER_TOKEN_PER_HIDDEN = 36
V0_FORWARD_BYTES_PER_TOKEN_PER_HIDDEN = 27
# The dummy sampler run's peak per logit (max_num_seqs x vocab_size), by sampler implementation:
# - sort-based top-k/top-p (V0, and V1 0.8.5 to 0.11; `apply_top_k_top_p` in
#   v1/sample/ops/topk_topp_sampler.py of the 0.10.1 wheel sorts the float32 logits and keeps
#   int64 indices, softmax, cumsum, masks and a scatter beside them): 39 B, from the one public log
#   that prints the activation term of a sampler-bound profile run, V0 0.7 on an RTX 4060 (vllm
#   issue 13882: "PyTorch activation peak memory takes 1.42GiB" for 256 x 152,064 logits; that
#   point is in-sample for this constant). Checked out of sample on two V1 gpt-oss-120b start-ups
#   on one H100 with 1024 sequences and a 201,088-token vocabulary (vllm issues 23278 and 27508).
# - Triton top-k/top-p (0.21.0 and 0.33.0 wheels: `apply_top_k_top_p_triton` for 8 rows or more,
#   masking in place), counted from the code of 0.33.0's generator warm-up (`_dummy_sampler_run`
#   lines 5912-5925 -> `forward_native`): bf16 logits (2) + float32 logits (4) + softmax
#   probabilities (4) + exponential noise (4, `random_sample`; the division is in place) = 14 B.
SORT_SAMPLER_BYTES_PER_LOGIT = 39
TRITON_SAMPLER_BYTES_PER_LOGIT = 14
# CUDA graph estimate (0.21+): "Estimated CUDA graph memory: 0.17 GiB total" (TP4, RTX 3090,
# noonghunna/club-3090 issue 127) and 0.36 GiB (TP2, gpustack/runner PR 251). A middle value.
CUDA_GRAPH_BYTES = int(0.3 * GIB)
# Non-torch memory the profile counts depends on where the release takes its baseline snapshot:
# - up to 0.6.4 it is everything CUDA holds outside torch, the CUDA context and cuBLAS included:
#   "non_torch_memory=0.35GiB" on one RTX 3090 (vllm issue 10517, 0.6.4 wording).
# - from 0.6.5 (V0 `memory_profiling`; read in the 0.7.2 wheel, worker.py:161; 0.6.5 is where the
#   log wording changes, that wheel was not read) and in V1 up to 0.10
#   (0.10.1 wheel gpu_worker.py:174) the baseline is taken after the CUDA context is made but
#   before `init_worker_distributed_environment`: one GPU adds little ("non_torch_memory takes
#   0.03GiB", RTX 4060, issue 13882), tensor parallelism adds NCCL and custom all-reduce buffers
#   (0.25 GiB per RTX 4090 with TP 2, issue 13061 -> 0.22 more).
# - from 0.11 (0.11.0 wheel gpu_worker.py:169-182; 0.33.0 lines 504-541, after the cuBLAS
#   handles too) the snapshot follows the distributed set-up, so those buffers are baseline.
NON_TORCH_BYTES_WITH_CONTEXT = int(0.35 * GIB)
NON_TORCH_BYTES_AFTER_CONTEXT = int(0.03 * GIB)
NON_TORCH_BYTES_EXTRA_WITH_TP = int(0.22 * GIB)
# The CUDA runtime reports less than nvidia-smi's memory.total: the driver keeps about 450 MiB
# (H100 80GB: nvidia-smi 81,559 MiB vs 79.15 GiB in vLLM logs; RTX 3090: 24,576 MiB vs 23.58 GiB
# in vllm-project/vllm issue 10517). Used only for GPUs without a logged CUDA total.
DRIVER_RESERVED_BYTES = 450 * MIB
# RoPE's cos/sin cache is part of "Model loading took": one [max_position_embeddings, rotary_dim]
# buffer in the model dtype, shared by every layer (model_executor/layers/rotary_embedding/base.py
# lines 59-63 and _compute_cos_sin_cache, line 94). Llama-3.1-8B: 131,072 x 128 x 2 B = 32 MiB, the
# difference between its 14.9575 GiB of parameters and the 14.9888 GiB vLLM logs.
ROPE_CACHE_BYTES_PER_ELEMENT = 2
# --block-size default (config/cache.py).
BLOCK_SIZE = 16


@dataclass(frozen=True)
class VllmRelease:
    """What changed between vLLM releases in the start-up memory arithmetic."""

    version: str
    default_gpu_memory_utilization: float
    v1_engine: bool  # V1 (0.8+) chunks prefill by default; V0 profiled the whole max_model_len
    sampler_bytes_per_logit: float  # the dummy sampler run's peak; 0 when it is not profiled
    reserves_cuda_graphs: bool  # CUDA graph estimate subtracted from the KV budget
    has_160gib_tier: bool  # get_batch_defaults' largest tier (B200-class GPUs), GB10 kept small
    source: str
    non_torch_bytes: int = NON_TORCH_BYTES_AFTER_CONTEXT  # one GPU
    non_torch_extra_with_tp_bytes: int = 0  # NCCL / custom all-reduce, when counted

    @property
    def profiles_sampler(self) -> bool:
        return self.sampler_bytes_per_logit > 0


# Ordered oldest first; a version in between uses the newest entry at or below it. Each entry was
# read in that release's wheel (`pip download vllm==X --no-deps`) unless its source says otherwise.
RELEASES = (
    VllmRelease(
        "0.6.0",
        0.9,
        v1_engine=False,
        sampler_bytes_per_logit=SORT_SAMPLER_BYTES_PER_LOGIT,
        reserves_cuda_graphs=False,
        has_160gib_tier=False,
        source="vllm/worker/worker.py determine_num_available_blocks (V0 engine; public logs)",
        non_torch_bytes=NON_TORCH_BYTES_WITH_CONTEXT,
        non_torch_extra_with_tp_bytes=NON_TORCH_BYTES_EXTRA_WITH_TP,
    ),
    VllmRelease(
        "0.6.5",
        0.9,
        v1_engine=False,
        sampler_bytes_per_logit=SORT_SAMPLER_BYTES_PER_LOGIT,
        reserves_cuda_graphs=False,
        has_160gib_tier=False,
        source="V0 memory_profiling against a baseline snapshot (0.7.2 wheel worker.py:161)",
        non_torch_extra_with_tp_bytes=NON_TORCH_BYTES_EXTRA_WITH_TP,
    ),
    VllmRelease(
        "0.8.0",
        0.9,
        v1_engine=True,
        sampler_bytes_per_logit=0,
        reserves_cuda_graphs=False,
        has_160gib_tier=False,
        source="V1 by default; 0.8.0 logs show a 1.2 GiB activation peak with 1024 sequences",
        non_torch_extra_with_tp_bytes=NON_TORCH_BYTES_EXTRA_WITH_TP,
    ),
    VllmRelease(
        "0.8.5",
        0.9,
        v1_engine=True,
        sampler_bytes_per_logit=SORT_SAMPLER_BYTES_PER_LOGIT,
        reserves_cuda_graphs=False,
        has_160gib_tier=False,
        source="0.8.5 wheel: profile_run calls _dummy_sampler_run; 0.9.2 and 0.10.1 still sort",
        non_torch_extra_with_tp_bytes=NON_TORCH_BYTES_EXTRA_WITH_TP,
    ),
    VllmRelease(
        "0.11.0",
        0.9,
        v1_engine=True,
        sampler_bytes_per_logit=SORT_SAMPLER_BYTES_PER_LOGIT,
        reserves_cuda_graphs=False,
        has_160gib_tier=False,
        source="0.11.0 wheel: the memory snapshot follows the distributed set-up",
    ),
    VllmRelease(
        "0.21.0",
        0.92,
        v1_engine=True,
        sampler_bytes_per_logit=TRITON_SAMPLER_BYTES_PER_LOGIT,
        reserves_cuda_graphs=True,
        has_160gib_tier=False,
        source="0.21.0 wheel: config/cache.py 0.92, Triton top-k/top-p, CUDA graph estimate on",
    ),
    VllmRelease(
        "0.33.0",
        0.92,
        v1_engine=True,
        sampler_bytes_per_logit=TRITON_SAMPLER_BYTES_PER_LOGIT,
        reserves_cuda_graphs=True,
        has_160gib_tier=True,
        source="0.33.0 wheel (module docstring); the 160 GiB tier is absent from 0.27.1",
    ),
)
DEFAULT_RELEASE = VLLM_RELEASE


def _version_key(text: str) -> tuple[int, ...]:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?\S*", text.strip())
    if not match:
        raise AdvisorError(
            f"vLLM release {text!r} is not a version such as 0.33.0.", field="vllm_version"
        )
    return tuple(int(part or 0) for part in match.groups())


def release(version: str | None = None) -> VllmRelease:
    """The accounting of ``version`` (default the pinned release). Raises AdvisorError(field=
    "vllm_version") for text that is not a version or predates 0.6."""
    key = _version_key(version or DEFAULT_RELEASE)
    chosen = None
    for item in RELEASES:
        if _version_key(item.version) <= key:
            chosen = item
    if chosen is None:
        raise AdvisorError(
            f"vLLM {version} predates the releases modelled here (0.6.0 and later).",
            field="vllm_version",
        )
    return chosen


def cuda_total_bytes(gpu: GpuSpec) -> int:
    """Total memory the CUDA runtime reports for ``gpu`` (what vLLM multiplies by the utilization)."""
    if gpu.cuda_total_bytes:
        return gpu.cuda_total_bytes
    return max(0, gpu.memory_bytes - DRIVER_RESERVED_BYTES)


def _large_tier(gpu: GpuSpec | None) -> bool:
    name = (gpu.name if gpu else "").lower()
    return (
        gpu is not None
        and cuda_total_bytes(gpu) >= 70 * GIB
        and "a100" not in name
        and "gb10" not in name
        and "spark" not in name
    )


def default_max_num_seqs(gpu: GpuSpec | None, rel: VllmRelease | None = None) -> int:
    """``get_batch_defaults`` (API server): 1024 on large GPUs, else 256."""
    rel = rel or release()
    if gpu is not None and rel.has_160gib_tier and cuda_total_bytes(gpu) >= 160 * GIB:
        return 1024
    return 1024 if _large_tier(gpu) else 256


def default_max_num_batched_tokens(
    gpu: GpuSpec | None, rel: VllmRelease | None = None, max_model_len: int | None = None
) -> int:
    """``get_batch_defaults`` (API server): 16384 / 8192 / 2048 by GPU tier. V0 without chunked
    prefill batched a whole ``max_model_len`` (chunked prefill switched on past 32k)."""
    rel = rel or release()
    if not rel.v1_engine and max_model_len and max_model_len <= 32768:
        return max(2048, max_model_len)
    if gpu is not None and rel.has_160gib_tier and cuda_total_bytes(gpu) >= 160 * GIB:
        return 16384
    return 8192 if _large_tier(gpu) else 2048


@dataclass(frozen=True)
class MemoryTerms:
    """One worker's start-up memory, in bytes, as vLLM accounts it."""

    total: int
    requested: int
    weights: int
    rope_cache: int
    forward_peak: int
    sampler_peak: int
    non_torch: int
    cuda_graphs: int

    @property
    def activation_peak(self) -> int:
        """The profile run's transient torch peak. The forward pass's activations are freed before
        the dummy sampler run (only the last hidden states survive), so the peak is the larger of
        the two: issue 10517's V0 runs grow with the batched tokens alone, issue 13882's short one
        is the sampler's."""
        return max(self.forward_peak, self.sampler_peak)

    @property
    def kv_budget(self) -> int:
        """vLLM's "Available KV cache memory" (negative when nothing is left)."""
        return (
            self.requested
            - self.weights
            - self.rope_cache
            - self.activation_peak
            - self.non_torch
            - self.cuda_graphs
        )


def memory_terms(
    model: ModelSpec,
    gpu: GpuSpec,
    *,
    rel: VllmRelease,
    tensor_parallel_size: int,
    weights_bytes_per_gpu: int,
    gpu_memory_utilization: float,
    max_num_seqs: int,
    max_num_batched_tokens: int,
) -> MemoryTerms:
    """The terms of ``determine_available_memory`` for one worker of a TP group.

    The forward pass's activations shard with TP (the MLP and attention projections are split); the
    sampler's logits do not (rank 0 gathers the full vocabulary, and vLLM sizes every worker's KV
    cache by the smallest budget).
    """
    tp = max(1, tensor_parallel_size)
    total = cuda_total_bytes(gpu)
    per_hidden = (
        FORWARD_BYTES_PER_TOKEN_PER_HIDDEN
        if rel.v1_engine
        else V0_FORWARD_BYTES_PER_TOKEN_PER_HIDDEN
    )
    forward = int(max_num_batched_tokens * model.hidden_size * per_hidden)
    forward = forward // tp if tp > 1 else forward
    sampler = int(max_num_seqs * model.vocab_size * rel.sampler_bytes_per_logit)
    rotary_dim = model.mla_dims[1] if model.uses_mla else model.head_dim
    return MemoryTerms(
        total=total,
        requested=math.ceil(total * gpu_memory_utilization),
        weights=weights_bytes_per_gpu,
        rope_cache=model.max_context * rotary_dim * ROPE_CACHE_BYTES_PER_ELEMENT,
        forward_peak=forward,
        sampler_peak=sampler,
        non_torch=rel.non_torch_bytes + (rel.non_torch_extra_with_tp_bytes if tp > 1 else 0),
        cuda_graphs=CUDA_GRAPH_BYTES if rel.reserves_cuda_graphs else 0,
    )
