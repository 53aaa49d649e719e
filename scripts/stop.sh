#!/usr/bin/env bash
# npm stop: stop the supervisor (it stops every service it runs), any service left behind, then Kafka and the local
# ClickHouse server. Use the same GROUPSCOPE_DATA_DIR as npm start.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${GROUPSCOPE_DATA_DIR:-.data}"
case "$data" in /*) ;; *) data="$root/$data" ;; esac
export GROUPSCOPE_DATA_DIR="$data"
run="$data/run"

# a pid file names one of ours only while that process runs our code (pids are reused after a reboot)
ours() { kill -0 "$1" 2>/dev/null && ps -o args= -p "$1" 2>/dev/null | grep -qF -- "$root/"; }

stop_pids() {
  local pid pids=() grace="$1"; shift
  for pid in "$@"; do ours "$pid" && kill -TERM "$pid" && pids+=("$pid"); done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "pid $pid did not stop in $grace s; killing"; kill -KILL "$pid"; fi
  done
}

shopt -s nullglob
if [ -f "$run/supervisor.pid" ] && ours "$(cat "$run/supervisor.pid")"; then
  echo "stopping the services (supervisor pid $(cat "$run/supervisor.pid"))"
  stop_pids 60 "$(cat "$run/supervisor.pid")"
fi
# services left behind by a supervisor that was killed with -9
left=()
for f in "$run"/*.pid; do [ "$(basename "$f")" = supervisor.pid ] || left+=("$(cat "$f")"); done
if [ ${#left[@]} -gt 0 ]; then stop_pids 20 "${left[@]}"; fi
rm -f "$run"/*.pid
bash deploy/kafka/kafka.sh stop
bash deploy/clickhouse/clickhouse.sh stop
