#!/usr/bin/env bash
# npm start: install what is missing, build the web UI if needed, start the local Kafka broker and every service,
# print the endpoints.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure.sh
npm -w @groupscope/web run --silent ensure-built
bash deploy/kafka/kafka.sh start
npx tsx deploy/local/up.ts
