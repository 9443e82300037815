#!/usr/bin/env bash
# Builds the runtime image of deploy/Containerfile with podman (or buildah):
# lays out its rootfs/ context from the amd64 release binary and this host's
# CA bundle and tzdata, then builds. FROM scratch: nothing is pulled.
#
# Usage: deploy/image.sh RELEASE_DIR IMAGE
set -euo pipefail
cd "$(dirname "$0")/.."
rel=${1:-bin/release}
image=${2:-localhost/dispatchoor:dev}
arch=${ARCH:-amd64}
ctx=.cache/image-context
rm -rf "$ctx"
mkdir -p "$ctx/rootfs"/{usr/bin,etc/ssl/certs,usr/share,data,tmp,proc,dev,etc/dispatchoor}
r=$ctx/rootfs
install -m 0755 "$rel/dispatchoor-linux-$arch" "$r/usr/bin/dispatchoor"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
cp -a /usr/share/zoneinfo "$r/usr/share/zoneinfo"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:dispatchoor:/data:/sbin/nologin\n' >"$r/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$r/etc/group"
chown 65532:65532 "$r/data"
chmod 0750 "$r/data"
chmod 1777 "$r/tmp"
cp deploy/Containerfile "$ctx/Containerfile"

version=$("$rel/dispatchoor-linux-amd64" version | awk 'NR==1 {print $2}')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(git log -1 --format=%cI 2>/dev/null || date -u +%FT%TZ)
args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" -t "$image" -f "$ctx/Containerfile")
if command -v podman >/dev/null; then
  # The docker format keeps HEALTHCHECK, which the OCI image format lacks.
  podman build --quiet --format docker "${args[@]}" "$ctx"
elif command -v buildah >/dev/null; then
  buildah bud --quiet --format docker "${args[@]}" "$ctx"
else
  echo "image.sh: neither podman nor buildah is installed (deploy/test/apt.sh installs them)" >&2
  exit 1
fi
echo "image.sh: built $image ($version, $revision)"
