#!/usr/bin/env bash
# Installs the Python peers (ratarmountcore, barecat) into a virtual environment and runs
# `cotar-bench --peers` with that interpreter. Extra arguments go to cotar-bench, e.g.
#   Benchmarks/peers.sh --quick
#   Benchmarks/peers.sh --entries 1000000 --json peers.json
# Environment: VENV (default .build/bench-venv), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.build/bench-venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check ratarmountcore barecat
"$VENV/bin/python" -c 'import ratarmountcore, barecat' 
swift build -c release --product cotar-bench
exec .build/release/cotar-bench --peers --python "$VENV/bin/python" "$@"
