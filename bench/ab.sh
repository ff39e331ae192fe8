#!/usr/bin/env bash
# A/B of finseg builds on one kept database: for each binary in turn, start
# `finseg serve` on DATA_DIR, wait until its segment index holds USERS
# users and reflects the newest write, print the resident memory then, time RUNS jobs (bench/job.py) with
# PAUSE seconds between them, print the peak resident memory, stop it.
# Alternate the binaries (A B A B) on a quiet machine: absolute speed drifts.
#
#   bench/ab.sh DATA_DIR USERS SEGMENT PARAMS_JSON RUNS PAUSE BIN...
#
# e.g. bench/ab.sh bench/out/run-100000/data 100000 insurance \
#        '{"durationInMonth": 12}' 4 1 /tmp/finseg-a /tmp/finseg-b /tmp/finseg-a /tmp/finseg-b
# CREDENTIALS: the credentials file bench/run.py wrote (default: beside DATA_DIR).
# COLD=1: empty the page cache before the jobs (needs root), as a large
# import leaves it; the first job then reads the database's pages from disk.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1 USERS=$2 SEGMENT=$3 PARAMS=$4 RUNS=$5 PAUSE=$6
shift 6
CREDS="${CREDENTIALS:-$(dirname "$DATA")/credentials.json}"
PORT="${PORT:-18432}"
for bin in "$@"; do
  FINSEG_DATA_DIR="$DATA" FINSEG_LOG=warn "$bin" serve --listen "127.0.0.1:$PORT" > /dev/null 2>&1 &
  pid=$!
  start=$(date +%s.%N)
  # Ready: every user held, and the index at the newest write.
  until curl -s "127.0.0.1:$PORT/metrics" | awk -v n="$USERS" '
      $1 == "finseg_segment_index_users" {u = $2}
      $1 == "finseg_segment_index_seq" {s = $2}
      $1 == "finseg_ingest_seq" {w = $2}
      END {exit !(u == n && s != "" && s >= w)}'; do
    kill -0 "$pid" || { echo "$bin exited" >&2; exit 1; }
    sleep 0.2
  done
  built=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
  sleep 2
  if [ "${COLD:-}" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi
  rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  printf '%s: index built in %s s, %s MiB resident; jobs:' "$bin" "$built" "$rss"
  # The server's CPU seconds (user + system) over the jobs: steadier than
  # their wall-clock times when the machine's speed drifts.
  cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  before=$(cpu)
  for _ in $(seq 1 "$RUNS"); do
    python3 bench/job.py "http://127.0.0.1:$PORT" "$SEGMENT" "$PARAMS" 1 "$CREDS" | awk '{printf " %s (POST %s)", $2, $(NF-1)}'
    sleep "$PAUSE"
  done
  ticks=$(getconf CLK_TCK)
  printf ' s; %s CPU s per job' "$(awk -v a="$before" -v b="$(cpu)" -v n="$RUNS" -v t="$ticks" 'BEGIN {printf "%.3f", (b - a) / t / n}')"
  echo "; peak $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status") MiB"
  kill "$pid"
  while kill -0 "$pid" 2> /dev/null; do sleep 0.2; done
done
