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
  # only the browser tests need it: say so and carry on (npm start works without it)
  echo "ensure: Chromium is missing; the web UI's browser tests need it at $browser (Debian: apt-get install chromium, or set GROUPSCOPE_CHROMIUM)" >&2
fi
