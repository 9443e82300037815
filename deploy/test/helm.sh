#!/usr/bin/env bash
# Proves deploy/helm/dispatchoor: helm lint --strict and helm template for
# every value set in ci/, each render strictly decoded into Kubernetes' own
# API types (and prometheus-operator's for the CRDs) with unknown fields
# disallowed and the chart's invariants checked (deploy/kubeval), the
# rendered config accepted by `dispatchoor validate`, and SQLite with
# several replicas refused with a clear message.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: helm.sh DISPATCHOOR_BINARY}
helm=${HELM:-$(command -v helm)}
kubeval=$(command -v kubeval)
chart=deploy/helm/dispatchoor
fail() { echo "helm test: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A throw-away key: validate parses the App's private key.
openssl genrsa -out "$work/key.pem" 2048 2>/dev/null || fail "openssl genrsa failed"

cmp -s deploy/prometheus/alerts.yaml "$chart/files/alerts.yaml" \
  || fail "$chart/files/alerts.yaml differs from deploy/prometheus/alerts.yaml (copy it)"

declare -A want=(
  [sqlite]=PersistentVolumeClaim,Secret,ServiceAccount
  [postgres]=Secret
  [existing-secret]=ServiceAccount
  [everything]=Ingress,NetworkPolicy,ServiceMonitor,PrometheusRule,Secret
)
for name in sqlite postgres existing-secret everything; do
  values=$chart/ci/$name-values.yaml
  "$helm" lint --strict "$chart" -f "$values" >"$work/lint" 2>&1 || { cat "$work/lint"; fail "helm lint --strict failed for $name"; }
  "$helm" template dsp "$chart" -f "$values" --namespace ci >"$work/$name.yaml" || fail "helm template failed for $name"
  echo -n "helm test: $name: "
  "$kubeval" -want "${want[$name]}" <"$work/$name.yaml" || fail "$name render is invalid"
  # Existing secrets is the only set with no Secret rendered.
  if [ "$name" = existing-secret ] && grep -q '^kind: Secret$' "$work/$name.yaml"; then
    fail "existing-secret rendered a Secret"
  fi
  # The config the chart renders is one the binary accepts.
  "$helm" template dsp "$chart" -f "$values" --show-only templates/configmap.yaml \
    | awk '/^  config.yml: \|/ {on=1; next} on && /^    / {sub(/^    /, ""); print; next} on {exit}' >"$work/config.yml"
  [ -s "$work/config.yml" ] || fail "$name: no config.yml in the ConfigMap"
  env -i PATH="$PATH" DATABASE_URL=postgres://u:p@db/d ADMIN_PASSWORD=x GITHUB_WEBHOOK_SECRET=s \
    GITHUB_APP_PRIVATE_KEY="$(cat "$work/key.pem")" DISPATCHOOR_SECRET_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY= \
    "$bin" validate --config "$work/config.yml" >/dev/null || fail "$name: dispatchoor validate refuses the rendered config"
done

# The validator itself can fail: a misspelt field and a lost invariant.
sed 's/^  replicas: 1$/  replicas: 1\n  replica: 1/' "$work/sqlite.yaml" >"$work/typo.yaml"
if "$kubeval" <"$work/typo.yaml" >/dev/null 2>&1; then fail "kubeval accepted an unknown field"; fi
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "$work/sqlite.yaml" >"$work/rw.yaml"
if "$kubeval" <"$work/rw.yaml" >/dev/null 2>&1; then fail "kubeval accepted a writable root filesystem"; fi

# The pods roll when the config changes.
a=$("$helm" template dsp "$chart" -f "$chart/ci/sqlite-values.yaml" | grep 'checksum/config')
b=$("$helm" template dsp "$chart" -f "$chart/ci/sqlite-values.yaml" --set config.dispatcher.interval=20s | grep 'checksum/config')
[ "$a" != "$b" ] || fail "checksum/config does not change with the config"

# SQLite with several replicas is refused, and says why.
if out=$("$helm" template dsp "$chart" -f deploy/helm/test-values/sqlite-replicas.yaml 2>&1); then
  fail "SQLite with 2 replicas was rendered"
fi
grep -q "SQLite serves one replica only" <<<"$out" || fail "SQLite with replicas refused without the reason: $out"
# The schema refuses an unknown driver before any template runs.
if out=$("$helm" template dsp "$chart" -f "$chart/ci/sqlite-values.yaml" --set database.driver=mysql 2>&1); then
  fail "database.driver=mysql was accepted"
fi
grep -q "values don't meet the specifications of the schema" <<<"$out" || fail "values.schema.json did not refuse database.driver=mysql: $out"
# NOTES.txt names the next step.
# helm renders NOTES.txt only on install, which wants a cluster: render it
# as a template of a copy of the chart instead.
cp -r "$chart" "$work/chart"
{ echo '{{- define "test.notes" -}}'; cat "$chart/templates/NOTES.txt"; echo '{{- end -}}'; } >"$work/chart/templates/_notes.tpl"
echo 'notes: {{ include "test.notes" . | quote }}' >"$work/chart/templates/notes-as-template.yaml"
notes=$("$helm" template dsp "$work/chart" -f "$chart/ci/sqlite-values.yaml" --show-only templates/notes-as-template.yaml 2>&1) \
  || fail "rendering NOTES.txt failed: $notes"
grep -q "https://dispatchoor.example.com/setup" <<<"$notes" || fail "NOTES.txt does not point to /setup"
echo "helm test: ok (4 value sets lint, render and validate; SQLite with replicas refused)"
