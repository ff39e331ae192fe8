#!/usr/bin/env bash
# What SQLite alone costs per transaction row, with no parsing, labelling,
# binding or HTTP: the rows of a kept import copied into a fresh table of
# the same schema and indexes, 5,000 rows per transaction (the import's
# batch), with the service's journal settings. The floor under any
# per-row writer.
#
#   bench/sqlite_floor.sh DATA_DIR        (e.g. bench/out/import-10000/data)
#
# Uses Debian's sqlite3 shell (installed if missing). Prints the shell's
# CPU seconds (user, system) per variant and per row.
set -euo pipefail
DATA="${1:?usage: bench/sqlite_floor.sh DATA_DIR}"
command -v sqlite3 >/dev/null || apt-get install -y -q sqlite3 >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/finseg-floor.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp "$DATA"/finseg.db* "$WORK/"
mv "$WORK/finseg.db" "$WORK/src.db"
[ -f "$WORK/finseg.db-wal" ] && mv "$WORK/finseg.db-wal" "$WORK/src.db-wal"
rm -f "$WORK"/finseg.db-shm
sqlite3 "$WORK/src.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
ROWS=$(sqlite3 "$WORK/src.db" "SELECT COUNT(*) FROM transactions")
MAXPK=$(sqlite3 "$WORK/src.db" "SELECT MAX(pk) FROM transactions")
INDEXES="CREATE UNIQUE INDEX t_u ON t (client_pk, ext_id);
         CREATE INDEX t_a ON t (account_pk, booking_date);"

printf '%-40s %8s %8s %8s\n' variant "user s" "sys s" "µs/row"
while IFS='|' read -r name mode ddl; do
  rm -f "$WORK"/t.db*
  {
    echo "PRAGMA journal_mode = $mode; PRAGMA synchronous = NORMAL;"
    echo "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000;"
    echo "ATTACH '$WORK/src.db' AS s;"
    echo "CREATE TABLE t AS SELECT * FROM s.transactions WHERE 0; $ddl"
    for ((lo = 1; lo <= MAXPK; lo += 5000)); do
      echo "INSERT INTO t SELECT * FROM s.transactions WHERE pk BETWEEN $lo AND $((lo + 4999));"
    done
  } > "$WORK/load.sql"
  /usr/bin/time -f "%U %S" -o "$WORK/time" sqlite3 "$WORK/t.db" < "$WORK/load.sql" >/dev/null
  read -r u s < "$WORK/time"
  python3 -c 'import sys; n, u, s, rows = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]); print(f"{n:<40} {u:>8.2f} {s:>8.2f} {1e6 * (u + s) / rows:>8.2f}")' \
    "$name" "$u" "$s" "$ROWS"
done <<VARIANTS
rows + both indexes, WAL (the service)|WAL|$(echo $INDEXES)
rows only, WAL|WAL|
rows + both indexes, no journal|OFF|$(echo $INDEXES)
VARIANTS
echo "rows: $ROWS ($(sqlite3 --version | cut -d' ' -f1), the service bundles its own SQLite)"
