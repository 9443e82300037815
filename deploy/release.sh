#!/usr/bin/env bash
# Builds the release binaries: dispatchoor for linux/amd64 and linux/arm64,
# statically linked (go-sqlite3 needs cgo, so the C side is linked statically
# against glibc; osusergo and netgo keep glibc's NSS out of it), the dashboard
# embedded, version, commit and build date stamped, and a SHA256SUMS file.
#
# Usage: deploy/release.sh OUTDIR   (expects ui/dist built: make ui)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/release}
mkdir -p "$out"

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
# A reproducible date: the commit's, not the wall clock's.
date=${BUILD_DATE:-$(git log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)}

if [ ! -f ui/dist/index.html ]; then
  echo "release.sh: ui/dist is missing; run make ui first" >&2
  exit 1
fi

ldflags="-s -w -extldflags -static -X main.version=$version -X main.commit=$commit -X main.buildDate=$date"
tags=embedui,osusergo,netgo,sqlite_omit_load_extension

build() {
  local arch=$1 cc=$2
  echo "release.sh: linux/$arch ($version)"
  CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc \
    go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/dispatchoor-linux-$arch" ./cmd/dispatchoor
}
build amd64 gcc
build arm64 aarch64-linux-gnu-gcc
(cd "$out" && sha256sum dispatchoor-linux-amd64 dispatchoor-linux-arm64 >SHA256SUMS)
cat "$out/SHA256SUMS"
