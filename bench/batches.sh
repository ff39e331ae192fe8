#!/usr/bin/env bash
# Many large JSON batches at once: see bench/batches.py.
set -euo pipefail
exec python3 "$(dirname "$0")/batches.py" "$@"
