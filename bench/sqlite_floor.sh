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
# CPU seconds (user, system) per variant and per row (per transaction row
# for the block variants too).
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

# Runs $WORK/load.sql into a fresh t.db and prints its CPU time per row.
timed() {
  /usr/bin/time -f "%U %S" -o "$WORK/time" sqlite3 "$WORK/t.db" < "$WORK/load.sql" >/dev/null
  read -r u s < "$WORK/time"
  python3 -c 'import sys; n, u, s, rows = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]); print(f"{n:<40} {u:>8.2f} {s:>8.2f} {1e6 * (u + s) / rows:>8.2f}")' \
    "$1" "$u" "$s" "$ROWS"
}

printf '%-40s %8s %8s %8s\n' variant "user s" "sys s" "µs/row"
# The log is copied past 256 MiB, as by the import (in pages of the variant's size).
while IFS='|' read -r name mode page ddl; do
  rm -f "$WORK"/t.db*
  {
    echo "PRAGMA page_size = $page; PRAGMA journal_mode = $mode; PRAGMA synchronous = NORMAL;"
    echo "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = $((268435456 / page));"
    echo "ATTACH '$WORK/src.db' AS s;"
    echo "CREATE TABLE t AS SELECT * FROM s.transactions WHERE 0; $ddl"
    for ((lo = 1; lo <= MAXPK; lo += 5000)); do
      echo "INSERT INTO t SELECT * FROM s.transactions WHERE pk BETWEEN $lo AND $((lo + 4999));"
    done
  } > "$WORK/load.sql"
  timed "$name"
done <<VARIANTS
rows + both indexes, WAL (the service)|WAL|16384|$(echo $INDEXES)
rows + both indexes, WAL, 4 KiB pages|WAL|4096|$(echo $INDEXES)
rows + both indexes, WAL, 8 KiB pages|WAL|8192|$(echo $INDEXES)
rows + the id index only, WAL|WAL|16384|CREATE UNIQUE INDEX t_u ON t (client_pk, ext_id);
rows only, WAL|WAL|16384|
rows + both indexes, no journal|OFF|16384|$(echo $INDEXES)
VARIANTS

# The same rows stored in per-account blocks: each batch of 5,000 rows
# becomes one row per account it touches, holding that account's rows as
# one value, and the ids go in a table of their own (client, id → account)
# that keeps upserts by id possible. The blocks are prepared beforehand
# (not timed), so this is the storage side of a block layout only.
sqlite3 "$WORK/src.db" <<'SQL'
CREATE TABLE src_blocks AS
  SELECT (pk - 1) / 5000 AS batch, account_pk, MIN(booking_date) AS first_day,
         MAX(booking_date) AS last_day, COUNT(*) AS n,
         CAST(group_concat(ifnull(ext_id, '') || char(31) || ifnull(amount, '') || char(31) ||
             ifnull(currency, '') || char(31) || ifnull(booking_date, '') || char(31) ||
             ifnull(value_date, '') || char(31) || ifnull(purpose, '') || char(31) ||
             ifnull(counterpart_name, '') || char(31) ||
             ifnull(counterpart_iban, '') || char(31) ||
             ifnull(counterpart_bic, '') || char(31) || ifnull(creditor_id, '') || char(31) ||
             ifnull(mandate_reference, '') || char(31) ||
             ifnull(end_to_end_reference, '') || char(31) ||
             ifnull(bank_transaction_code, '') || char(31) ||
             ifnull(sepa_purpose_code, '') || char(31) || ifnull(mcc, '') || char(31) ||
             ifnull(client_labels, '') || char(31) || ifnull(rule_labels, '') || char(31) ||
             ifnull(label_rules_pk, ''), char(30)) AS BLOB) AS data
  FROM transactions GROUP BY 1, 2;
CREATE INDEX src_blocks_batch ON src_blocks (batch);
CREATE TABLE src_ids AS SELECT (pk - 1) / 5000 AS batch, client_pk, ext_id, account_pk FROM transactions;
CREATE INDEX src_ids_batch ON src_ids (batch);
SQL
BLOCKS=$(sqlite3 "$WORK/src.db" "SELECT COUNT(*) FROM src_blocks")
while IFS='|' read -r name ids; do
  rm -f "$WORK"/t.db*
  {
    echo "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    echo "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 16384;"
    echo "ATTACH '$WORK/src.db' AS s;"
    echo "CREATE TABLE b (pk INTEGER PRIMARY KEY, account_pk INT NOT NULL, first_day INT NOT NULL,"
    echo "  last_day INT NOT NULL, n INT NOT NULL, data BLOB NOT NULL);"
    echo "CREATE INDEX b_a ON b (account_pk, first_day);"
    echo "CREATE TABLE ids (client_pk INT NOT NULL, ext_id TEXT NOT NULL, account_pk INT NOT NULL,"
    echo "  PRIMARY KEY (client_pk, ext_id)) WITHOUT ROWID;"
    for ((batch = 0; batch <= (MAXPK - 1) / 5000; batch++)); do
      echo "BEGIN;"
      echo "INSERT INTO b (account_pk, first_day, last_day, n, data) SELECT account_pk, first_day, last_day, n, data FROM s.src_blocks WHERE batch = $batch;"
      [ "$ids" = yes ] && echo "INSERT INTO ids SELECT client_pk, ext_id, account_pk FROM s.src_ids WHERE batch = $batch;"
      echo "COMMIT;"
    done
  } > "$WORK/load.sql"
  timed "$name"
done <<VARIANTS
blocks + id table, WAL|yes
blocks only, WAL|no
VARIANTS
echo "rows: $ROWS in $BLOCKS blocks ($(sqlite3 --version | cut -d' ' -f1), the service bundles its own SQLite)"
