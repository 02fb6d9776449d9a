#!/usr/bin/env bash
# Set everything up and run the checks: ruff, then the test suite (unit + end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
# client programs the client tests drive: psql, pgjdbc (javac + jar), psqlODBC (unixODBC)
pkgs=()
command -v psql >/dev/null 2>&1 || pkgs+=(postgresql-client)
command -v javac >/dev/null 2>&1 || pkgs+=(default-jdk-headless)
if [ ! -f /usr/share/java/postgresql.jar ] &&
  [ ! -f ~/.m2/repository/org/postgresql/postgresql/42.7.13/postgresql-42.7.13.jar ]; then
  pkgs+=(libpostgresql-jdbc-java)
fi
compgen -G "/usr/lib/*/odbc/psqlodbcw.so" >/dev/null || pkgs+=(odbc-postgresql)
command -v odbcinst >/dev/null 2>&1 || pkgs+=(unixodbc)
[ -f /usr/include/sql.h ] || pkgs+=(unixodbc-dev)
if [ ${#pkgs[@]} -gt 0 ]; then
  (apt-get update -qq && apt-get install -y -qq "${pkgs[@]}") >/dev/null
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
