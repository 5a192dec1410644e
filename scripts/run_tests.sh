#!/usr/bin/env bash
# The whole suite, first on the embedded SQLite default, then on a throwaway PostgreSQL 15
# cluster (where the locking tests run). `scripts/run_tests.sh sqlite|postgres` runs one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}
PYTEST=(.venv/bin/pytest -q -p no:cacheprovider)

if [ "$which" = sqlite ] || [ "$which" = both ]; then
  echo "== tests on SQLite =="
  env -u DATABASE_URL "${PYTEST[@]}"
fi

if [ "$which" = postgres ] || [ "$which" = both ]; then
  echo "== tests on PostgreSQL 15 =="
  url=$(scripts/pg.sh start)
  trap 'scripts/pg.sh stop' EXIT
  DATABASE_URL="$url" "${PYTEST[@]}"
fi
