#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on a private port for tests and benchmarks.
#   scripts/pg.sh start   → prints the DATABASE_URL to use
#   scripts/pg.sh stop    → stops the cluster and deletes its folder
# initdb refuses to run as root, so as root the cluster belongs to the postgres user.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
PORT=${PG_PORT:-55432}
STATE=${PG_STATE_FILE:-/tmp/anchang-pg-$PORT.dir}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "${1:-}" in
  start)
    if [ -f "$STATE" ] && [ -d "$(cat "$STATE")" ]; then "$0" stop >/dev/null 2>&1 || true; fi
    dir=$(mktemp -d /tmp/anchang-pg.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    echo "$dir" > "$STATE"
    as_owner "$PGBIN/initdb -D $dir/data -A trust -U postgres -E UTF8 --locale=C.UTF-8" >/dev/null
    # Durability is irrelevant for a throwaway test cluster; max_connections covers the benchmarks.
    as_owner "$PGBIN/pg_ctl -D $dir/data -l $dir/log -w start -o \"-p $PORT -k $dir -c listen_addresses=127.0.0.1 \
      -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600 -c shared_buffers=512MB\"" >/dev/null
    echo "postgres://postgres@127.0.0.1:$PORT/anchang"
    ;;
  stop)
    [ -f "$STATE" ] || exit 0
    dir=$(cat "$STATE")
    if [ -d "$dir/data" ]; then as_owner "$PGBIN/pg_ctl -D $dir/data -m immediate -w stop" >/dev/null 2>&1 || true; fi
    rm -rf "$dir" "$STATE"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
