#!/usr/bin/env bash
# One command for the whole benchmark: see bench/run.py.
set -euo pipefail
exec python3 "$(dirname "$0")/run.py" "$@"
