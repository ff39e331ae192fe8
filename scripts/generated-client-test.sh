#!/usr/bin/env bash
# A client generated from the OpenAPI document by a standard generator
# (openapi-python-client, from PyPI; .ci/run installs it) runs segment jobs
# end to end against a demo (tests/client/end_to_end.py).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v openapi-python-client >/dev/null || {
    echo "generated-client-test: openapi-python-client is not installed (pip install openapi-python-client)" >&2
    exit 1
}
. scripts/lib/demo.sh
start_demo 100
dir="$demo_dir"
"$bin" openapi > "$dir/openapi.json"
# Bulk import bodies (NDJSON) and raw statement files have no generated
# call; the generator says so and generates everything else.
(cd "$dir" && openapi-python-client generate --path openapi.json --meta none >"$dir/generate.log" 2>&1) || {
    cat "$dir/generate.log" >&2
    exit 1
}
python3 tests/client/end_to_end.py "$dir" "http://127.0.0.1:$port" "$token"
