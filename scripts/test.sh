#!/usr/bin/env bash
# Set everything up and run the checks: ruff, then the test suite (unit + end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v psql >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq postgresql-client) >/dev/null
fi
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
