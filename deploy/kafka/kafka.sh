#!/usr/bin/env bash
# Local Apache Kafka (KRaft) for development and tests: one node, or a cluster of KAFKA_NODES nodes on this machine.
# The broker's jars come from Maven Central through Maven (deploy/kafka/pom.xml) and stay out of git.
#   kafka.sh fetch | start | stop | status | wait | brokers
# Node i (1..N) listens on KAFKA_PORT+2(i-1) (clients) and KAFKA_CONTROLLER_PORT+2(i-1) (KRaft controller); nodes 1-3
# are combined broker+controller (a 3-voter quorum when N>=3), further nodes are brokers only. With N>=3 every topic
# and internal topic gets replication factor 3 and min.insync.replicas=2. Each node keeps its data, pid and log in
# KAFKA_DATA_DIR/node-i.
# Environment: KAFKA_NODES (1), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
#              KAFKA_DATA_DIR (<GROUPSCOPE_DATA_DIR>/kafka), KAFKA_HEAP (768m; 512m per node when N>1),
#              KAFKA_CLUSTER_ID (a new random id on first start), KAFKA_READY_TIMEOUT_S (90)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
data="$(abs "${KAFKA_DATA_DIR:-${GROUPSCOPE_DATA_DIR:-$root/.data}/kafka}")"
nodes="${KAFKA_NODES:-1}"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-9093}"
if [ "$nodes" -gt 1 ]; then heap="${KAFKA_HEAP:-512m}"; else heap="${KAFKA_HEAP:-768m}"; fi
lib="$here/lib"

case "$nodes" in ''|*[!0-9]*|0) echo "kafka.sh: KAFKA_NODES must be a positive number, not '$nodes'" >&2; exit 2 ;; esac
voters=$(( nodes >= 3 ? 3 : 1 ))
replication=$(( nodes >= 3 ? 3 : nodes ))
min_isr=$(( nodes >= 3 ? 2 : 1 ))

fetch() {
  if [ -f "$lib/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is required to fetch Kafka's jars" >&2; exit 1; }
  command -v java >/dev/null || { echo "kafka.sh: Java 17+ is required to run Kafka" >&2; exit 1; }
  echo "kafka.sh: fetching Apache Kafka jars with Maven (first run only)..."
  rm -rf "$lib"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime
  touch "$lib/.complete"
}

node_dir() { printf '%s/node-%s' "$data" "$1"; }
broker_port() { echo $(( port + 2 * ($1 - 1) )); }
controller_port() { echo $(( cport + 2 * ($1 - 1) )); }
# a pid file names our node only while that process runs with this node's properties (pids are reused after a reboot)
ours() { kill -0 "$1" 2>/dev/null && ps -o args= -p "$1" 2>/dev/null | grep -qF -- "$2/server.properties"; }
alive() { local dir f; dir="$(node_dir "$1")"; f="$dir/kafka.pid"; [ -f "$f" ] && ours "$(cat "$f")" "$dir"; }
# the nodes this data folder was made with (stop/status/brokers work without KAFKA_NODES)
made_nodes() { if [ -f "$data/nodes" ]; then cat "$data/nodes"; else echo 0; fi; }

write_props() {
  local id="$1" dir; dir="$(node_dir "$1")"
  local roles="broker,controller" listeners="PLAINTEXT://127.0.0.1:$(broker_port "$id"),CONTROLLER://127.0.0.1:$(controller_port "$id")"
  if [ "$id" -gt "$voters" ]; then roles=broker; listeners="PLAINTEXT://127.0.0.1:$(broker_port "$id")"; fi
  local quorum="" v
  for v in $(seq 1 "$voters"); do quorum="$quorum${quorum:+,}$v@127.0.0.1:$(controller_port "$v")"; done
  mkdir -p "$dir/logs"
  cat > "$dir/server.properties" <<PROPS
process.roles=$roles
node.id=$id
controller.quorum.voters=$quorum
listeners=$listeners
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$id")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/logs
num.partitions=4
default.replication.factor=$replication
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=268435456
log.cleaner.enable=true
PROPS
  cat > "$dir/log4j2.yaml" <<'LOG'
Configuration:
  Appenders:
    Console: { name: STDOUT, PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }
  Loggers:
    Root: { level: WARN, AppenderRef: [ { ref: STDOUT } ] }
    Logger: [ { name: kafka.server.KafkaServer, level: INFO }, { name: kafka.server.KafkaRaftServer, level: INFO } ]
LOG
}

brokers_of() { local list="" i; for i in $(seq 1 "$1"); do list="$list${list:+,}127.0.0.1:$(broker_port "$i")"; done; echo "$list"; }

start() {
  fetch
  local made; made="$(made_nodes)"
  if [ "$made" != 0 ] && [ "$made" != "$nodes" ]; then
    echo "kafka.sh: $data holds a $made-node cluster, not $nodes; use another KAFKA_DATA_DIR / GROUPSCOPE_DATA_DIR for $nodes nodes" >&2
    echo "          (or remove $data together with the ClickHouse data written from it)" >&2
    exit 1
  fi
  local i p todo=()
  for i in $(seq 1 "$nodes"); do
    if alive "$i"; then echo "kafka.sh: node $i already running (pid $(cat "$(node_dir "$i")/kafka.pid")) on 127.0.0.1:$(broker_port "$i")"; else todo+=("$i"); fi
  done
  [ ${#todo[@]} -eq 0 ] && return 0
  for i in "${todo[@]}"; do
    for p in "$(broker_port "$i")" "$(controller_port "$i")"; do
      if [ "$i" -gt "$voters" ] && [ "$p" = "$(controller_port "$i")" ]; then continue; fi
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "kafka.sh: 127.0.0.1:$p (node $i) is already in use by another process; set KAFKA_PORT / KAFKA_CONTROLLER_PORT" >&2
        exit 1
      fi
    done
  done
  mkdir -p "$data"
  echo "$nodes" > "$data/nodes"
  brokers_of "$nodes" > "$data/brokers"
  if [ ! -s "$data/cluster.id" ]; then
    if [ -n "${KAFKA_CLUSTER_ID:-}" ]; then echo "$KAFKA_CLUSTER_ID" > "$data/cluster.id"; else node "$here/cluster-id.js" > "$data/cluster.id"; fi
  fi
  local id cp="$lib/*" detach=(nohup)
  id="$(cat "$data/cluster.id")"
  command -v setsid >/dev/null && detach=(setsid nohup)
  for i in "${todo[@]}"; do
    local dir; dir="$(node_dir "$i")"
    write_props "$i"
    # --cluster-id=VALUE: an id that starts with '-' is then still read as the value, never as an option
    java -cp "$cp" kafka.tools.StorageTool format --cluster-id="$id" -c "$dir/server.properties" --ignore-formatted >"$dir/format.out" 2>&1 \
      || { cat "$dir/format.out" >&2; exit 1; }
    # its own session, so it outlives the shell that started it (npm start returns; npm stop ends it)
    "${detach[@]}" java -Xms256m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$dir/log4j2.yaml" \
      -cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/kafka.out" 2>&1 < /dev/null &
    echo $! > "$dir/kafka.pid"
    echo "kafka.sh: node $i started, pid $(cat "$dir/kafka.pid"), 127.0.0.1:$(broker_port "$i") (data $dir)"
  done
}

wait_ready() {
  local n; n="$(made_nodes)"
  [ "$n" = 0 ] && { echo "kafka.sh: no cluster in $data" >&2; exit 1; }
  local i
  for i in $(seq 1 "$n"); do
    alive "$i" || { echo "kafka.sh: node $i exited; last log lines:" >&2; tail -n 30 "$(node_dir "$i")/kafka.out" >&2 || true; exit 1; }
  done
  KAFKA_BROKERS="$(cat "$data/brokers")" node "$here/wait-ready.js" "${KAFKA_READY_TIMEOUT_S:-90}" "$n" || {
    for i in $(seq 1 "$n"); do echo "kafka.sh: node $i, last log lines:" >&2; tail -n 15 "$(node_dir "$i")/kafka.out" >&2 || true; done
    exit 1; }
}

stop() {
  shopt -s nullglob
  local f pid pids=()
  for f in "$data"/node-*/kafka.pid; do
    pid="$(cat "$f")"
    if ours "$pid" "$(dirname "$f")"; then kill -TERM "$pid" && pids+=("$pid"); fi
  done
  if [ ${#pids[@]} -eq 0 ]; then rm -f "$data"/node-*/kafka.pid; echo "kafka.sh: not running"; return 0; fi
  # all nodes at once: each shuts down while the others still answer, instead of the last one waiting for a quorum
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "kafka.sh: pid $pid did not stop in 60 s, killing" >&2; kill -KILL "$pid" || true; fi
  done
  rm -f "$data"/node-*/kafka.pid
  echo "kafka.sh: stopped ${#pids[@]} node(s)"
}

status() {
  local n i up=0; n="$(made_nodes)"
  [ "$n" = 0 ] && { echo "stopped"; exit 1; }
  for i in $(seq 1 "$n"); do
    if alive "$i"; then up=$((up + 1)); echo "node $i running pid $(cat "$(node_dir "$i")/kafka.pid") 127.0.0.1:$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1://p' "$(node_dir "$i")/server.properties")"
    else echo "node $i stopped"; fi
  done
  [ "$up" = "$n" ] || exit 1
}

case "${1:-}" in
  fetch) fetch ;;
  start) start; wait_ready ;;
  stop) stop ;;
  wait) wait_ready ;;
  status) status ;;
  brokers) [ -f "$data/brokers" ] && cat "$data/brokers" || brokers_of "$nodes" ;;
  *) echo "usage: kafka.sh fetch|start|stop|status|wait|brokers" >&2; exit 2 ;;
esac
