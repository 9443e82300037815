#!/usr/bin/env bash
# Fails when test code or tooling reaches the dispatchoor binary: the
# packages testing, testing/fstest and net/http/httptest, or any package
# under tools/ other than tools/ghsim and tools/demo (which `dispatchoor
# demo` runs) and tools/configgen (which writes the demo's config). Test
# helpers belong in *_test.go files or in test-support packages such as
# tools/ghsim/ghsimtest and store/storetest.
#
# One third-party exception: github.com/hashicorp/golang-lru (v1, pulled in by
# palantir/go-githubapp) ships a testing.go in its library package, so
# "testing" is checked by who imports it rather than by its presence.
set -euo pipefail
cd "$(dirname "$0")/.."

mod=github.com/ethpandaops/dispatchoor
allowed_testing_importers='^github.com/hashicorp/golang-lru$'
status=0

deps=$(go list -deps ./cmd/dispatchoor)
for p in testing/fstest net/http/httptest; do
  if grep -qx "$p" <<<"$deps"; then
    echo "check-deps: $p reaches ./cmd/dispatchoor"; status=1
  fi
done
bad_tools=$(grep -E "^$mod/tools/" <<<"$deps" | grep -vxE "$mod/tools/(ghsim|demo|configgen)" || true)
if [ -n "$bad_tools" ]; then
  echo "check-deps: tooling reaches ./cmd/dispatchoor:"; echo "$bad_tools"; status=1
fi
importers=$(go list -deps -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' ./cmd/dispatchoor |
  awk '{for (i = 2; i <= NF; i++) if ($i == "testing") { print $1; break }}' |
  grep -vE "$allowed_testing_importers" || true)
if [ -n "$importers" ]; then
  echo "check-deps: these packages link \"testing\" into ./cmd/dispatchoor:"; echo "$importers"; status=1
fi
if [ "$status" -ne 0 ]; then
  echo "check-deps: the go list -deps chain shows who imports them (go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/dispatchoor)"
fi
exit "$status"
