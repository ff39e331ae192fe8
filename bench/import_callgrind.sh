#!/usr/bin/env bash
# Instructions an import costs, counted by valgrind's callgrind: the same
# for the same binary and population whatever else the machine does, so
# that builds can be compared where wall-clock A/Bs drown in the VM's
# drift (±15 % between runs of one binary). For each binary: start
# `finseg serve` under callgrind on a fresh data directory, import
# POPULATION (plain NDJSON; a few thousand users), stop it, and print the
# instructions of the whole server and of each stage (inclusive): the
# parsing thread, the writing thread and index staging.
#
#   bench/import_callgrind.sh POPULATION BIN...
#
# e.g. target/release/finseg generate --users 2000 --seed 42 > /tmp/pop-2000.ndjson
#      bench/import_callgrind.sh /tmp/pop-2000.ndjson /tmp/finseg-a /tmp/finseg-b
# Counts leave out what instructions do not show: cache misses, the
# kernel, memory first touched. Whether the segment index read users back
# depends on timing under valgrind, so the refresh is printed apart.
set -euo pipefail
POP=$1
shift
PORT="${PORT:-18471}"
command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null
printf '%-28s %16s %16s %16s %16s %16s\n' binary total parse write stage refresh
for bin in "$@"; do
  dir=$(mktemp -d "${TMPDIR:-/tmp}/finseg-callgrind.XXXXXX")
  creds=$("$bin" --data-dir "$dir" clients create --name cg --json 2>/dev/null)
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientId"])' "$creds")
  secret=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientSecret"])' "$creds")
  FINSEG_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$PORT" > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.2; done
  token=$(curl -sf -X POST "127.0.0.1:$PORT/oauth/token" -d grant_type=client_credentials \
    -d client_id="$id" -d client_secret="$secret" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -sf -X POST "127.0.0.1:$PORT/api/v1/import" -H "Authorization: Bearer $token" \
    -H "Content-Type: application/x-ndjson" -T "$POP" -o "$dir/summary.json"
  kill -INT "$pid"; wait "$pid" || true
  callgrind_annotate --inclusive=yes "$dir/cg.out" 2>/dev/null | python3 -c '
import re, sys
want = {"parse": "import.rs:finseg_store::import::ParsedBatch::parse_labelled",
        "write": "import.rs:finseg_store::import::BulkImport::write_parsed",
        "stage": "staging.rs:finseg_store::import::staging::Stager::stage",
        "refresh": "index.rs:finseg_store::index::changes_since_staged"}
got, total = {}, 0
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) ", line)
    if not m:
        continue
    n = int(m.group(1).replace(",", ""))
    if "PROGRAM TOTALS" in line:
        total = n
    for k, key in want.items():
        if key in line:
            got[k] = max(got.get(k, 0), n)
print(f"{sys.argv[1]:<28} {total:>16,} " + " ".join(f"{got.get(k, 0):>16,}" for k in want))
' "$bin"
  [ -n "${KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
done
