#!/usr/bin/env bash
# Serves the demo: the background worker (notifications, reminders, periodic jobs) beside gunicorn.
# Ctrl+C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
.venv/bin/anchang worker &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
.venv/bin/anchang serve --port "$PORT"
