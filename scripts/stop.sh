#!/usr/bin/env bash
# npm stop: stop every service npm start started, then the Kafka broker.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run="${GROUPSCOPE_DATA_DIR:-.data}/run"
shopt -s nullglob
pids=()
for f in "$run"/*.pid; do
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" && pids+=("$pid") && echo "stopping $(basename "$f" .pid) (pid $pid)"; fi
done
for pid in "${pids[@]}"; do
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "pid $pid did not stop in 20 s; killing"; kill -KILL "$pid"; }
done
rm -f "$run"/*.pid
bash deploy/kafka/kafka.sh stop
