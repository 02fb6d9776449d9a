#!/usr/bin/env bash
# Set everything up and run the checks: ruff, then the test suite (unit + end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v psql >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq postgresql-client) >/dev/null
fi
# node-postgres client tests (tests/clients/test_node_pg.py): node, npm, and pg + pg-cursor
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
fi
if [ ! -f tests/clients/node/node_modules/pg-cursor/package.json ]; then
  (cd tests/clients/node && npm ci --no-audit --no-fund --loglevel=error)
fi
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
