#!/usr/bin/env bash
# Proves the release binaries: both static (file and ldd say so), both stamped,
# the arm64 one runs `version` and `validate` under qemu-user-static, and
# SHA256SUMS matches.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bin/release}
fail() { echo "release test: $*" >&2; exit 1; }

(cd "$out" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS does not match"
for arch in amd64 arm64; do
  bin="$out/dispatchoor-linux-$arch"
  desc=$(file -b "$bin")
  echo "$arch: $desc"
  grep -q "statically linked" <<<"$desc" || fail "$bin is not statically linked: $desc"
  if ldd "$bin" >/dev/null 2>&1; then
    fail "ldd lists shared libraries of $bin: $(ldd "$bin")"
  fi
done
grep -q "x86-64" <<<"$(file -b "$out/dispatchoor-linux-amd64")" || fail "amd64 binary has the wrong architecture"
grep -q "ARM aarch64" <<<"$(file -b "$out/dispatchoor-linux-arm64")" || fail "arm64 binary has the wrong architecture"

# Both binaries carry the same stamped commit, one of this repository's.
commit=$("$out/dispatchoor-linux-amd64" version | awk '$1 == "commit" {print $2}')
[[ "$commit" =~ ^[0-9a-f]{40}$ ]] && git cat-file -e "$commit^{commit}" 2>/dev/null \
  || fail "amd64: stamped commit '$commit' is not a commit of this repository"
for arch in amd64 arm64; do
  run=("$out/dispatchoor-linux-$arch")
  [ "$arch" = arm64 ] && run=(qemu-aarch64-static "${run[@]}")
  v=$("${run[@]}" version)
  echo "$v" | sed "s/^/$arch: /"
  grep -q "commit  $commit" <<<"$v" || fail "$arch: version does not print commit $commit"
  grep -qE "built   [0-9]{4}-[0-9]{2}-[0-9]{2}T" <<<"$v" || fail "$arch: version does not print the build date"
  grep -q "linux/$arch" <<<"$v" || fail "$arch: version reports the wrong platform"
  env PUBLIC_URL=https://d.example.com DATABASE_URL=postgres://u:p@db/d ADMIN_PASSWORD=x \
    "${run[@]}" validate --config deploy/compose/config.yml >/dev/null || fail "$arch: validate refused deploy/compose/config.yml"
  # Without its variables the example config has problems, and validate says so.
  if problems=$(env -u ADMIN_PASSWORD "${run[@]}" validate --config config.example.yml 2>&1); then
    fail "$arch: validate accepted config.example.yml without its environment"
  fi
  grep -q "ADMIN_PASSWORD is not set" <<<"$problems" || fail "$arch: validate did not name the missing variable: $problems"
done
echo "release test: ok"
