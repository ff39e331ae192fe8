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
command -v schemathesis >/dev/null || {
    echo "api-fuzz: schemathesis is not installed (pip install schemathesis)" >&2
    exit 1
}
. scripts/lib/demo.sh
start_demo 20

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
