"""Properties that hold for every catalog model: monotonicity and TP validity."""

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.capacity import kv
from advisor.capacity.catalog import list_models, resolve_gpu, resolve_quantization
from advisor.capacity.specs import GIB
from advisor.capacity.vllm import vllm_capacity

MODELS = st.sampled_from(list_models())
H100 = resolve_gpu("h100")


def _capacity(model, *, memory_gib=80.0, length=None, tp=1):
    gpu = H100.with_memory(int(memory_gib * GIB))
    weights = kv.weights_bytes(model, resolve_quantization("Q4_K_M"))
    return vllm_capacity(
        model,
        gpu,
        tensor_parallel_size=tp,
        weights_bytes=weights,
        kv_dtype_bytes=2,
        max_model_len=length,
        max_num_seqs=256,
        max_num_batched_tokens=2048,
    )


@settings(max_examples=150, deadline=None)
@given(model=MODELS, memory=st.floats(1, 512), extra=st.floats(0, 512))
def test_it_never_loses_capacity_with_more_memory(model, memory, extra):
    small = _capacity(model, memory_gib=memory)
    large = _capacity(model, memory_gib=memory + extra)
    assert large.num_gpu_blocks >= small.num_gpu_blocks
    assert large.max_concurrency >= small.max_concurrency
    assert large.fits or not small.fits


@settings(max_examples=150, deadline=None)
@given(model=MODELS, length=st.integers(16, 200_000), extra=st.integers(0, 200_000))
def test_it_never_gains_concurrency_with_a_longer_context(model, length, extra):
    short = _capacity(model, length=length)
    long = _capacity(model, length=length + extra)
    assert long.max_concurrency <= short.max_concurrency
    assert long.blocks_per_request >= short.blocks_per_request


@settings(max_examples=100, deadline=None)
@given(model=MODELS, limit=st.integers(1, 64))
def test_it_only_offers_tp_sizes_that_divide_the_heads(model, limit):
    sizes = kv.valid_tensor_parallel_sizes(model, limit)
    assert sizes[0] == 1 and all(size <= limit for size in sizes)
    for size in sizes:
        assert model.num_attention_heads % size == 0
        assert model.num_kv_heads % size == 0 or size % model.num_kv_heads == 0


@settings(max_examples=100, deadline=None)
@given(model=MODELS, tokens=st.integers(1, 100_000), extra=st.integers(0, 100_000))
def test_it_never_shrinks_a_sequences_kv_as_it_grows(model, tokens, extra):
    assert kv.kv_bytes_for_context(model, 2, tokens + extra) >= kv.kv_bytes_for_context(
        model, 2, tokens
    )
    assert kv.kv_bytes_for_context(model, 2, tokens) <= kv.kv_bytes_per_token(model, 2) * tokens
