"""vLLM's KV-cache capacity, computed the way vLLM computes it at start-up.

Memory: ``vllm_memory`` (requested = CUDA total x gpu_memory_utilization; KV budget = requested -
weights as loaded - the profile run's forward and sampler peaks - non-torch memory - CUDA graphs).
Fit (``vllm/v1/core/kv_cache_planning.py:151`` ``check_enough_kv_cache_memory`` in 0.33.0): vLLM
refuses to start when one request of ``max_model_len`` needs more KV memory than the budget ("To
serve at least one request with the model's max seq len ... KV cache is needed, which is larger than
the available KV cache memory"; before 0.8: "The model's max seq len (N) is larger than the maximum
number of tokens that can be stored in KV cache (M)"), or with "No available memory for the cache
blocks" when the budget is not positive.
Blocks (``vllm/v1/core/kv_cache_utils.py``):
    num_gpu_blocks = budget // page_size // layers_per_group   (``get_num_blocks``)
    "GPU KV cache size: N tokens" = num_blocks // num_groups x block_size  (``_report_kv_cache_config``)
    "Maximum concurrency for L tokens per request" = num_blocks / blocks one request of L needs
    (``get_max_concurrency_for_kv_cache_config``); a full-attention group needs ceil(L / 16) blocks,
    a sliding-window group ceil(min(window - 1 + max_num_batched_tokens, L) / 16) + 1
    (``SlidingWindowSpec.max_memory_usage_bytes``).
Requests held (``VllmCapacity.requests_held``): the V1 scheduler (``vllm/v1/core/sched/scheduler.py``)
admits a request while the KV cache manager can allocate blocks for its tokens so far
(``KVCacheManager.allocate_slots``) and the running requests number fewer than max_num_seqs; blocks
are allocated as a request grows, never reserved for ``max_model_len``. So a workload of requests
of L tokens (prompt + output, at their longest) runs min(num_blocks / blocks for L, max_num_seqs)
at once per engine, times the data-parallel replicas; ``max_model_len`` bounds it only when a
request is longer (vLLM refuses it) or one request that long does not fit (vLLM refuses to start).
Hybrid models (Gemma 2/3, gpt-oss) split their layers into equal-sized groups of one attention type
(``_get_kv_cache_groups_uniform_page_size``): the group size is the smaller layer count, or the larger
when it is under 1.5x the smaller.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from advisor.capacity import kv, vllm_memory
from advisor.capacity.specs import GIB, GpuSpec, ModelSpec

# vLLM's CPU backend sizes its KV cache from VLLM_CPU_KVCACHE_SPACE (GiB), not from a profile run.
CPU_KVCACHE_SPACE_DEFAULT = 4 * GIB
# --gpu-memory-utilization default of the pinned release (vllm/config/cache.py:215 in 0.33.0).
DEFAULT_GPU_MEMORY_UTILIZATION = vllm_memory.release().default_gpu_memory_utilization


def default_max_num_seqs(gpu: GpuSpec | None, version: str | None = None) -> int:
    return vllm_memory.default_max_num_seqs(gpu, vllm_memory.release(version))


def default_max_num_batched_tokens(gpu: GpuSpec | None, version: str | None = None) -> int:
    return vllm_memory.default_max_num_batched_tokens(gpu, vllm_memory.release(version))


@dataclass(frozen=True)
class KvGroups:
    """How vLLM groups a model's attention layers for the block allocator."""

    layers_per_group: int
    full_groups: int
    sliding_groups: int

    @property
    def num_groups(self) -> int:
        return self.full_groups + self.sliding_groups


def kv_groups(model: ModelSpec) -> KvGroups:
    full, sliding = model.num_full_layers, model.num_sliding_layers
    if sliding == 0:
        return KvGroups(layers_per_group=full, full_groups=1, sliding_groups=0)
    if full == 0:
        return KvGroups(layers_per_group=sliding, full_groups=0, sliding_groups=1)
    smaller, larger = min(full, sliding), max(full, sliding)
    size = larger if larger < smaller * 1.5 else smaller
    return KvGroups(size, math.ceil(full / size), math.ceil(sliding / size))


def blocks_per_request(
    model: ModelSpec, groups: KvGroups, tokens: int, max_num_batched_tokens: int
) -> int:
    """Blocks one request of ``tokens`` holds across every group at its longest."""
    full = math.ceil(tokens / kv.BLOCK_SIZE)
    blocks = groups.full_groups * full
    if groups.sliding_groups and model.sliding_window:  # sliding groups exist only with a window
        window = min(model.sliding_window - 1 + max_num_batched_tokens, tokens)
        blocks += groups.sliding_groups * (math.ceil(window / kv.BLOCK_SIZE) + 1)
    return blocks


class HeldLimit(enum.StrEnum):
    """What bounds the requests vLLM runs at once."""

    KV_CACHE = "kv_cache"  # the KV cache fills first
    MAX_NUM_SEQS = "max_num_seqs"  # the scheduler's cap on running requests per engine
    # Requests longer than max_model_len are refused, or one request of max_model_len does not
    # fit the KV cache and vLLM refuses to start (a shorter max_model_len would).
    MAX_MODEL_LEN = "max_model_len"
    DOES_NOT_START = "does_not_start"  # no max_model_len helps: weights, memory, no backend


@dataclass(frozen=True)
class RequestsHeld:
    """How many requests of one size a vLLM deployment runs at once (``requests_held``).

    ``kv_tokens_per_request`` is one request at its longest in whole KV blocks (for a hybrid
    model, its blocks across every group in tokens of one group, as ``kv_cache_tokens`` counts
    them); ``kv_cache_tokens`` and ``held`` cover every replica; ``per_replica`` is what one
    engine's KV cache holds before max_num_seqs; ``slots_per_replica`` is the smaller of the two,
    whole; ``held`` is 0 when vLLM refuses these requests or does not start.
    """

    request_tokens: int
    kv_tokens_per_request: int
    kv_cache_tokens: int
    replicas: int
    max_num_seqs: int
    per_replica: float
    slots_per_replica: int
    held: int
    limit: HeldLimit

    def kv_tokens_needed(self, requests: int) -> int:
        """KV tokens that ``requests`` of this size hold at their longest."""
        return requests * self.kv_tokens_per_request

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["per_replica"] = round(self.per_replica, 2)
        data["limit"] = str(self.limit)
        return data


@dataclass(frozen=True)
class VllmCapacity:
    """One vLLM engine (one TP group): memory terms per GPU and what fits."""

    fits: bool
    tensor_parallel_size: int
    max_model_len: int
    max_num_seqs: int
    max_num_batched_tokens: int
    gpu_memory_utilization: float
    vllm_version: str
    accounting_release: str
    total_memory_bytes: int
    requested_memory_bytes: int
    weights_bytes_per_gpu: int
    activation_peak_bytes: int
    sampler_peak_bytes: int
    cuda_graph_bytes: int
    non_torch_bytes: int
    available_kv_cache_bytes: int
    kv_cache_bytes: int
    page_size_bytes: int
    num_gpu_blocks: int
    kv_cache_tokens: int
    blocks_per_request: int
    max_concurrency: float
    max_model_len_that_fits: int
    kv_budget_overridden: bool
    modelled_available_kv_cache_bytes: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def kv_budget_source(self) -> str:
        """ "measured" when the budget came from the user's server, else "model"."""
        return "measured" if self.kv_budget_overridden else "model"

    @property
    def kv_budget_error_pct(self) -> float | None:
        """The model's error on a measured budget: (modelled - measured) / |measured| x 100."""
        if not self.kv_budget_overridden or not self.available_kv_cache_bytes:
            return None
        measured = self.available_kv_cache_bytes
        return (self.modelled_available_kv_cache_bytes - measured) / abs(measured) * 100

    def requests_held(self, model: ModelSpec, tokens: int, *, replicas: int = 1) -> RequestsHeld:
        """How many requests of ``tokens`` (prompt + output) ``replicas`` engines run at once.

        Paged: each request holds the blocks of its own length, so the workload's size, not
        ``max_model_len``, divides the cache (see the module docstring for vLLM's sources).
        """
        groups = kv_groups(model)
        tokens = max(1, tokens)
        replicas = max(1, replicas)
        need = blocks_per_request(model, groups, tokens, self.max_num_batched_tokens)
        per_replica = self.num_gpu_blocks / need if need else 0.0
        slots = min(self.max_num_seqs, math.floor(per_replica))
        weights_fit = self.weights_bytes_per_gpu < self.requested_memory_bytes
        shorter_len_starts = 0 < self.max_model_len_that_fits < self.max_model_len
        if not self.fits and not (weights_fit and shorter_len_starts):
            limit = HeldLimit.DOES_NOT_START
        elif not self.fits or tokens > self.max_model_len:
            limit = HeldLimit.MAX_MODEL_LEN
        elif per_replica > self.max_num_seqs:
            limit = HeldLimit.MAX_NUM_SEQS
        else:
            limit = HeldLimit.KV_CACHE
        runs = limit in (HeldLimit.KV_CACHE, HeldLimit.MAX_NUM_SEQS)
        return RequestsHeld(
            request_tokens=tokens,
            kv_tokens_per_request=math.ceil(need * kv.BLOCK_SIZE / groups.num_groups),
            kv_cache_tokens=self.kv_cache_tokens * replicas,
            replicas=replicas,
            max_num_seqs=self.max_num_seqs,
            per_replica=per_replica,
            slots_per_replica=max(0, slots),
            held=max(0, slots) * replicas if runs else 0,
            limit=limit,
        )

    def as_dict(self) -> dict[str, Any]:
        # Every field is a number or bool (notes aside): no deep copy needed.
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data["notes"] = list(self.notes)
        data["max_concurrency"] = round(self.max_concurrency, 2)
        data["kv_budget_source"] = self.kv_budget_source
        error = self.kv_budget_error_pct
        data["kv_budget_error_pct"] = None if error is None else round(error, 1)
        return data


def vllm_capacity(
    model: ModelSpec,
    gpu: GpuSpec | None,
    *,
    tensor_parallel_size: int,
    weights_bytes: int,
    kv_dtype_bytes: float,
    max_model_len: int | None = None,
    gpu_memory_utilization: float | None = None,
    kv_cache_budget_bytes: int | None = None,
    max_num_seqs: int | None = None,
    max_num_batched_tokens: int | None = None,
    cpu_memory_bytes: int | None = None,
    vllm_version: str | None = None,
    num_gpu_blocks_override: int | None = None,
) -> VllmCapacity:
    """vLLM's start-up arithmetic for ``model`` on ``tensor_parallel_size`` x ``gpu``.

    ``gpu`` None means the CPU backend (KV space from VLLM_CPU_KVCACHE_SPACE, weights in RAM).
    ``kv_cache_budget_bytes`` replaces the modelled per-GPU budget (to check the KV arithmetic
    alone, e.g. against a budget vLLM logged); ``num_gpu_blocks_override`` does the same from a
    block count (``vllm:cache_config_info`` on /metrics, or vLLM's own --num-gpu-blocks-override).
    Either way the budget is labelled measured and the modelled one stays beside it, so the
    model's error on the user's server is visible. ``weights_bytes`` is the whole model as vLLM loads
    it (``kv.vllm_weights_bytes``). ``vllm_version`` picks the release's accounting (default the
    pinned one; ``vllm_memory.release`` raises AdvisorError for a malformed one). Pure: raises
    nothing for a model that does not fit, it answers ``fits=False`` with a note saying why.
    """
    rel = vllm_memory.release(vllm_version)
    utilization = gpu_memory_utilization or rel.default_gpu_memory_utilization
    tp = max(1, tensor_parallel_size)
    length = int(max_model_len or model.max_context)
    seqs = int(max_num_seqs or vllm_memory.default_max_num_seqs(gpu, rel))
    batched = int(
        max_num_batched_tokens or vllm_memory.default_max_num_batched_tokens(gpu, rel, length)
    )
    notes: list[str] = []
    weights_per_gpu = kv.weights_bytes_per_gpu(weights_bytes, tp)
    total = sampler = graphs = 0

    if gpu is None:
        requested = int((cpu_memory_bytes or 0) * utilization)
        total = int(cpu_memory_bytes or 0)
        activation = non_torch = 0
        budget = CPU_KVCACHE_SPACE_DEFAULT
        notes.append(
            "CPU backend: KV cache sized by VLLM_CPU_KVCACHE_SPACE (4 GiB assumed); "
            "runs but is far slower than a GPU."
        )
        if requested and weights_per_gpu + budget > requested:
            budget = max(0, requested - weights_per_gpu)
    else:
        terms = vllm_memory.memory_terms(
            model,
            gpu,
            rel=rel,
            tensor_parallel_size=tp,
            weights_bytes_per_gpu=weights_per_gpu,
            gpu_memory_utilization=utilization,
            max_num_seqs=seqs,
            max_num_batched_tokens=batched,
        )
        total, requested = terms.total, terms.requested
        activation, sampler = terms.activation_peak, terms.sampler_peak
        non_torch, graphs = terms.non_torch, terms.cuda_graphs
        budget = terms.kv_budget
        if gpu.unified_memory:
            notes.append("vLLM has no Metal backend: on a Mac it only runs on the CPU.")
    modelled = budget
    groups = kv_groups(model)
    page = kv.page_size_bytes(model, kv_dtype_bytes, tp)
    overridden = kv_cache_budget_bytes is not None or num_gpu_blocks_override is not None
    if num_gpu_blocks_override is not None:
        budget = int(num_gpu_blocks_override) * page * groups.layers_per_group
    elif kv_cache_budget_bytes is not None:
        budget = int(kv_cache_budget_bytes)
    available = budget

    num_blocks = max(0, int(budget // page // groups.layers_per_group)) if budget > 0 else 0
    need = blocks_per_request(model, groups, length, batched)
    tokens = num_blocks // groups.num_groups * kv.BLOCK_SIZE
    # V1's check_enough_kv_cache_memory plans against the blocks left after the null block the
    # BlockPool holds back (kv_cache_planning.py:171-177 in 0.33.0).
    usable = max(0, num_blocks - 1) if rel.v1_engine else num_blocks
    fits_len = _longest_len_that_fits(model, groups, usable, batched, length)
    fits = budget > 0 and usable >= need and weights_per_gpu < requested
    if gpu is not None and gpu.unified_memory:
        fits = False
    if weights_per_gpu >= requested and requested:
        notes.append(
            f"Weights ({weights_per_gpu / GIB:.1f} GiB per GPU) exceed the "
            f"{utilization:.0%} memory budget ({requested / GIB:.1f} GiB)."
        )
    elif budget <= 0:
        notes.append(
            f"No memory is left for the KV cache ({budget / GIB:.2f} GiB after weights "
            f"{weights_per_gpu / GIB:.1f} GiB and the profile run): vLLM answers "
            '"No available memory for the cache blocks".'
        )
    elif usable < need:
        notes.append(
            f"One {length:,}-token request needs {need:,} blocks but only {usable:,} fit; "
            f"the longest max_model_len that fits is {fits_len:,}."
        )
    return VllmCapacity(
        fits=fits,
        tensor_parallel_size=tp,
        max_model_len=length,
        max_num_seqs=seqs,
        max_num_batched_tokens=batched,
        gpu_memory_utilization=utilization,
        vllm_version=vllm_version or rel.version,
        accounting_release=rel.version,
        total_memory_bytes=total,
        requested_memory_bytes=requested,
        weights_bytes_per_gpu=weights_per_gpu,
        activation_peak_bytes=activation,
        sampler_peak_bytes=sampler,
        cuda_graph_bytes=graphs,
        non_torch_bytes=non_torch,
        available_kv_cache_bytes=available,
        kv_cache_bytes=max(0, num_blocks * page * groups.layers_per_group),
        page_size_bytes=page,
        num_gpu_blocks=num_blocks,
        kv_cache_tokens=tokens,
        blocks_per_request=need,
        max_concurrency=num_blocks / need if need else 0.0,
        max_model_len_that_fits=fits_len,
        kv_budget_overridden=overridden,
        modelled_available_kv_cache_bytes=modelled,
        notes=tuple(notes),
    )


def _longest_len_that_fits(
    model: ModelSpec, groups: KvGroups, num_blocks: int, batched: int, upper: int
) -> int:
    """Binary search like vLLM's ``estimate_max_model_len``: 0 when not even one token fits."""
    if blocks_per_request(model, groups, 1, batched) > num_blocks:
        return 0
    low, high = 1, upper
    while low < high:
        middle = (low + high + 1) // 2
        if blocks_per_request(model, groups, middle, batched) <= num_blocks:
            low = middle
        else:
            high = middle - 1
    return low
