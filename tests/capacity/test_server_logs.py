"""Reading a user's own vLLM and Ollama output, on lines copied from public sources."""

import pytest

from advisor.capacity.server_logs import (
    measured_fields,
    parse_ollama_load,
    parse_vllm_metrics,
    parse_vllm_startup_log,
)
from advisor.capacity.specs import GIB, MIB
from advisor.errors import AdvisorError

# LMCache/LMCache issue 1739 (vLLM 0.11, Qwen3-14B).
V1_LOG = """\
(EngineCore_DP0 pid=1133552) INFO 10-03 16:22:17 [gpu_worker.py:298] Available KV cache memory: 6.51 GiB
(EngineCore_DP0 pid=1133552) INFO 10-03 16:22:17 [kv_cache_utils.py:864] GPU KV cache size: 42,656 tokens
(EngineCore_DP0 pid=1133552) INFO 10-03 16:22:17 [kv_cache_utils.py:868] Maximum concurrency for 32,768 tokens per request: 1.30x
"""
# vllm-project/vllm issue 10517 (V0, RTX 3090): a refused start.
V0_REFUSED = """\
Loading model weights took 14.9888 GB
Memory profiling results: total_gpu_memory=23.58GiB initial_memory_usage=15.34GiB peak_torch_memory=17.98GiB memory_usage_post_profile=15.35GiB non_torch_memory=0.35GiB kv_cache_size=2.89GiB gpu_memory_utilization=0.90
# GPU blocks: 1478, # CPU blocks: 2048
Maximum concurrency for 29000 tokens per request: 0.82x
The model's max seq len (29000) is larger than the maximum number of tokens that can be stored in KV cache (23648). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.
"""
# vllm-project/vllm issue 23278 (0.10.1, gpt-oss-120b on an H100).
V1_NEGATIVE = """\
(EngineCore_0 pid=5839) INFO 08-20 18:04:10 [gpu_model_runner.py:2007] Model loading took 65.9651 GiB and 12.799889 seconds
(EngineCore_0 pid=5839) INFO 08-20 18:04:22 [gpu_worker.py:276] Available KV cache memory: -2.14 GiB
(EngineCore_0 pid=5839) ERROR 08-20 18:04:22 [core.py:700] EngineCore failed to start.
"""
# vLLM's cache_config_info gauge as a 0.26 /metrics page prints it (quoted in public test fixtures).
METRICS = (
    "# TYPE vllm:cache_config_info gauge\n"
    'vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",'
    'engine="0",gpu_memory_utilization="0.45",kv_cache_size_tokens="218464",'
    'num_gpu_blocks="24978",prefix_caching_hash_algo="sha256",sliding_window="None"} 1.0\n'
)
# ollama/ollama docs/api.md, "List Running Models" response.
API_PS = """{
  "models": [
    {
      "name": "mistral:latest",
      "model": "mistral:latest",
      "size": 5137025024,
      "digest": "2ae6f6dd7a3dd734790bbbf58b8909a606e0e7e97e94b7604e0aa7ae4490e6d8",
      "expires_at": "2024-06-04T14:38:31.83753-07:00",
      "size_vram": 5137025024
    }
  ]
}"""
# Ollama's llama-server load lines on a DGX Spark (GB10), as quoted in a public write-up.
OLLAMA_LOG = """\
load_tensors: offloaded 33/33 layers to GPU
load_tensors:        CUDA0 model buffer size =  4155.99 MiB
llama_kv_cache:        CUDA0 KV buffer size = 16384.00 MiB
"""


def test_it_reads_the_v1_start_up_lines():
    log = parse_vllm_startup_log(V1_LOG)
    assert log.available_kv_cache_bytes == int(6.51 * GIB)
    assert log.kv_cache_tokens == 42656
    assert (log.max_model_len, log.max_concurrency) == (32768, 1.30)
    assert not log.refused


def test_it_reads_the_0_33_single_line_form():
    """0.33 prints tokens and concurrency on one line (kv_cache_utils.py update_kv_cache_capacity)."""
    line = (
        "INFO [kv_cache_utils.py:1147] GPU KV cache size: 178,880 tokens, "
        "Maximum concurrency for 40,960 tokens per request: 4.37x"
    )
    log = parse_vllm_startup_log(line)
    assert (log.kv_cache_tokens, log.max_model_len, log.max_concurrency) == (178880, 40960, 4.37)


def test_it_reads_a_v0_log_and_sees_the_refusal():
    log = parse_vllm_startup_log(V0_REFUSED)
    assert log.available_kv_cache_bytes == int(2.89 * GIB)
    assert log.num_gpu_blocks == 1478
    assert log.weights_bytes == int(14.9888 * GIB)
    assert log.total_gpu_memory_bytes == int(23.58 * GIB)
    assert log.refused


def test_it_reads_a_negative_budget():
    log = parse_vllm_startup_log(V1_NEGATIVE)
    assert log.available_kv_cache_bytes == int(-2.14 * GIB)
    assert log.weights_bytes == int(65.9651 * GIB)


def test_it_reads_cache_config_info_from_metrics():
    info = parse_vllm_metrics(METRICS)
    assert (info.num_gpu_blocks, info.block_size) == (24978, 16)
    assert info.gpu_memory_utilization == 0.45 and info.cache_dtype == "auto"


@pytest.mark.parametrize(
    ("parser", "text", "field"),
    [
        (parse_vllm_metrics, "vllm:num_requests_running 0\n", "vllm_metrics"),
        (parse_vllm_metrics, 'vllm:cache_config_info{block_size="16"} 1.0\n', "vllm_metrics"),
        (parse_vllm_startup_log, "INFO Starting vLLM API server", "vllm_log"),
        (parse_ollama_load, "time=... msg=listening", "ollama_log"),
        (parse_ollama_load, '{"models": []}', "ollama_log"),
        (parse_ollama_load, "{not json", "ollama_log"),
    ],
)
def test_it_says_when_the_text_holds_nothing_it_can_read(parser, text, field):
    with pytest.raises(AdvisorError) as error:
        parser(text)
    assert error.value.field == field


def test_it_reads_api_ps():
    load = parse_ollama_load(API_PS)
    assert load.size_bytes == load.size_vram_bytes == 5137025024
    assert load.gpu_fraction == 1.0


def test_it_reads_ollama_load_lines():
    load = parse_ollama_load(OLLAMA_LOG)
    assert (load.gpu_layers, load.total_layers) == (33, 33)
    assert load.weights_vram_bytes == int(4155.99 * MIB)
    assert load.kv_cache_bytes == int(16384 * MIB)
    assert load.gpu_fraction == 1.0


# `ollama ps` as cmd/cmd.go ListRunningHandler prints it (SIZE in decimal GB, whole from 10 up).
OLLAMA_PS = """\
NAME                    ID              SIZE     PROCESSOR          CONTEXT    UNTIL
llama3.1:70b            711a9e8463af    49 GB    38%/62% CPU/GPU    8192       4 minutes from now
"""


def test_it_reads_the_ollama_ps_table():
    load = parse_ollama_load(OLLAMA_PS)
    assert load.size_bytes == 49_000_000_000
    assert load.size_vram_bytes == 30_380_000_000 and load.gpu_fraction == 0.62


def test_it_measures_ollamas_size_from_api_ps_the_table_or_load_lines_on_the_gpu():
    assert measured_fields(ollama_ps=API_PS) == {"ollama_measured_size_gib": 5137025024 / GIB}
    assert measured_fields(ollama_ps=OLLAMA_PS) == {"ollama_measured_size_gib": 49e9 / GIB}
    # Every layer on the GPU: the model's memory is llama.cpp's buffers there.
    size = measured_fields(ollama_ps=OLLAMA_LOG)["ollama_measured_size_gib"]
    assert size == int(4155.99 * MIB + 16384 * MIB) / GIB


def test_it_refuses_load_lines_that_leave_layers_on_the_cpu():
    with pytest.raises(AdvisorError) as error:
        measured_fields(ollama_ps="load_tensors: offloaded 20/33 layers to GPU\n")
    assert error.value.field == "ollama_ps" and "ollama ps" in error.value.message
