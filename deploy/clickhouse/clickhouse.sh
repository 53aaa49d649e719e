#!/usr/bin/env bash
# Local ClickHouse server from the engine the npm package `chdb` ships (libchdb): clickhouse-local with its HTTP
# listener, run by a small native launcher (launcher.c, built with the system C compiler). See deploy/README.md.
#   clickhouse.sh build | start | stop | status | wait | env
# Environment: CLICKHOUSE_HTTP_PORT (8123), CLICKHOUSE_TCP_PORT (unset: no native-protocol listener),
#   CLICKHOUSE_DATA_DIR (<GROUPSCOPE_DATA_DIR>/clickhouse), CLICKHOUSE_LOG_LEVEL (warning),
#   CLICKHOUSE_MAX_MEMORY_RATIO (0.5 of RAM), CLICKHOUSE_READY_TIMEOUT_S (90), CHDB_LIBCHDB_PATH (the library)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
data_root="$(abs "${GROUPSCOPE_DATA_DIR:-$root/.data}")"
dir="$(abs "${CLICKHOUSE_DATA_DIR:-$data_root/clickhouse}")"
port="${CLICKHOUSE_HTTP_PORT:-8123}"
tcp_port="${CLICKHOUSE_TCP_PORT:-}"
bin="$here/build/gs-clickhouse"
pidfile="$dir/clickhouse.pid"
credentials="$dir/credentials"
logs="$dir/logs"
out="$logs/launcher.log"
user=groupscope
keepalive_id=groupscope-keepalive

build() {
  if [ -x "$bin" ] && [ "$bin" -nt "$here/launcher.c" ]; then return 0; fi
  command -v cc >/dev/null || { echo "clickhouse.sh: a C compiler (cc) is needed to build the launcher" >&2; exit 1; }
  mkdir -p "$here/build"
  local libs=(-lpthread)
  [ "$(uname -s)" = Linux ] && libs+=(-ldl)
  cc -O2 -Wall -Wextra -o "$bin.tmp" "$here/launcher.c" "${libs[@]}"
  mv "$bin.tmp" "$bin"
  echo "clickhouse.sh: built $bin"
}

library() {
  # node's resolution of the platform package chdb depends on (honours CHDB_LIBCHDB_PATH)
  (cd "$root" && node -e 'process.stdout.write(require("chdb/libchdb").libchdbPath())')
}

# the pid file names our server only while that process serves this data folder (pids are reused after a reboot)
running() { [ -f "$pidfile" ] && ps -o args= -p "$(cat "$pidfile")" 2>/dev/null | grep -qF -- "--path=$dir/data/"; }

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

sha256() { if command -v sha256sum >/dev/null; then sha256sum | cut -d' ' -f1; else shasum -a 256 | cut -d' ' -f1; fi; }

credential() { sed -n "s/^$1=//p" "$credentials" 2>/dev/null; }

# The service user's password is made once and kept; the file also names the current URL for scripts and services.
write_credentials() {
  local password
  password="$(credential CLICKHOUSE_PASSWORD || true)"
  if [ -z "$password" ]; then password="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"; fi
  (umask 077 && printf 'CLICKHOUSE_URL=http://127.0.0.1:%s\nCLICKHOUSE_USER=%s\nCLICKHOUSE_PASSWORD=%s\n' "$port" "$user" "$password" > "$credentials.tmp")
  mv "$credentials.tmp" "$credentials"
  chmod 600 "$credentials"
}

write_config() {
  local hash
  hash="$(printf '%s' "$(credential CLICKHOUSE_PASSWORD)" | sha256)"
  # `default` runs the launching query (SYSTEM START LISTEN, then the keep-alive), so it stays password-less on
  # loopback with only what that needs; anonymous clients get ACCESS_DENIED on every table.
  (umask 077 && cat > "$dir/users.xml" <<XML
<clickhouse>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users>
    <default>
      <no_password/>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants>
        <query>GRANT SYSTEM LISTEN ON *.*</query>
        <query>GRANT SELECT ON system.numbers</query>
      </grants>
    </default>
    <$user>
      <password_sha256_hex>$hash</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
    </$user>
  </users>
</clickhouse>
XML
)
  cat > "$dir/config.xml" <<XML
<clickhouse>
  <logger>
    <log>$logs/clickhouse.log</log>
    <errorlog>$logs/clickhouse.err.log</errorlog>
    <size>50M</size>
    <count>3</count>
    <console>0</console>
  </logger>
  <users_config>$dir/users.xml</users_config>
  <max_server_memory_usage_to_ram_ratio>${CLICKHOUSE_MAX_MEMORY_RATIO:-0.5}</max_server_memory_usage_to_ram_ratio>
</clickhouse>
XML
}

start() {
  build
  if running; then echo "clickhouse.sh: already running (pid $(cat "$pidfile")) on http://127.0.0.1:$port (data $dir)"; return 0; fi
  for p in "$port" $tcp_port; do
    if in_use "$p"; then
      echo "clickhouse.sh: 127.0.0.1:$p is already in use by another process; set CLICKHOUSE_HTTP_PORT / CLICKHOUSE_TCP_PORT" >&2
      exit 1
    fi
  done
  local lib
  lib="$(library)" || { echo "clickhouse.sh: the ClickHouse library of the npm package chdb was not found (npm install?)" >&2; exit 1; }
  mkdir -p "$dir/data" "$logs"
  write_credentials
  write_config
  local listen="SYSTEM START LISTEN HTTP;" args=(--http_port="$port")
  if [ -n "$tcp_port" ]; then listen="$listen SYSTEM START LISTEN TCP;"; args+=(--tcp_port="$tcp_port"); fi
  # the listener lives while this query runs; FORMAT Null keeps its (endless) result out of the log
  local keepalive="SELECT sleepEachRow(1) FROM system.numbers SETTINGS max_block_size = 1 FORMAT Null"
  local detach=(nohup)
  command -v setsid >/dev/null && detach=(setsid nohup)
  # its own session, so it outlives the shell that started it
  "${detach[@]}" "$bin" --lib="$lib" --stop-port="$port" --stop-query-id="$keepalive_id" --stop-credentials="$credentials" -- \
    --config-file="$dir/config.xml" --log-level="${CLICKHOUSE_LOG_LEVEL:-warning}" --path="$dir/data/" --listen_host=127.0.0.1 "${args[@]}" \
    --query_id="$keepalive_id" --multiquery --query "$listen $keepalive" >>"$out" 2>&1 </dev/null &
  echo $! > "$pidfile"
  echo "clickhouse.sh: started pid $(cat "$pidfile") on http://127.0.0.1:$port (data $dir)"
}

wait_ready() {
  if ! node "$here/ready.js" "$credentials" "${CLICKHOUSE_READY_TIMEOUT_S:-90}" "$(cat "$pidfile" 2>/dev/null)"; then
    echo "clickhouse.sh: not ready; last log lines:" >&2
    tail -n 20 "$out" "$logs/clickhouse.err.log" >&2 2>/dev/null || true
    exit 1
  fi
}

stop() {
  if ! running; then rm -f "$pidfile"; echo "clickhouse.sh: not running"; return 0; fi
  local pid; pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "clickhouse.sh: server did not stop in 60 s, killing" >&2; kill -KILL "$pid" || true; fi
  rm -f "$pidfile"
  echo "clickhouse.sh: stopped"
}

case "${1:-}" in
  build) build ;;
  start) start; wait_ready ;;
  stop) stop ;;
  wait) wait_ready ;;
  status) if running; then echo "running pid $(cat "$pidfile") $(credential CLICKHOUSE_URL) (data $dir)"; else echo "stopped"; exit 1; fi ;;
  env) cat "$credentials" ;;
  *) echo "usage: clickhouse.sh build|start|stop|status|wait|env" >&2; exit 2 ;;
esac
