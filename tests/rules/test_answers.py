"""The questionnaire contract: defaults, bounds, catalog names and all errors at once."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.rules.answers import (
    ANSWER_FIELDS,
    FIELD_NAMES,
    MAX_CONCURRENT_USERS,
    Answers,
    DeploymentTarget,
    Feature,
    Platform,
    Skill,
    UseCase,
)

GPU = {"gpu": "h100-sxm-80gb"}


def errors_of(data: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(AdvisorValidationError) as info:
        Answers.parse(data, **kwargs)
    return info.value.errors


def test_it_fills_defaults_for_missing_answers():
    answers = Answers.parse(GPU)
    assert answers.use_case is UseCase.PROTOTYPE
    assert answers.peak_concurrent_users == 1
    assert answers.model == "llama-3.1-8b"
    assert answers.gpu_count == 1  # a named GPU without a count is one GPU
    assert answers.features == ()


def test_it_resolves_hf_repo_ollama_tag_and_driver_names_to_catalog_ids():
    answers = Answers.parse(
        {
            "model": "meta-llama/Llama-3.1-70B-Instruct",
            "gpu": "NVIDIA H100 80GB HBM3",
            "quantization": "q4_k_m",
        }
    )
    assert (answers.model, answers.gpu, answers.quantization) == (
        "llama-3.1-70b",
        "h100-sxm-80gb",
        "Q4_K_M",
    )
    assert Answers.parse({"model": "llama3.1:8b", **GPU}).model == "llama-3.1-8b"


def test_it_round_trips_through_as_dict_and_json():
    answers = Answers.parse(
        {
            **GPU,
            "gpu_count": 2,
            "use_case": "production",
            "peak_concurrent_users": "50",
            "features": "metrics, multi_lora",
            "team_skills": ["docker", "python"],
            "slo_ttft_ms": "500",
            "lora_adapters": 3,
        }
    )
    data = json.loads(json.dumps(answers.as_dict()))
    assert Answers.parse(data) == answers
    assert data["features"] == ["multi_lora", "metrics"]  # canonical order
    assert answers.slos == {"slo_ttft_ms": 500.0}


def test_it_reports_every_bad_field_at_once():
    errors = errors_of(
        {
            "use_case": "hobby",
            "peak_concurrent_users": 0,
            "platform": "bsd",
            "model": "no-such-model",
            "gpu": "no-such-gpu",
            "features": ["teleport"],
            "team_skills": "cobol",
            "deployment_target": "moon",
            "slo_ttft_ms": -1,
            "gpu_hourly_cost_usd": "cheap",
            "colour": "blue",
        }
    )
    expected = {"use_case", "peak_concurrent_users", "platform", "model", "gpu", "features",
                "team_skills", "deployment_target", "slo_ttft_ms", "gpu_hourly_cost_usd", "colour"}  # fmt: skip
    assert set(errors) == expected
    assert "at least 1" in errors["peak_concurrent_users"][0]
    assert "auto, linux, macos, windows" in errors["platform"][0]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("peak_concurrent_users", MAX_CONCURRENT_USERS + 1, "at most"),
        ("peak_concurrent_users", 2.5, "whole number"),
        ("peak_concurrent_users", True, "whole number"),
        ("context_length", 100, "at least"),
        ("context_length", 200_000, "maximum context"),
        ("gpu_count", 65, "at most"),
        ("lora_adapters", -1, "at least"),
        ("slo_tpot_ms", 0, "above 0"),
        ("slo_e2e_p95_ms", float("nan"), "a number"),
        ("gpu_hourly_cost_usd", 5000, "at most"),
        ("quantization", "kv-q8_0", "Unknown quantization"),
        ("features", 7, "list of choices"),
        ("custom_model", "config.json", "an object"),
        ("model", "x" * 300, "longer than 200"),
    ],
)
def test_it_names_the_field_for_each_bound(field, value, fragment):
    errors = errors_of({**GPU, field: value})
    assert list(errors) == [field]
    assert fragment in errors[field][0]


def test_it_needs_a_gpu_unless_cpu_only_or_a_report_is_attached():
    assert "hardware report" in errors_of({})["gpu"][0]
    assert Answers.parse({"gpu_count": 0}).cpu_only
    assert Answers.parse({}, hardware_report_attached=True).gpu is None


def test_it_drops_a_gpu_name_when_cpu_only():
    assert Answers.parse({"gpu": "rtx-4090", "gpu_count": 0}).gpu is None


def test_it_rejects_an_apple_gpu_off_macos_and_a_pc_gpu_on_macos():
    assert "macOS" in errors_of({"gpu": "apple-m3-max", "platform": "linux"})["platform"][0]
    assert "Apple" in errors_of({"gpu": "rtx-4090", "platform": "macos"})["gpu"][0]
    assert "exactly one" in errors_of({"gpu": "apple-m3-max", "gpu_count": 2})["gpu_count"][0]


def test_it_rejects_requests_longer_than_the_context():
    errors = errors_of(
        {**GPU, "context_length": 1024, "avg_prompt_tokens": 1000, "avg_output_tokens": 100}
    )
    assert "1100 tokens" in errors["context_length"][0]


def test_it_is_an_advisor_error_with_the_first_field_and_the_api_shape():
    with pytest.raises(AdvisorError) as info:
        Answers.parse({"peak_concurrent_users": "many", **GPU})
    assert info.value.field == "peak_concurrent_users"
    body = info.value.as_dict()
    assert body["errors"] == {"peak_concurrent_users": ["expected a whole number, got 'many'"]}


def test_it_rejects_a_non_object():
    errors = errors_of(["not", "a", "dict"])  # type: ignore[arg-type]
    assert "object" in errors["non_field_errors"][0]


def test_it_describes_every_field_for_the_form():
    fields = Answers.fields()
    assert [f["name"] for f in fields] == list(FIELD_NAMES)
    by_name = {f["name"]: f for f in fields}
    assert by_name["peak_concurrent_users"]["minimum"] == 1
    assert {c["value"] for c in by_name["platform"]["choices"]} == {p.value for p in Platform}
    assert {c["value"] for c in by_name["features"]["choices"]} == {f.value for f in Feature}
    assert {c["value"] for c in by_name["team_skills"]["choices"]} == {s.value for s in Skill}
    assert {c["value"] for c in by_name["deployment_target"]["choices"]} == {
        d.value for d in DeploymentTarget
    }
    assert by_name["model"]["catalog"] == "models" and by_name["model"]["required"]
    assert all(f["help"] for f in fields)  # every question says why it matters
    json.dumps(fields)


LLAMA_8B_CONFIG = {
    "model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
    "intermediate_size": 14336, "torch_dtype": "bfloat16",
}  # fmt: skip


def test_it_accepts_a_custom_model_from_its_config_json():
    answers = Answers.parse({**GPU, "model": "acme/chat-8b", "custom_model": LLAMA_8B_CONFIG})
    assert answers.model == "acme/chat-8b" and answers.custom_model == LLAMA_8B_CONFIG
    too_long = errors_of({**GPU, "model": "acme/chat-8b", "custom_model": {**LLAMA_8B_CONFIG,
                          "max_position_embeddings": 4096}})  # fmt: skip
    assert "maximum context of 4096" in too_long["context_length"][0]


def test_it_names_the_field_for_a_bad_custom_model():
    errors = errors_of({**GPU, "model": "my-model", "custom_model": {"architectures": ["Nope"]}})
    assert list(errors) == ["custom_model"]
    assert "num_hidden_layers" in errors["custom_model"][0]
    errors = errors_of({**GPU, "model": "rm -rf /;", "custom_model": LLAMA_8B_CONFIG})
    assert list(errors) == ["model"]


@settings(max_examples=60, deadline=None)
@given(
    users=st.integers(min_value=1, max_value=MAX_CONCURRENT_USERS),
    use_case=st.sampled_from(list(UseCase)),
    features=st.sets(st.sampled_from(list(Feature))),
)
def test_it_round_trips_any_valid_answers(users, use_case, features):
    data = {**GPU, "peak_concurrent_users": users, "use_case": use_case.value,
            "features": sorted(f.value for f in features)}  # fmt: skip
    answers = Answers.parse(data)
    assert Answers.parse(answers.as_dict()) == answers


def test_it_describes_exactly_the_dataclass_fields():
    import dataclasses

    assert [f.name for f in dataclasses.fields(Answers)] == [f.name for f in ANSWER_FIELDS]


def test_it_survives_a_bad_platform_next_to_a_gpu():
    errors = errors_of({"gpu": "apple-m3-max", "platform": "amiga", "gpu_count": "x"})
    assert set(errors) == {"platform", "gpu_count"}


# ---- vLLM's own flags and the readings of the user's servers ------------------------------------

SEVENTY_B_ON_FOUR = {"model": "llama-3.3-70b", "gpu": "a100-sxm-80gb", "gpu_count": 4}
# vLLM 0.11 on Qwen3-14B, as logged in LMCache/LMCache issue 1739.
VLLM_LOG = (
    "(EngineCore_DP0 pid=1133552) INFO 10-03 16:22:17 [gpu_worker.py:298] "
    "Available KV cache memory: 6.51 GiB\n"
)


def test_it_takes_vllms_flags_and_the_pasted_readings_under_their_flag_names():
    answers = Answers.parse(
        SEVENTY_B_ON_FOUR
        | {
            "tensor_parallel_size": 4,
            "data_parallel_size": "1",
            "max_num_seqs": 256,
            "max_num_batched_tokens": 8192,
            "gpu_memory_utilization": "0.9",
            "kv_cache_dtype": "FP8",
            "vllm_version": "0.10.1",
            "vllm_log": VLLM_LOG,
        }
    )
    assert (answers.tensor_parallel_size, answers.data_parallel_size) == (4, 1)
    assert (answers.max_num_seqs, answers.max_num_batched_tokens) == (256, 8192)
    assert answers.gpu_memory_utilization == 0.9 and answers.kv_cache_dtype == "fp8"
    assert answers.vllm_version == "0.10.1" and answers.readings == {"vllm_log": VLLM_LOG.strip()}
    assert Answers.parse(json.loads(json.dumps(answers.as_dict()))) == answers


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"tensor_parallel_size": 3}, "tensor_parallel_size", "1, 2, 4 or 8 work"),
        ({"tensor_parallel_size": 8}, "tensor_parallel_size", "more than the 4 GPUs"),
        ({"tensor_parallel_size": 2, "data_parallel_size": 4}, "data_parallel_size", "is 8"),
        ({"gpu_count": 0, "gpu": None, "tensor_parallel_size": 2}, "tensor_parallel_size", "CPU"),
        ({"max_num_seqs": 512, "max_num_batched_tokens": 256}, "max_num_batched_tokens", "512"),
        ({"gpu_memory_utilization": 0}, "gpu_memory_utilization", "at least 0.01"),
        ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization", "at most 1"),
        ({"kv_cache_dtype": "int8"}, "kv_cache_dtype", "not one of auto, fp8"),
        ({"vllm_version": "0.5.0"}, "vllm_version", "predates"),
        ({"vllm_version": "latest"}, "vllm_version", "latest"),
        ({"vllm_log": "INFO Starting vLLM API server"}, "vllm_log", "paste the start-up log"),
        ({"vllm_log": "Model loading took 14.9 GiB"}, "vllm_log", "Available KV cache memory"),
        ({"vllm_metrics": "vllm:num_requests_running 0"}, "vllm_metrics", "cache_config_info"),
        ({"ollama_ps": "time=... msg=listening"}, "ollama_ps", "No Ollama load line"),
        ({"ollama_ps": "offloaded 20/33 layers to GPU"}, "ollama_ps", "ollama ps"),
        ({"vllm_log": "x" * 500_001}, "vllm_log", "paste the start-up part"),
    ],
)
def test_it_names_the_vllm_setting_vllm_would_refuse(changes, field, says):
    data = {k: v for k, v in (SEVENTY_B_ON_FOUR | changes).items() if v is not None}
    errors = errors_of(data)
    assert list(errors) == [field] and says in errors[field][0]


def test_it_leaves_the_gpu_checks_to_the_report_when_one_decides_the_gpus():
    answers = Answers.parse(
        {"model": "llama-3.3-70b", "tensor_parallel_size": 8}, hardware_report_attached=True
    )
    assert answers.tensor_parallel_size == 8 and answers.gpu_count is None


def test_another_setup_drops_the_parallel_sizes_and_the_readings_of_this_one():
    answers = Answers.parse(
        SEVENTY_B_ON_FOUR | {"tensor_parallel_size": 4, "max_num_seqs": 128, "vllm_log": VLLM_LOG}
    )
    other = answers.on_other_setup(quantization="fp8")
    assert other.quantization == "fp8" and other.max_num_seqs == 128
    assert other.tensor_parallel_size is None and other.readings == {}
