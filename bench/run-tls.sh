#!/usr/bin/env bash
# run-tls.sh: ../shared/bench/run.sh with the load sent over TLS (h2load to https://), for
# measuring what server TLS costs. Same options as run.sh. Makes a CA-less self-signed
# certificate for 127.0.0.1 under $BENCH_WORK/tls on first use; the gateway finds it through
# $BENCH_TLS_DIR (see switchyard-tls.yaml).
#   bench/run-tls.sh --proto grpc --mode max --requests 10000 --name sy-tls \
#     "$PWD/target/release/switchyard --config $PWD/bench/switchyard-tls.yaml"
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${BENCH_HARNESS:-$HERE/../../shared/bench}
WORK=${BENCH_WORK:-/tmp/switchyard-bench}
export BENCH_TLS_DIR=$WORK/tls
if [ ! -f "$BENCH_TLS_DIR/server.crt" ]; then
  mkdir -p "$BENCH_TLS_DIR"
  # An X.509 v3 certificate with a SAN (rustls refuses v1 certificates).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$BENCH_TLS_DIR/server.key" -out "$BENCH_TLS_DIR/server.crt" 2>/dev/null
fi
# The harness with its two load URLs switched to https; everything else unchanged.
COPY=$(mktemp /tmp/run-tls.XXXXXX.sh)
trap 'rm -f "$COPY"' EXIT
sed -e "s|^HERE=.*|HERE=$(cd "$SHARED" && pwd)|" \
    -e 's|URL=http://127.0.0.1|URL=https://127.0.0.1|' "$SHARED/run.sh" > "$COPY"
grep -q 'URL=https://127.0.0.1:$GW_GRPC_PORT' "$COPY" || { echo "run.sh changed: cannot switch it to https" >&2; exit 1; }
bash "$COPY" "$@"
