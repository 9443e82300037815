#!/usr/bin/env bash
# Runs the whole Go test suite with -race against SQLite and a private
# PostgreSQL started here (and stopped on exit, whatever happens).
set -euo pipefail
cd "$(dirname "$0")/.."

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/dispatchoor-pg.XXXXXX")
cleanup() { scripts/pg.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT

dsn=$(scripts/pg.sh start "$pgdir")
echo "test.sh: PostgreSQL started for the store suite ($dsn)"
export DISPATCHOOR_TEST_POSTGRES_DSN=$dsn
export DISPATCHOOR_TEST_REQUIRE_POSTGRES=1

go test -race -count=1 -timeout 30m "$@" ./...
