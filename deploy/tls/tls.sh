#!/usr/bin/env bash
# Local TLS material for HTTPS ingestion: a local certificate authority and a server certificate for 127.0.0.1,
# ::1 and localhost signed by it, under TLS_DIR (<GROUPSCOPE_DATA_DIR>/tls). Idempotent: what exists and is valid for
# another 30 days is kept; a server certificate close to expiry (or not signed by the CA) is made again.
#   tls.sh [ensure]   ca.crt (trust root for clients), ca.key, server.crt, server.key
#   tls.sh paths      prints GATEWAY_TLS_CERT=... and GATEWAY_TLS_KEY=... lines
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
abs() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
dir="$(abs "${TLS_DIR:-${GROUPSCOPE_DATA_DIR:-$root/.data}/tls}")"
month=$((30 * 24 * 3600))

valid() { [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend "$month" >/dev/null 2>&1; }

ensure() {
  command -v openssl >/dev/null || { echo "tls.sh: openssl is needed to make the local certificates" >&2; exit 1; }
  mkdir -p "$dir"
  chmod 700 "$dir"
  local made=""
  if ! valid "$dir/ca.crt" || [ ! -s "$dir/ca.key" ]; then
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/O=groupscope/CN=groupscope local CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null)
    rm -f "$dir/server.crt"
    made="CA"
  fi
  if ! valid "$dir/server.crt" || [ ! -s "$dir/server.key" ] \
    || ! openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" >/dev/null 2>&1; then
    cat > "$dir/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
EXT
    # 825 days: the longest validity clients such as Apple's accept for a server certificate
    (umask 077 && openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$dir/server.key" -out "$dir/server.csr" \
      -subj "/O=groupscope/CN=localhost" 2>/dev/null)
    (umask 077 && openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
      -days 825 -sha256 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null)
    rm -f "$dir/server.csr" "$dir/server.ext"
    made="${made:+$made and }server certificate"
  fi
  chmod 600 "$dir/ca.key" "$dir/server.key"
  chmod 644 "$dir/ca.crt" "$dir/server.crt"
  if [ -n "$made" ]; then echo "tls.sh: made the local $made in $dir (trust root for clients: $dir/ca.crt)"; fi
}

case "${1:-ensure}" in
  ensure) ensure ;;
  paths) printf 'GATEWAY_TLS_CERT=%s\nGATEWAY_TLS_KEY=%s\nTLS_CA=%s\n' "$dir/server.crt" "$dir/server.key" "$dir/ca.crt" ;;
  *) echo "usage: tls.sh [ensure|paths]" >&2; exit 2 ;;
esac
