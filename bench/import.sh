#!/usr/bin/env bash
# Benchmark: POST /api/v1/import throughput into the embedded SQLite store.
#
#   bench/import.sh [USERS]        (default 100000 users, seed 42)
#
# Generates the population with the project's generator into a file first,
# so that only the service's work is timed: HTTP, parsing, validation and
# writing. Prints transactions/s, the server's peak resident memory and the
# database size. Work files go to bench/out/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-100000}"
OUT="bench/out/import-$USERS"
PORT="${PORT:-18431}"
rm -rf "$OUT"
mkdir -p "$OUT"

cargo build --release --quiet -p finseg
BIN=target/release/finseg

echo "generating $USERS users …" >&2
$BIN generate --users "$USERS" --seed 42 > "$OUT/population.ndjson"
TX=$(grep -c '"kind":"transaction"' "$OUT/population.ndjson")
BYTES=$(stat -c %s "$OUT/population.ndjson")

CREDS=$($BIN --data-dir "$OUT/data" clients create --name bench --json)
CID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientId"])' "$CREDS")
SECRET=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientSecret"])' "$CREDS")

FINSEG_LOG=warn $BIN --data-dir "$OUT/data" serve --listen "127.0.0.1:$PORT" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/oauth/token" -d grant_type=client_credentials \
  -d client_id="$CID" -d client_secret="$SECRET" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

echo "importing $TX transactions ($((BYTES / 1048576)) MiB) …" >&2
START=$(date +%s.%N)
curl -sf -X POST "http://127.0.0.1:$PORT/api/v1/import" -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/x-ndjson" -T "$OUT/population.ndjson" -o "$OUT/summary.json"
END=$(date +%s.%N)
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
kill $PID; wait $PID 2>/dev/null || true
trap - EXIT

python3 - "$OUT/summary.json" "$START" "$END" "$TX" "$RSS_KB" "$OUT/data" "$USERS" <<'PY'
import json, os, sys
summary = json.load(open(sys.argv[1]))
start, end, tx, rss_kb, data, users = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
secs = end - start
written = summary["written"]["transaction"]
assert written == tx, f"written {written} != generated {tx}"
assert summary["rejectedCount"] == 0, summary["rejected"][:5]
size = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data))
print(f"users               {users}")
print(f"transactions        {tx}")
print(f"import time         {secs:.1f} s")
print(f"throughput          {tx / secs:,.0f} transactions/s  (target 500,000)")
print(f"server peak RSS     {rss_kb / 1024:,.0f} MiB")
print(f"database on disk    {size / 1048576:,.0f} MiB")
PY
