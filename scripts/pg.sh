#!/usr/bin/env bash
# Starts a private, throw-away PostgreSQL for the tests and prints its DSN.
#
#   scripts/pg.sh start DIR   -> initdb + pg_ctl start under DIR, prints the DSN
#   scripts/pg.sh stop DIR    -> stops it
#
# It never touches a system cluster: the data folder, socket and log live under
# DIR, owned by the postgres user (initdb refuses to run as root), on a free
# loopback port. Installs Debian's postgresql package when it is missing.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

case "$cmd" in
start)
  if ! bin=$(find_bin); then
    echo "pg.sh: installing postgresql from Debian" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  # The postgres user must be able to reach DIR through its parents.
  p=$dir; while [ "$p" != / ]; do p=$(dirname "$p"); [ "$(id -u)" = 0 ] && chmod o+x "$p" 2>/dev/null || true; done
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000)))
  as_pg "'$bin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 >'$dir/initdb.log' 2>&1"
  as_pg "'$bin/pg_ctl' -D '$dir/data' -l '$dir/pg.log' -w -t 60 \
    -o \"-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start >'$dir/pg_ctl.log' 2>&1" \
    || { cat "$dir/pg.log" >&2; exit 1; }
  as_pg "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres dispatchoor_test"
  echo "postgres://postgres@127.0.0.1:$port/dispatchoor_test?sslmode=disable"
  ;;
stop)
  bin=$(find_bin)
  [ -d "$dir/data" ] && as_pg "'$bin/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null 2>&1" || true
  ;;
*)
  echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac
