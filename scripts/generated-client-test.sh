#!/usr/bin/env bash
# A client generated from the OpenAPI document by a standard generator
# (openapi-python-client, from PyPI; .ci/run installs it) runs segment jobs
# end to end against a demo (tests/client/end_to_end.py).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${FINSEG_BIN:-target/debug/finseg}"
[ -x "$bin" ] || cargo build -p finseg
command -v openapi-python-client >/dev/null || {
    echo "generated-client-test: openapi-python-client is not installed (pip install openapi-python-client)" >&2
    exit 1
}
dir="$(mktemp -d)"
"$bin" openapi > "$dir/openapi.json"
# Bulk import bodies (NDJSON) and raw statement files have no generated
# call; the generator says so and generates everything else.
(cd "$dir" && openapi-python-client generate --path openapi.json --meta none >"$dir/generate.log" 2>&1) || {
    cat "$dir/generate.log" >&2
    exit 1
}
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" demo --users 100 --listen "127.0.0.1:$port" --data-dir "$dir/data" >"$dir/demo.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 120); do
    grep -q "access token:" "$dir/demo.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/demo.log" >&2; exit 1; }
    sleep 0.5
done
token="$(sed -n 's/^ *access token: *\([^ ]*\).*/\1/p' "$dir/demo.log")"
python3 tests/client/end_to_end.py "$dir" "http://127.0.0.1:$port" "$token"
