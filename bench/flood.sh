#!/usr/bin/env bash
# One command for the noisy-neighbour load test: see bench/flood.py.
set -euo pipefail
exec python3 "$(dirname "$0")/flood.py" "$@"
