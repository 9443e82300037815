#!/usr/bin/env bash
# Proves deploy/prometheus and deploy/grafana: promtool checks the rules and
# runs their unit tests (every alert must have one); then Debian's real
# Prometheus scrapes a running `dispatchoor demo` (loading the rules too),
# and every query of every panel of the Grafana dashboard, with its
# variables substituted, must return at least one series.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: prometheus.sh DISPATCHOOR_BINARY}
fail() { echo "prometheus test: $*" >&2; exit 1; }
rules=deploy/prometheus/alerts.yaml
dash=deploy/grafana/dispatchoor.json

promtool check rules "$rules"
(cd deploy/prometheus && promtool test rules alerts_test.yaml)
for a in $(awk '/- alert:/ {print $3}' "$rules"); do
  grep -q "alertname: $a\$" deploy/prometheus/alerts_test.yaml || fail "alert $a has no unit test"
done
echo "prometheus test: every alert has a unit test"

work=$(mktemp -d /tmp/dispatchoor-prom.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || shuf -i 20000-60000 -n 1; }
dport=$(freeport)
pport=$(freeport)

TMPDIR=$work "$bin" demo --listen "127.0.0.1:$dport" --speed 60 --log-level warn >"$work/demo.out" 2>"$work/demo.err" &
pids+=($!)
cp "$rules" "$work/alerts.yaml"
cat >"$work/prometheus.yml" <<YAML
global: { scrape_interval: 2s, evaluation_interval: 5s }
rule_files: [alerts.yaml]
scrape_configs:
  - job_name: dispatchoor
    static_configs: [{ targets: ["127.0.0.1:$dport"] }]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$pport" >"$work/prom.log" 2>&1 &
pids+=($!)
api=http://127.0.0.1:$pport/api/v1
query() { curl -fsS --get "$api/query" --data-urlencode "query=$1"; }

deadline=$((SECONDS + 240))
until [ "$(query 'sum(dispatchoor_job_run_seconds_count) > 0 and sum(dispatchoor_jobs_completed_total) > 2' 2>/dev/null | jq '.data.result | length' 2>/dev/null || echo 0)" -gt 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "no completed jobs scraped after 240s; demo: $(tail -3 "$work/demo.err"); prometheus: $(tail -3 "$work/prom.log")"
  sleep 3
done
query 'up{job="dispatchoor"}' | jq -e '.data.result[0].value[1] == "1"' >/dev/null || fail "the demo's target is not up"
# Rates need two samples inside the window.
sleep 10

n=0
bad=0
while IFS= read -r expr; do
  q=${expr//\$__rate_interval/1m}
  q=${q//\$group/.*}
  n=$((n + 1))
  res=$(query "$q") || { echo "FAIL (query error): $q" >&2; bad=$((bad + 1)); continue; }
  count=$(jq '.data.result | length' <<<"$res")
  if [ "$count" -eq 0 ]; then
    echo "FAIL (no series): $q" >&2
    bad=$((bad + 1))
  fi
done < <(jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$dash")
[ "$n" -ge 15 ] || fail "only $n panel queries found in $dash"
[ "$bad" -eq 0 ] || fail "$bad of $n panel queries returned no series"
# The group variable's own query must list the demo's groups.
query 'group by (group) (dispatchoor_queue_size)' | jq -e '.data.result | length > 0' >/dev/null || fail "the group variable would be empty"
# Prometheus loaded the rules.
curl -fsS "$api/rules" | jq -e '[.data.groups[].rules[]] | length == 6' >/dev/null || fail "Prometheus did not load the 6 alerting rules"
echo "prometheus test: ok ($n panel queries, each returned series; rules loaded)"
