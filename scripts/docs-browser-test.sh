#!/usr/bin/env bash
# The API reference page (/docs) in headless Chromium from Debian's
# packages: it loads offline, a token is entered, a tried call gets 200.
#
#   scripts/docs-browser-test.sh [SCREENSHOT.png]
#
# Needs chromium (apt-get install chromium) and playwright-core
# (npm ci --prefix tests/browser); .ci/run installs both.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${FINSEG_BIN:-target/debug/finseg}"
[ -x "$bin" ] || cargo build -p finseg
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "docs-browser-test: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --no-audit --no-fund >/dev/null

dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" demo --users 20 --listen "127.0.0.1:$port" --data-dir "$dir" >"$dir/demo.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do
    grep -q "access token:" "$dir/demo.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/demo.log" >&2; exit 1; }
    sleep 0.5
done
token="$(sed -n 's/^ *access token: *\([^ ]*\).*/\1/p' "$dir/demo.log")"
node tests/browser/docs.mjs "http://127.0.0.1:$port" "$token" "${1:-}"
