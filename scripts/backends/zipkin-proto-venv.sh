#!/usr/bin/env bash
# Make (or reuse) the Python venv of requirements-zipkin-proto.txt: the OpenTelemetry SDK with the
# Zipkin protobuf exporter, which needs protobuf 3 (so not in otel-venv.sh's venv).
# usage: zipkin-proto-venv.sh [VENV_DIR]   env: ZIPKIN_PROTO_VENV (default /tmp/zipkin-proto-venv)
# prints: the venv's python path
set -u
BE_NAME=zipkin-proto-venv
. "$(dirname "$0")/lib.sh"
VENV=${1:-${ZIPKIN_PROTO_VENV:-/tmp/zipkin-proto-venv}}
PY="$VENV/bin/python"
if ! "$PY" -c 'import opentelemetry.sdk, opentelemetry.exporter.zipkin.proto.http' 2>/dev/null; then
  command -v python3 >/dev/null || be_install python3 python3-venv
  python3 -m venv "$VENV" || be_die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
  "$PY" -m pip install -q --disable-pip-version-check -r "$BE_DIR/requirements-zipkin-proto.txt" >&2 \
    || be_die "pip install -r requirements-zipkin-proto.txt failed"
fi
echo "$PY"
