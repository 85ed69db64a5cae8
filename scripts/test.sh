#!/usr/bin/env bash
# The test command (README, CI): installs what the tests need on a fresh Debian machine,
# then runs the format check, clippy with warnings as errors, and every test (all of them, even
# after a failure, so one run shows every failing test).
# env: OTEL_VENV (default /tmp/otel-venv): the Python venv with the OpenTelemetry SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
# The OpenTelemetry Python SDK (the real client) and grpcio (the OTLP sink the tests export to).
SWITCHYARD_PY=$(scripts/backends/otel-venv.sh)
export SWITCHYARD_PY
echo "== python venv: $SWITCHYARD_PY" >&2
# The Zipkin protobuf exporter needs protobuf 3: its own venv (requirements-zipkin-proto.txt).
SWITCHYARD_ZIPKIN_PROTO_PY=$(scripts/backends/zipkin-proto-venv.sh)
export SWITCHYARD_ZIPKIN_PROTO_PY
# The Jaeger clients (the SDK's last Jaeger exporters, whose pins clash with the venv above).
SWITCHYARD_JAEGER_PY=$(scripts/backends/jaeger-venv.sh)
export SWITCHYARD_JAEGER_PY
# Prometheus, VictoriaMetrics (Debian) and the Kafka-protocol broker (built once).
echo "== backends" >&2
scripts/backends/install.sh
echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test (release: the end-to-end tests run the optimised binary)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --release --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
