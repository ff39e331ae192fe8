#!/usr/bin/env bash
# Generated requests against a running demo, from the OpenAPI document
# (schemathesis): fails on any 5xx answer and on any answer the document
# does not describe.
#
#   scripts/api-fuzz.sh [EXAMPLES_PER_OPERATION [SCHEMATHESIS_OPTIONS…]]    (default 30)
#
# e.g. `scripts/api-fuzz.sh 1000 --workers 2` for a long run.
#
# FINSEG_BIN picks the binary (default target/debug/finseg, which the
# test command builds). Needs schemathesis (pip install schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${1:-30}"
shift || true
bin="${FINSEG_BIN:-target/debug/finseg}"
command -v schemathesis >/dev/null || {
    echo "api-fuzz: schemathesis is not installed (pip install schemathesis)" >&2
    exit 1
}
[ -x "$bin" ] || cargo build -p finseg

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
[ -n "$token" ] || { echo "api-fuzz: the demo printed no token" >&2; cat "$dir/demo.log" >&2; exit 1; }

SCHEMATHESIS_HOOKS=api_fuzz_hooks PYTHONPATH="scripts${PYTHONPATH:+:$PYTHONPATH}" \
schemathesis run "http://127.0.0.1:$port/api-docs/openapi.json" \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" \
    --seed 1 \
    --generation-allow-x00 false \
    --request-timeout 30 \
    "$@"
