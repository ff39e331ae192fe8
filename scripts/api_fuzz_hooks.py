"""Schemathesis hooks for scripts/api-fuzz.sh: the bulk import's body is
NDJSON, one JSON value a line, which schemathesis cannot write by itself."""

import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    values = value if isinstance(value, list) else [value]
    return "".join(json.dumps(v) + "\n" for v in values).encode()
