#!/usr/bin/env bash
# Installs the tools of the deployment proofs once: Debian packages
# (apt.sh), helm from the Go module proxy and the kubeval program (its own
# module under deploy/kubeval), both into .cache/bin and rebuilt only when
# their version or source changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
HELM_VERSION=v3.17.3
deploy/test/apt.sh
mkdir -p .cache/bin
stamp=.cache/bin/.helm-$HELM_VERSION
if [ ! -x .cache/bin/helm ] || [ ! -f "$stamp" ]; then
  echo "tools.sh: building helm $HELM_VERSION (once)"
  GOBIN=$PWD/.cache/bin go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  touch "$stamp"
fi
sum=$(cat deploy/kubeval/*.go deploy/kubeval/go.mod deploy/kubeval/go.sum | sha256sum | cut -c1-16)
if [ ! -x .cache/bin/kubeval ] || [ ! -f ".cache/bin/.kubeval-$sum" ]; then
  echo "tools.sh: building deploy/kubeval (once)"
  rm -f .cache/bin/.kubeval-*
  (cd deploy/kubeval && go build -o ../../.cache/bin/kubeval .)
  touch ".cache/bin/.kubeval-$sum"
fi
