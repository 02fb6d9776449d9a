#!/usr/bin/env bash
# Set everything up and run the server on the embedded default data dir (./vecgres-data).
# Extra arguments go to `vecgres serve` (e.g. --port 0, --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/vecgres serve "$@"
