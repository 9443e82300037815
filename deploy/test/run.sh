#!/usr/bin/env bash
# make deploy-test: every proof of the deployment artefacts this machine can
# run (docs/DEPLOY.md, "What is proven here"). Expects `make release image`
# done; installs what it needs (apt packages, helm into .cache/bin, the
# kubeval program, npm packages) once, so a second run is fast.
set -euo pipefail
cd "$(dirname "$0")/../.."
rel=${1:-bin/release}
image=${2:-localhost/dispatchoor:dev}
bin=$rel/dispatchoor-linux-amd64
deploy/test/tools.sh
export PATH=$PWD/.cache/bin:$PATH

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
