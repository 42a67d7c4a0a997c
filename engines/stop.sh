#!/usr/bin/env bash
# Stop the engines started by engines/start.sh (their pid files under the engines cache): TERM to
# each process group, then KILL after a grace period. Stopping an engine that is not running is fine.
#   engines/stop.sh [all|llamacpp|vllm]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

GRACE_S="${ADVISOR_ENGINES_STOP_GRACE_S:-20}"

stop_one() {
  local name="$1" file pid
  file="$(pid_file "$name")"
  if ! [[ -f "$file" ]]; then
    say "$name: not running (no pid file)"
    return
  fi
  pid="$(cat "$file")"
  if ! kill -0 "$pid" 2>/dev/null; then
    say "$name: not running (stale pid $pid)"
    rm -f "$file" "$RUN_DIR/$name.isa"
    return
  fi
  say "$name: stopping (pid $pid and its process group)"
  # start.sh runs each engine under setsid, so its pid is its process group id: vLLM's engine-core
  # child goes with it.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$GRACE_S"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name: still running after ${GRACE_S} s; killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file" "$RUN_DIR/$name.startup_s" "$RUN_DIR/$name.isa"
  say "$name: stopped"
}

which="${1:-all}"
case "$which" in
all) stop_one llamacpp; stop_one vllm ;;
llamacpp | vllm) stop_one "$which" ;;
*) die "unknown engine $which (expected all, llamacpp or vllm)" ;;
esac
