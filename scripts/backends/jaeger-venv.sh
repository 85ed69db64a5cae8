#!/usr/bin/env bash
# Make (or reuse) the venv of jaeger-requirements.txt: the OpenTelemetry SDK with its Jaeger
# Thrift and protobuf exporters (jaeger_client.py). A venv of its own: its pins clash with
# requirements.txt's (see jaeger-requirements.txt).
# usage: jaeger-venv.sh [VENV_DIR]   env: JAEGER_VENV (default /tmp/jaeger-venv)
# prints: the venv's python path.
set -u
BE_NAME=jaeger-venv
. "$(dirname "$0")/lib.sh"
VENV=${1:-${JAEGER_VENV:-/tmp/jaeger-venv}}
PY="$VENV/bin/python"
if ! "$PY" -c 'import opentelemetry.exporter.jaeger.thrift, opentelemetry.exporter.jaeger.proto.grpc' 2>/dev/null; then
  command -v python3 >/dev/null || be_install python3 python3-venv
  python3 -m venv "$VENV" || be_die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
  "$PY" -m pip install -q --disable-pip-version-check -r "$BE_DIR/jaeger-requirements.txt" >&2 \
    || be_die "pip install -r jaeger-requirements.txt failed"
fi
echo "$PY"
