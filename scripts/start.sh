#!/usr/bin/env bash
# npm start: install what is missing, build the web UI if needed, then the local ClickHouse server, Kafka
# (KAFKA_NODES, default 1), the TLS material, and every service as its own process under a supervisor; prints the
# endpoints. With CLICKHOUSE_URL or KAFKA_BROKERS set, that server or cluster is used instead of a local one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure.sh
npm -w @groupscope/web run --silent ensure-built
data="${GROUPSCOPE_DATA_DIR:-.data}"
case "$data" in /*) ;; *) data="$root/$data" ;; esac
export GROUPSCOPE_DATA_DIR="$data"

bash deploy/tls/tls.sh
if [ -z "${GATEWAY_TLS_CERT:-}${GATEWAY_TLS_KEY:-}" ]; then
  export GATEWAY_TLS_CERT="$data/tls/server.crt" GATEWAY_TLS_KEY="$data/tls/server.key"
fi

if [ -z "${CLICKHOUSE_URL:-}" ]; then
  bash deploy/clickhouse/clickhouse.sh start
  # CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD of the local server, for every service
  while IFS='=' read -r key value; do export "$key=$value"; done < <(bash deploy/clickhouse/clickhouse.sh env)
fi

if [ -z "${KAFKA_BROKERS:-}" ]; then
  bash deploy/kafka/kafka.sh start
  KAFKA_BROKERS="$(bash deploy/kafka/kafka.sh brokers)"
  nodes="${KAFKA_NODES:-1}"
  export KAFKA_BROKERS KAFKA_REPLICATION_FACTOR="${KAFKA_REPLICATION_FACTOR:-$(( nodes >= 3 ? 3 : nodes ))}"
fi

npx tsx deploy/local/up.ts
