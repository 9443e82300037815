#!/usr/bin/env bash
# make deploy-test: every proof of the deployment artefacts this machine can
# run (docs/DEPLOY.md, "What is proven here"). Expects `make release image`
# done; installs what it needs (apt packages, helm and the kubeval program
# into the machine's tool cache, npm packages) once, so a second run, even
# from another checkout, is fast.
set -euo pipefail
cd "$(dirname "$0")/../.."
rel=${1:-bin/release}
image=${2:-localhost/dispatchoor:dev}
bin=$rel/dispatchoor-linux-amd64
# Tools built from source are kept per machine, outside the checkout: CI
# and every fresh clone would otherwise build helm again (minutes of CPU).
export TOOLS_BIN=${TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/dispatchoor-tools/bin}
deploy/test/tools.sh
export PATH=$TOOLS_BIN:$PATH

step() {
  local name=$1
  shift
  local t0=$SECONDS
  echo "== deploy-test: $name"
  "$@"
  echo "== deploy-test: $name done in $((SECONDS - t0))s"
}
step release deploy/test/release.sh "$rel"
step systemd deploy/test/systemd.sh "$bin"
step prometheus deploy/test/prometheus.sh "$bin"
step helm deploy/test/helm.sh "$bin"
step compose deploy/test/compose.sh "$bin"
step image deploy/test/image.sh "$image"
echo "deploy-test: all proofs passed"
