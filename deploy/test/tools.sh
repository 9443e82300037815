#!/usr/bin/env bash
# Installs the tools of the deployment proofs once: Debian packages
# (apt.sh), helm from the Go module proxy and the kubeval program (its own
# module under deploy/kubeval), both into the tool cache (TOOLS_BIN, shared
# by every checkout of this machine: building helm costs minutes) and
# rebuilt only when their version or source changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
HELM_VERSION=v3.17.3
deploy/test/apt.sh
bin=${TOOLS_BIN:?set by run.sh or the Makefile}
mkdir -p "$bin"
stamp=$bin/.helm-$HELM_VERSION
if [ ! -x "$bin/helm" ] || [ ! -f "$stamp" ]; then
  echo "tools.sh: building helm $HELM_VERSION (once per machine)"
  GOBIN=$bin go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  touch "$stamp"
fi
sum=$(cat deploy/kubeval/*.go deploy/kubeval/go.mod deploy/kubeval/go.sum | sha256sum | cut -c1-16)
if [ ! -x "$bin/kubeval" ] || [ ! -f "$bin/.kubeval-$sum" ]; then
  echo "tools.sh: building deploy/kubeval (once)"
  rm -f "$bin"/.kubeval-*
  (cd deploy/kubeval && go build -o "$bin/kubeval" .)
  touch "$bin/.kubeval-$sum"
fi
