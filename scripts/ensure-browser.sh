#!/usr/bin/env bash
# Installs Debian's Chromium when it is missing: the web UI's end-to-end tests drive it headless through
# playwright-core (which never downloads a browser of its own). Quick when it is there.
set -euo pipefail
browser="${GROUPSCOPE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure: installing chromium with apt"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "ensure: please install Chromium (Debian: apt-get install chromium); the web UI's browser tests need $browser" >&2
  exit 1
fi
