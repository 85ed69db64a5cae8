#!/usr/bin/env bash
# Installs every backend the end-to-end tests start (each test starts its own instances on
# free ports with the *-start.sh scripts): Prometheus and VictoriaMetrics (Debian), the
# tansu Kafka-protocol broker (crates.io; built once, ~17 min on 2 cores, then skipped).
# Arize Phoenix (PyPI arize-phoenix, its own venv; seed 002 routes AI spans to it).
# The Loki stand-in and the OTLP sink are Python (otel-venv.sh). dnsmasq (Debian dnsmasq-base):
# the DNS server the resourcedetection system tests start on 127.0.0.1. graphviz: `dot`, which
# renders `switchyard graph --format dot` in tests/cli_graph.rs. tmux: runs `switchyard top` in a
# real terminal for tests/cli_tap_top.rs (capture-pane reads the screen, send-keys types q).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BE_NAME=install
be_install prometheus victoria-metrics dnsmasq-base graphviz chromium tmux
TANSU=${TANSU_BIN:-$(command -v tansu || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu")}
if [ ! -x "$TANSU" ]; then
  be_log "building tansu 0.6.0 (one time, ~17 min)"
  cargo install tansu --version 0.6.0 --locked --features dynostore >&2 || be_die "cargo install tansu failed"
fi
PHOENIX_VENV=${PHOENIX_VENV:-/tmp/phoenix-venv}
if [ ! -x "$PHOENIX_VENV/bin/phoenix" ]; then
  be_log "installing arize-phoenix into $PHOENIX_VENV (one time, ~2 min)"
  python3 -m venv "$PHOENIX_VENV" || be_die "python3 -m venv $PHOENIX_VENV failed"
  "$PHOENIX_VENV/bin/pip" install -q --disable-pip-version-check "arize-phoenix==20.26.1" >&2 || be_die "pip install arize-phoenix failed"
fi
# podman, runc, systemd-analyze, openssl and SkyPilot's parser for the deploy/ tests.
"$BE_DIR/deploy-tools.sh"
# kubectl/kustomize, helm, kubernetes-validate, docker-compose: the deploy/ tests.
"$(dirname "$0")/k8s-tools.sh"
be_log "backends installed"
