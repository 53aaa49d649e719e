#!/usr/bin/env bash
# Builds the Amplitude Java SDK check client (pom.xml) into target/classes and target/lib when missing or older
# than its sources. Offline first (what an earlier build put in ~/.m2 suffices); online only when that fails.
#   build.sh          build if needed
#   build.sh cp       print the java class path
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$here/target/.built"

stale() {
  [ ! -f "$stamp" ] && return 0
  [ -n "$(find "$here/pom.xml" "$here/src" -newer "$stamp" -print -quit)" ]
}

build() {
  stale || return 0
  command -v mvn >/dev/null || { echo "java-sdk/build.sh: Maven (mvn) is required" >&2; exit 1; }
  local goals=(-q -B -f "$here/pom.xml" compile dependency:copy-dependencies)
  rm -rf "$here/target"
  if ! mvn -o "${goals[@]}" >/dev/null 2>&1; then
    echo "java-sdk/build.sh: fetching the Amplitude Java SDK with Maven (first build only)..."
    mvn "${goals[@]}"
  fi
  touch "$stamp"
}

case "${1:-build}" in
  build) build ;;
  cp) printf '%s:%s/*' "$here/target/classes" "$here/target/lib" ;;
  *) echo "usage: build.sh [build|cp]" >&2; exit 2 ;;
esac
