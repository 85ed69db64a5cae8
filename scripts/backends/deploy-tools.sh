#!/usr/bin/env bash
# The tools the deploy/ tests use (tests/deploy_container.rs, tests/deploy_services.rs):
#   podman + runc (Debian): build and run the image (runc: Debian's crun 1.8 refuses hybrid
#     cgroup v1/v2 hosts, which this machine is)
#   systemd (Debian): systemd-analyze verify / security on deploy/systemd/switchyard.service
#   openssl (Debian): deploy/tls/gen-certs.sh
#   skypilot (PyPI, its own venv, ~1 min, ~460 MB): SkyPilot's task parser for
#     deploy/skypilot/gateway.yaml (nothing is launched)
# Idempotent: what is present is skipped. env: SKYPILOT_VENV (default /tmp/skypilot-venv).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BE_NAME=deploy-tools
be_install podman runc systemd openssl binutils
SKYPILOT_VENV=${SKYPILOT_VENV:-/tmp/skypilot-venv}
if ! "$SKYPILOT_VENV/bin/python" -c 'import sky' 2>/dev/null; then
  be_log "installing skypilot into $SKYPILOT_VENV (one time, ~1 min)"
  python3 -m venv "$SKYPILOT_VENV" || be_die "python3 -m venv $SKYPILOT_VENV failed"
  "$SKYPILOT_VENV/bin/pip" install -q --disable-pip-version-check "skypilot==0.14.1" >&2 || be_die "pip install skypilot failed"
fi
be_log "deploy tools installed"
