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

[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "docs-browser-test: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
[ -d tests/browser/node_modules/playwright-core ] || npm ci --prefix tests/browser --no-audit --no-fund >/dev/null
. scripts/lib/demo.sh
start_demo 20
node tests/browser/docs.mjs "http://127.0.0.1:$port" "$token" "${1:-}"
