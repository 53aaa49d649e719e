#!/usr/bin/env bash
# Installs what is missing on a fresh machine: system packages (Java 17, Maven, a C compiler, openssl) from apt when
# absent, npm packages, Apache Kafka's jars (through Maven), the ClickHouse launcher (built with cc), Chromium for
# the web UI's browser tests and the Amplitude Java SDK client of the end-to-end tests (through Maven). Safe to run
# every time; quick when all is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure: installing ${need_apt[*]} with apt"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "ensure: please install ${need_apt[*]} (Java 17+ and Maven run the local Kafka, a C compiler builds the ClickHouse launcher, openssl makes the local TLS certificates)" >&2
    exit 1
  fi
fi

# npm packages: install when node_modules is missing or older than the lockfile
stamp=node_modules/.groupscope-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "ensure: installing npm packages"
  # `npm install` rather than `npm ci`: npm leaves other platforms' optional packages out of the lockfile,
  # which `npm ci` then rejects
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

bash deploy/kafka/kafka.sh fetch
bash deploy/clickhouse/clickhouse.sh build
bash scripts/ensure-browser.sh
# the Amplitude Java SDK client the end-to-end tests run (Maven caches the SDK in ~/.m2; the test builds it too)
bash test/java-sdk/build.sh || echo "ensure: warning: could not build test/java-sdk (the Java SDK end-to-end test will try again)" >&2
