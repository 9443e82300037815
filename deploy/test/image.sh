#!/usr/bin/env bash
# Proves the container image without starting a container (this machine's
# runtime cannot: its rlimit set-up is refused). It checks the image's
# configuration, exports its root filesystem from `podman save`, and runs
# `dispatchoor demo` from it under unshare + chroot as uid 65532 with the
# root read-only and only /data writable; then asks /healthz and /readyz
# with the image's own healthcheck subcommand and waits for a completed job
# in /metrics.
set -euo pipefail
cd "$(dirname "$0")/../.."
image=${1:-localhost/dispatchoor:dev}
fail() { echo "image test: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/dispatchoor-image.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    # unshare --fork ignores SIGTERM and leaves it to its child, the demo.
    pkill -TERM -P "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The image as an engine receives it: `podman save` (docker format, which
# keeps HEALTHCHECK; the OCI image config has no such field).
podman save --quiet --format docker-archive -o "$work/image.tar" "$image"
mkdir -p "$work/archive" "$work/rootfs"
tar -xf "$work/image.tar" -C "$work/archive"
cfg=$(jq '.config' "$work/archive/$(jq -r '.[0].Config' "$work/archive/manifest.json")")
check() { jq -e "$1" <<<"$cfg" >/dev/null || fail "image config: $2 ($(jq -c "$3" <<<"$cfg"))"; }
check '.User == "65532:65532"' "runs as 65532" '.User'
check '.StopSignal == "SIGTERM"' "STOPSIGNAL SIGTERM" '.StopSignal'
check '.Volumes | has("/data")' "one volume /data" '.Volumes'
check '.Entrypoint == ["/usr/bin/dispatchoor"]' "entrypoint is the binary" '.Entrypoint'
check '.Healthcheck.Test[0:3] == ["CMD", "/usr/bin/dispatchoor", "healthcheck"]' "HEALTHCHECK runs dispatchoor healthcheck" '.Healthcheck'
check '.Labels["org.opencontainers.image.source"] | startswith("https://")' "OCI source label" '.Labels'
check '.Labels["org.opencontainers.image.revision"] | test("^[0-9a-f]{40}$")' "OCI revision label" '.Labels'
check '.Labels["org.opencontainers.image.version"] | length > 0' "OCI version label" '.Labels'
echo "image test: config ok (user 65532, SIGTERM, /data volume, HEALTHCHECK, OCI labels)"

# 2. Its root filesystem, layer by layer.
for layer in $(jq -r '.[0].Layers[]' "$work/archive/manifest.json"); do
  tar -xf "$work/archive/$layer" -C "$work/rootfs"
done
root=$work/rootfs
[ -x "$root/usr/bin/dispatchoor" ] || fail "no /usr/bin/dispatchoor in the image"
[ -s "$root/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle in the image"
[ -f "$root/usr/share/zoneinfo/Europe/Berlin" ] || fail "no tzdata in the image"
grep -q '^nonroot:x:65532:65532:' "$root/etc/passwd" || fail "no passwd entry for 65532"
[ ! -e "$root/bin/sh" ] || fail "the image has a shell"
n=$(find "$root" -type f | wc -l)
echo "image test: rootfs exported ($n files, $(du -sh "$root" | cut -f1))"

# 3. The demo from that root, as 65532, root read-only, only /data writable.
data=$work/data
mkdir -p "$data" && chown 65532:65532 "$data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
unshare --mount --pid --fork --kill-child --propagation private bash -c '
  set -e
  root=$1 data=$2 port=$3
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount --bind "$data" "$root/data"
  mount -t proc proc "$root/proc"
  if touch "$root/usr/bin/written" 2>/dev/null; then echo "root is writable" >&2; exit 9; fi
  cd "$root/data"
  exec env -i TMPDIR=/data HOME=/data "$(command -v chroot)" --userspec=65532:65532 "$root" \
    /usr/bin/dispatchoor demo --listen 127.0.0.1:$port --speed 60 --log-level warn
' _ "$root" "$data" "$port" >"$work/demo.out" 2>"$work/demo.err" &
pid=$!

probe() { env -i "$(command -v chroot)" --userspec=65532:65532 "$root" /usr/bin/dispatchoor healthcheck --url "$base$1" >/dev/null 2>&1; }
deadline=$((SECONDS + 60))
until probe /healthz && probe /readyz; do
  kill -0 "$pid" 2>/dev/null || fail "demo exited: $(cat "$work/demo.err")"
  [ $SECONDS -lt $deadline ] || fail "no healthy /healthz and /readyz after 60s: $(tail -5 "$work/demo.err")"
  sleep 1
done
echo "image test: /healthz and /readyz answer 200 (asked by the image's healthcheck subcommand)"
deadline=$((SECONDS + 180))
# (grep reads a variable: grep -q closing a pipe early would fail curl.)
until grep -qE '^dispatchoor_jobs_completed_total\{[^}]*\} [1-9]' <<<"$(curl -fsS "$base/metrics" 2>/dev/null)"; do
  kill -0 "$pid" 2>/dev/null || fail "demo exited: $(cat "$work/demo.err")"
  [ $SECONDS -lt $deadline ] || fail "no completed job in /metrics after 180s"
  sleep 2
done
metrics=$(curl -fsS "$base/metrics")
grep -E '^dispatchoor_jobs_completed_total' <<<"$metrics"
# What the process wrote went to /data, as uid 65532.
[ -n "$(find "$data" -mindepth 1 -user 65532 -print -quit)" ] || fail "nothing written to /data as uid 65532"
echo "image test: ok (a job completed; the demo wrote only to /data)"
