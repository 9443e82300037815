#!/usr/bin/env bash
# Runs the whole Go test suite with -race against SQLite and a private
# PostgreSQL started here (and stopped on exit, whatever happens).
#
# The verbose log goes to .cache/go-test.log; the terminal gets each
# package's result, every failure, and how many subtests ran on PostgreSQL,
# so the output itself shows the store suite did not skip it.
set -euo pipefail
cd "$(dirname "$0")/.."

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/dispatchoor-pg.XXXXXX")
cleanup() { scripts/pg.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT

dsn=$(scripts/pg.sh start "$pgdir")
echo "test.sh: PostgreSQL started for the store suite ($dsn)"
export DISPATCHOOR_TEST_POSTGRES_DSN=$dsn
export DISPATCHOOR_TEST_REQUIRE_POSTGRES=1

mkdir -p .cache
log=.cache/go-test.log
set +e
go test -race -count=1 -timeout 30m -v "$@" ./... >"$log" 2>&1
status=$?
set -e
# Package results, and on failure the failing tests with their messages.
if [ "$status" -eq 0 ]; then
  grep -E '^(ok|FAIL|PASS)' "$log" || true
else
  grep -E '^(ok|FAIL|panic:)|--- FAIL|_test\.go:[0-9]+:|DATA RACE' "$log" || true
fi
pg=$(grep -cE -- '--- PASS: .*/postgres( |$)' "$log" || true)
echo "test.sh: $pg subtests passed on PostgreSQL (full log: $log)"
if [ "$status" -ne 0 ]; then
  echo "test.sh: go test failed (exit $status)"
fi
exit "$status"
