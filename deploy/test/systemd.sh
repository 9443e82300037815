#!/usr/bin/env bash
# Proves deploy/systemd/dispatchoor.service: systemd-analyze verify accepts
# it (with the binary it names present), and the hardening it promises is set.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: systemd.sh BINARY}
fail() { echo "systemd test: $*" >&2; exit 1; }
unit=deploy/systemd/dispatchoor.service
for want in DynamicUser=yes StateDirectory=dispatchoor EnvironmentFile= ProtectSystem=strict NoNewPrivileges=yes Restart=on-failure; do
  grep -q "^$want" "$unit" || fail "$unit lacks $want"
done
# verify checks that ExecStart's binary exists: put the release binary where
# the unit expects it, in a private mount namespace so the host is untouched.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$unit" "$work/"
out=$(unshare --mount --propagation private bash -c '
  mkdir -p /usr/local/bin
  mount -t tmpfs tmpfs /usr/local/bin
  install -m 0755 "$1" /usr/local/bin/dispatchoor
  SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$2/dispatchoor.service" 2>&1
' _ "$bin" "$work") || fail "systemd-analyze verify failed: $out"
# verify prints problems as warnings but still exits 0 for some of them.
complaints=$(grep -v -e '^$' <<<"$out" || true)
if [ -n "$complaints" ]; then
  fail "systemd-analyze verify complained: $complaints"
fi
echo "systemd test: ok (systemd-analyze verify clean)"
