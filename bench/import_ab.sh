#!/usr/bin/env bash
# A/B of finseg builds on the bulk import: for each binary in turn, start
# `finseg serve` on a fresh data directory, import POPULATION with one
# `curl -T`, and print the
# throughput, the server's CPU seconds and its peak resident memory.
# THREADS=1 also prints the busiest threads' CPU seconds (all, user, system); KEEP=1 keeps each
# data directory (printed), STATES=1 samples the server's threads'
# states into DIR/states.txt (bench/thread_states.py; kept with KEEP=1). Alternate the binaries (A B A B) on a quiet machine: absolute speed drifts.
#
#   bench/import_ab.sh POPULATION BIN...
#
# e.g. target/release/finseg generate --users 10000 --seed 42 > /tmp/pop.ndjson
#      bench/import_ab.sh /tmp/pop.ndjson /tmp/finseg-a /tmp/finseg-b /tmp/finseg-a /tmp/finseg-b
set -euo pipefail
POP=$1
shift
PORT="${PORT:-18433}"
# A `.zst` population is sent as it is (Content-Encoding: zstd); PIPE_ZSTD=1
# pipes `zstd -dc` in instead (for builds before session 16).
CODING=()
case "$POP" in
  *.zst) if [ -n "${PIPE_ZSTD:-}" ]; then feed() { zstd -dc "$POP"; }; else feed() { cat "$POP"; }; CODING=(-H "Content-Encoding: zstd"); fi ;;
  *) feed() { cat "$POP"; } ;;
esac
printf '%-32s %14s %10s %10s %10s\n' binary "transactions/s" "seconds" "CPU s" "peak MiB"
for bin in "$@"; do
  dir=$(mktemp -d "${TMPDIR:-/tmp}/finseg-import-ab.XXXXXX")
  creds=$("$bin" --data-dir "$dir" clients create --name ab --json 2>/dev/null)
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientId"])' "$creds")
  secret=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientSecret"])' "$creds")
  FINSEG_LOG=warn "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$PORT" > /dev/null 2>&1 &
  pid=$!
  if [ -n "${STATES:-}" ]; then python3 "$(dirname "$0")/thread_states.py" "$pid" "$dir/states.txt" & fi
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.1; done
  token=$(curl -sf -X POST "127.0.0.1:$PORT/oauth/token" -d grant_type=client_credentials \
    -d client_id="$id" -d client_secret="$secret" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  start=$(date +%s.%N)
  feed | curl -sf -X POST "127.0.0.1:$PORT/api/v1/import" -H "Authorization: Bearer $token" \
    -H "Content-Type: application/x-ndjson" "${CODING[@]}" -T - -o "$dir/summary.json"
  end=$(date +%s.%N)
  cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$pid/stat")
  # THREADS=1: the CPU seconds of the server's busiest threads (all, user, system), to see which stage is the bottleneck.
  if [ -n "${THREADS:-}" ]; then
    for t in /proc/$pid/task/*; do
      awk -v n="$(cat "$t/comm")" '{printf "%8.2f %8.2f %8.2f %s\n", ($14 + $15) / 100, $14/100, $15/100, n}' "$t/stat"
    done | sort -rn | head -12 >&2
  fi
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$dir/summary.json" "$start" "$end" "$cpu" "$peak" "$bin" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["rejectedCount"] == 0, s["rejected"][:3]
tx, secs = s["written"]["transaction"], float(sys.argv[3]) - float(sys.argv[2])
print(f"{sys.argv[6]:<32} {tx / secs:>14,.0f} {secs:>10.2f} {float(sys.argv[4]):>10.1f} {int(sys.argv[5]) / 1024:>10,.0f}")
PY
  if [ -n "${STATES:-}" ]; then wait; cat "$dir/states.txt" >&2; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $dir" >&2; else rm -rf "$dir"; fi
done
