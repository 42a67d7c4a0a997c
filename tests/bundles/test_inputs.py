"""BundleInput is built from the stored dicts: their producers' keys read strictly, bad values refused."""

from __future__ import annotations

import pytest

from advisor.bundles import bundle_input_from
from advisor.capacity.estimate import EstimateRequest
from advisor.capacity.estimate import estimate as capacity_estimate
from advisor.capacity.specs import Vendor
from advisor.capacity.vllm import DEFAULT_GPU_MEMORY_UTILIZATION
from advisor.errors import AdvisorError
from probes.kinds import Backend
from tests.bundles.factories import answers, estimate, recommendation


def test_it_sizes_from_the_answers_and_the_servers_defaults_without_an_estimate():
    inp = bundle_input_from(recommendation("ollama"), None, answers(model="llama3.1:8b"))
    assert inp.backend is Backend.OLLAMA
    assert inp.ollama_tag == "llama3.1:8b"
    assert inp.ollama.num_ctx == inp.context_length
    assert inp.vllm.tensor_parallel_size == 1
    assert inp.vllm.gpu_memory_utilization == DEFAULT_GPU_MEMORY_UTILIZATION


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("vllm", "max_num_seqs"),
        ("vllm", "gpu_memory_utilization"),
        ("vllm", "tensor_parallel_size"),
        ("vllm", "data_parallel_size"),
        ("ollama", "num_parallel"),
        ("ollama", "kv_cache_type"),
        (None, "plan"),
        (None, "ollama_weights_bytes"),
    ],
)
def test_a_renamed_estimate_key_fails_instead_of_falling_back(section, key):
    est = estimate()
    where = est["plan"][section] if section else est
    where[f"{key}_renamed"] = where.pop(key)
    with pytest.raises(KeyError):
        bundle_input_from(recommendation("ollama"), est, answers())


@pytest.mark.parametrize("key", ["model", "context_length", "deployment_target", "features"])
def test_a_renamed_answer_fails_instead_of_falling_back(key):
    ans = answers()
    ans[f"{key}_renamed"] = ans.pop(key)
    with pytest.raises(KeyError):
        bundle_input_from(recommendation(), None, ans)


def test_it_takes_the_tuned_numbers_from_the_estimate():
    est = estimate(
        plan={"vllm": {"tensor_parallel_size": 2, "data_parallel_size": 2, "max_num_seqs": 512,
                       "max_model_len": 32768}}
    )  # fmt: skip
    inp = bundle_input_from(recommendation(), est, answers(gpu_count=4))
    assert (inp.vllm.tensor_parallel_size, inp.vllm.data_parallel_size) == (2, 2)
    assert (inp.vllm.gpus, inp.vllm.max_num_seqs, inp.vllm.max_model_len) == (4, 512, 32768)
    assert inp.vllm.kv_cache_tokens == est["plan"]["vllm"]["kv_cache_tokens"]


def test_it_maps_a_catalog_model_to_both_servers_names():
    inp = bundle_input_from(recommendation(), None, answers(model="llama3.1:8b"))
    assert inp.ollama_tag == "llama3.1:8b"
    assert "/" in inp.hf_repo  # the catalog's Hugging Face repo id


def test_it_uses_a_custom_model_id_for_both_servers():
    inp = bundle_input_from(recommendation(), None, answers(model="acme/private-model-7b"))
    assert inp.hf_repo == inp.ollama_tag == "acme/private-model-7b"


def test_it_collects_reasons_by_kind():
    inp = bundle_input_from(recommendation(), estimate(), answers())
    kinds = [reason.kind for reason in inp.reasons]
    assert kinds == ["decisive", "supporting", "opposing"]
    assert inp.reasons[0].rule_id == "workload.concurrency"
    assert inp.migration  # a dict of notes became lines


@pytest.mark.parametrize(
    ("gpu", "count", "vendor"),
    [
        ("NVIDIA H100 80GB HBM3", 1, Vendor.NVIDIA),
        ("AMD Instinct MI300X", 1, Vendor.AMD),
        ("Apple M3 Max", 1, Vendor.APPLE),
        ("NVIDIA H100 80GB HBM3", 0, None),
    ],
)
def test_it_finds_the_gpu_vendor(gpu, count, vendor):
    assert (
        bundle_input_from(recommendation(), None, answers(gpu=gpu, gpu_count=count)).gpu_vendor
        is vendor
    )


@pytest.mark.parametrize(
    ("rec", "est", "ans", "field"),
    [
        ({"backend": "llamacpp"}, None, {"model": "x"}, "backend"),
        ({}, None, {"model": "bad name"}, "model"),
        ({}, None, {"model": ""}, "model"),
        ({}, {"plan": {"vllm": {"max_num_seqs": -3}}}, {"model": "x"}, "max_num_seqs"),
        (
            {},
            {"plan": {"vllm": {"tensor_parallel_size": 1.5}}},
            {"model": "x"},
            "tensor_parallel_size",
        ),
        ({}, {"plan": {"ollama": {"kv_cache_type": "q2"}}}, {"model": "x"}, "kv_cache_type"),
        ({}, None, {"model": "x", "gpu_count": "two"}, "gpu_count"),
        ({}, None, {"model": "x", "context_length": True}, "context_length"),
        ({"confidence": "high"}, None, {"model": "x"}, "confidence"),
        # A number the settings need, missing: an error naming it, not a None in the files.
        ({}, None, {"model": "x", "context_length": None}, "context_length"),
        ({}, {"plan": {"vllm": {"max_model_len": ""}}}, {"model": "x"}, "max_model_len"),
    ],
)
def test_it_refuses_bad_values_naming_the_field(rec, est, ans, field):
    with pytest.raises(AdvisorError) as caught:
        bundle_input_from(recommendation(**rec), estimate(**est) if est else None, answers(**ans))
    assert caught.value.field == field


def test_it_keeps_free_text_to_one_printable_line():
    inp = bundle_input_from(recommendation(), None, answers(gpu="H100\nkind: Secret\x00"))
    assert "\n" not in inp.gpu_name and "\x00" not in inp.gpu_name


def test_it_renders_the_other_backend_on_request():
    inp = bundle_input_from(recommendation("vllm"), None, answers(), backend="ollama")
    assert inp.backend is Backend.OLLAMA and inp.other_backend is Backend.VLLM


def test_it_reads_the_rules_engines_trigger_warning_and_migration_shapes():
    rec = recommendation(
        warnings=[{"id": "busy", "message": "Ollama queues at 30 users", "level": "warning"}],
        switch_triggers=[
            {"id": "users", "condition": "peak concurrent users above 4", "becomes": "vllm"}
        ],
        migration={
            "path": "Prototype on Ollama, serve on vLLM",
            "ollama": {"model": "llama3.1:8b"},
            "steps": ["Start vLLM next to Ollama"],
            "notes": ["Both servers speak the OpenAI API"],
            "code_change": {"before": "OpenAI(base_url=a)", "after": "OpenAI(base_url=b)"},
        },
    )
    inp = bundle_input_from(rec, None, answers())
    assert inp.warnings == ("Ollama queues at 30 users",)
    assert inp.switch_triggers == ("peak concurrent users above 4 (then: vllm)",)
    assert inp.migration[:3] == (
        "Prototype on Ollama, serve on vLLM",
        "Start vLLM next to Ollama",
        "Both servers speak the OpenAI API",
    )
    assert "becomes" in inp.migration[3]


def test_it_renders_ollama_as_we_set_it_not_as_installed():
    est = estimate()
    installed, tuned = est["plan"]["ollama_installed"], est["plan"]["ollama"]
    assert (installed["num_ctx"], installed["num_parallel"]) != (
        tuned["num_ctx"],
        tuned["num_parallel"],
    )
    inp = bundle_input_from(recommendation("ollama"), est, answers())
    assert (inp.ollama.num_ctx, inp.ollama.num_parallel) == (
        tuned["num_ctx"],
        tuned["num_parallel"],
    )
    assert inp.ollama.memory_bytes == tuned["memory_bytes"]
    assert inp.weights_bytes == est["ollama_weights_bytes"] < est["weights_bytes"]  # the GGUF


def test_it_names_the_gpu_as_the_estimate_resolved_it():
    est = estimate()
    est["gpu"].update(id="h100-sxm-80gb", name="NVIDIA H100 SXM 80GB", vendor="nvidia")
    rec = recommendation(facts={"gpu": "h100-sxm-80gb"})
    inp = bundle_input_from(rec, est, answers())
    assert inp.gpu_name == "NVIDIA H100 SXM 80GB"


def test_it_turns_flash_attention_on_whenever_the_kv_cache_is_quantized():
    request = EstimateRequest(model="llama-3.1-8b", gpu_count=0, kv_cache_dtype="q4_0")
    est = capacity_estimate(request).as_dict()
    inp = bundle_input_from(recommendation("ollama"), est, answers(gpu_count=0))
    assert inp.ollama.flash_attention and inp.ollama.kv_cache_type == "q4_0"
