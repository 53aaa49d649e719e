#!/usr/bin/env bash
# npm test: install what is missing, type-check, lint, then every jest suite (unit, integration, end-to-end).
# Jest's global set-up starts Kafka and a ClickHouse server if none is given, and its teardown stops them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure.sh
echo "== typecheck"; npx tsc -b
echo "== lint"; npx eslint . --max-warnings=0
echo "== jest"
data="${GROUPSCOPE_DATA_DIR:-.data}"
case "$data" in /*) ;; *) data="$root/$data" ;; esac
mkdir -p "$data"
status=0
npx jest --ci --json --outputFile="$data/jest-results.json" "$@" || status=$?
# one plain closing line with the totals
node -e 'const r=require(process.argv[1]);console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`)' "$data/jest-results.json" || true
exit $status
