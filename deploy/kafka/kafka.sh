#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) for development and tests.
# The broker's jars come from Maven Central through Maven (deploy/kafka/pom.xml) and stay out of git.
#   kafka.sh fetch | start | stop | status | wait
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (<repo>/.data/kafka),
#              KAFKA_HEAP (768m), KAFKA_READY_TIMEOUT_S (90)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-9093}"
data="${KAFKA_DATA_DIR:-$root/.data/kafka}"
heap="${KAFKA_HEAP:-768m}"
lib="$here/lib"
pidfile="$data/kafka.pid"
props="$data/server.properties"
log="$data/kafka.out"

fetch() {
  if [ -f "$lib/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is required to fetch Kafka's jars" >&2; exit 1; }
  command -v java >/dev/null || { echo "kafka.sh: Java 17+ is required to run Kafka" >&2; exit 1; }
  echo "kafka.sh: fetching Apache Kafka jars with Maven (first run only)..."
  rm -rf "$lib"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime
  touch "$lib/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

write_props() {
  mkdir -p "$data/logs"
  cat > "$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/logs
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=268435456
log.cleaner.enable=true
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
PROPS
}

start() {
  fetch
  if running; then echo "kafka.sh: already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; return 0; fi
  for p in "$port" "$cport"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "kafka.sh: 127.0.0.1:$p is already in use by another process; set KAFKA_PORT / KAFKA_CONTROLLER_PORT" >&2
      exit 1
    fi
  done
  write_props
  local cp="$lib/*"
  if [ ! -f "$data/cluster.id" ]; then
    # 16 random bytes, base64url without padding: what StorageTool random-uuid prints
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' > "$data/cluster.id"
  fi
  java -cp "$cp" kafka.tools.StorageTool format -t "$(cat "$data/cluster.id")" -c "$props" --ignore-formatted >"$data/format.out" 2>&1 \
    || { cat "$data/format.out" >&2; exit 1; }
  cat > "$data/log4j2.yaml" <<'LOG'
Configuration:
  Appenders:
    Console: { name: STDOUT, PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }
  Loggers:
    Root: { level: WARN, AppenderRef: [ { ref: STDOUT } ] }
    Logger: [ { name: kafka.server.KafkaServer, level: INFO }, { name: kafka.server.KafkaRaftServer, level: INFO } ]
LOG
  # its own session, so it outlives the shell that started it (npm start returns; npm stop ends it)
  setsid nohup java -Xms256m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$data/log4j2.yaml" \
    -cp "$cp" kafka.Kafka "$props" >"$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  echo "kafka.sh: started pid $(cat "$pidfile") on 127.0.0.1:$port (data $data)"
}

wait_ready() {
  running || { echo "kafka.sh: broker exited; last log lines:" >&2; tail -n 30 "$log" >&2 || true; exit 1; }
  KAFKA_BROKERS="127.0.0.1:$port" node "$here/wait-ready.js" "${KAFKA_READY_TIMEOUT_S:-90}" || {
    echo "kafka.sh: broker not ready; last log lines:" >&2; tail -n 30 "$log" >&2 || true; exit 1; }
}

stop() {
  if ! running; then rm -f "$pidfile"; echo "kafka.sh: not running"; return 0; fi
  local pid; pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "kafka.sh: broker did not stop in 30 s, killing" >&2; kill -KILL "$pid" || true; fi
  rm -f "$pidfile"
  echo "kafka.sh: stopped"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start; wait_ready ;;
  stop) stop ;;
  wait) wait_ready ;;
  status) if running; then echo "running pid $(cat "$pidfile") 127.0.0.1:$port"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: kafka.sh fetch|start|stop|status|wait" >&2; exit 2 ;;
esac
