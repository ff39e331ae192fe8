#!/usr/bin/env python3
"""The side-by-side baseline: finseg's five segments written as the SQL an
analyst would write in DuckDB, over the same data (exported from finseg with
`finseg export`, so the labels are the same), with the same parameters as
bench/run.py. Prints each query's time and whether its member set equals
finseg's (files `<segment>.ids`, one user id per line).

    python3 bench/duckdb_baseline.py --csv DIR --today YYYY-MM-DD [--db FILE] [--members DIR] [--threads 2]

DuckDB comes from PyPI (bench/requirements.txt); bench/run.py --duckdb
installs it into bench/out/venv. The CSV files (transactions.csv may be
gzipped) are loaded into DuckDB tables first (not timed); each segment is
then one SQL statement (timed).
"""
import argparse
import datetime
import json
import os
import shutil
import sys
import time

import duckdb


def months_back(today, n):
    """The first day of the month n months before today's month, and the last
    day of the month before today's month (the last n complete months)."""
    y, m = today.year, today.month
    first = datetime.date(y + (m - 1 - n) // 12, (m - 1 - n) % 12 + 1, 1)
    last = datetime.date(y, m, 1) - datetime.timedelta(days=1)
    return first, last


LOAD = """
CREATE TABLE label_groups AS SELECT * FROM read_csv('{d}/label_groups.csv', header = true);
CREATE TABLE accounts AS SELECT * FROM read_csv('{d}/accounts.csv', header = true, types = {{
    'balance': 'DECIMAL(18,2)', 'balance_date': 'DATE', 'data_since': 'DATE', 'account_type': 'VARCHAR', 'iban': 'VARCHAR'}});
CREATE TABLE tx AS SELECT * EXCLUDE (labels), string_split(labels, ' ') AS labels
    FROM read_csv('{tx}', header = true, quote = '"', escape = '"', types = {{
    'amount': 'DECIMAL(18,2)', 'booking_date': 'DATE', 'labels': 'VARCHAR', 'purpose': 'VARCHAR',
    'counterpart_name': 'VARCHAR', 'counterpart_iban': 'VARCHAR', 'creditor_id': 'VARCHAR', 'mandate_reference': 'VARCHAR'}});
CREATE TABLE daily_balances AS SELECT * FROM read_csv('{d}/daily_balances.csv', header = true, types = {{
    'day': 'DATE', 'balance': 'DECIMAL(18,2)'}});
"""

# End-of-day balance of account a on day d: the supplied daily balance, else
# balance + C(d) - C(balance_date), C(x) = the account's bookings up to x.
# A day is known from dataSince (else the first booking) or when supplied.
LOW_BALANCE = """
WITH acc AS (
    SELECT a.account_id, a.user_id, a.balance, a.balance_date,
           COALESCE(a.data_since, LEAST((SELECT MIN(booking_date) FROM tx WHERE tx.account_id = a.account_id), a.balance_date)) AS since
    FROM accounts a WHERE a.account_type IN ('CHECKING')),
net AS (SELECT account_id, booking_date AS day, SUM(amount) AS net FROM tx GROUP BY ALL),
cum AS (SELECT account_id, day, SUM(net) OVER (PARTITION BY account_id ORDER BY day) AS c FROM net),
grid AS (SELECT acc.*, d::DATE AS day FROM acc, range(DATE '{p_from}', DATE '{p_to}' + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)),
at_day AS (SELECT g.*, COALESCE(c.c, 0) AS c_day FROM grid g ASOF LEFT JOIN cum c ON g.account_id = c.account_id AND g.day >= c.day),
anchor AS (SELECT acc.account_id, COALESCE(c.c, 0) AS c_anchor FROM acc ASOF LEFT JOIN cum c
           ON acc.account_id = c.account_id AND acc.balance_date >= c.day),
eod AS (SELECT d.user_id, d.account_id, d.day,
               COALESCE(s.balance, d.balance + d.c_day - an.c_anchor) AS eod,
               (d.day >= d.since OR s.balance IS NOT NULL) AS known
        FROM at_day d JOIN anchor an USING (account_id)
        LEFT JOIN daily_balances s ON s.account_id = d.account_id AND s.day = d.day),
per_month AS (SELECT user_id, date_trunc('month', day) AS month,
                     BOOL_OR(known AND eod < {threshold}) AS below
              FROM eod GROUP BY ALL)
SELECT user_id FROM per_month GROUP BY user_id
HAVING COUNT(*) FILTER (WHERE below) = {months}
"""

HIGH_BALANCE = """
WITH acc AS (
    SELECT a.account_id, a.user_id, a.balance, a.balance_date,
           COALESCE(a.data_since, LEAST((SELECT MIN(booking_date) FROM tx WHERE tx.account_id = a.account_id), a.balance_date)) AS since
    FROM accounts a WHERE a.account_type IN ('CHECKING', 'SAVINGS', 'POCKET')),
moved AS (SELECT acc.account_id,
                 COALESCE(SUM(t.amount) FILTER (WHERE t.booking_date > acc.balance_date AND t.booking_date <= DATE '{today}'), 0)
               - COALESCE(SUM(t.amount) FILTER (WHERE t.booking_date > DATE '{today}' AND t.booking_date <= acc.balance_date), 0) AS moved
          FROM acc LEFT JOIN tx t USING (account_id) GROUP BY acc.account_id),
latest_supplied AS (SELECT account_id, arg_max(balance, day) AS balance, MAX(day) AS day FROM daily_balances
                    WHERE day <= DATE '{today}' GROUP BY account_id),
current AS (SELECT acc.user_id,
                   CASE WHEN s.day = DATE '{today}' THEN s.balance
                        WHEN DATE '{today}' >= acc.since THEN acc.balance + m.moved
                        ELSE s.balance END AS balance
            FROM acc JOIN moved m USING (account_id) LEFT JOIN latest_supplied s USING (account_id))
SELECT DISTINCT user_id FROM current WHERE balance > {threshold}
"""

BREAKDOWN = """
WITH g AS (SELECT * FROM label_groups WHERE label_group IN ({groups})),
t AS (SELECT a.user_id, tx.transaction_id, tx.amount, tx.labels FROM tx JOIN accounts a USING (account_id)
      WHERE tx.booking_date BETWEEN DATE '{p_from}' AND DATE '{p_to}' AND NOT list_contains(tx.labels, 'OWNACCOUNTTRANSFER')),
in_group AS (SELECT DISTINCT t.user_id, g.label_group, t.transaction_id FROM t JOIN g ON list_contains(t.labels, g.label))
SELECT DISTINCT user_id FROM in_group
"""

INSURANCE = """
WITH ins AS (SELECT label FROM label_groups WHERE label_group = 'INSURANCE'),
payments AS (SELECT a.user_id, tx.account_id, COALESCE(tx.creditor_id, tx.counterpart_name) AS contract,
                    -tx.amount AS amount, tx.booking_date
             FROM tx JOIN accounts a USING (account_id)
             WHERE tx.amount < 0 AND tx.booking_date BETWEEN DATE '{p_from}' AND DATE '{p_to}'
               AND EXISTS (SELECT 1 FROM ins WHERE list_contains(tx.labels, ins.label))),
contracts AS (SELECT user_id, account_id, contract, COUNT(*) AS payments, median(amount) AS amount,
                     MIN(booking_date) AS first_payment, MAX(booking_date) AS last_payment
              FROM payments GROUP BY ALL)
SELECT DISTINCT user_id FROM contracts
"""

SUMMARY = """
SELECT a.user_id, COUNT(*) FILTER (WHERE amount > 0) AS incoming_count, SUM(amount) FILTER (WHERE amount > 0) AS incoming,
       COUNT(*) FILTER (WHERE amount < 0) AS outgoing_count, SUM(amount) FILTER (WHERE amount < 0) AS outgoing
FROM tx JOIN accounts a USING (account_id)
WHERE booking_date BETWEEN DATE '{p_from}' AND DATE '{p_to}' AND NOT list_contains(labels, 'OWNACCOUNTTRANSFER')
GROUP BY a.user_id
"""


def queries(today):
    low = months_back(today, 3)
    six = months_back(today, 6)
    twelve = months_back(today, 12)
    three = months_back(today, 3)
    groups = ", ".join(f"'{g}'" for g in ["INCOME", "INSURANCE", "RENTANDLIVING"])
    # lowBalance last: at 1M users its statement may fill the disk with spill
    # files, and the others should not run in what that leaves.
    return [
        ("highBalance", HIGH_BALANCE.format(today=today, threshold=10000)),
        ("financialBreakdown", BREAKDOWN.format(p_from=six[0], p_to=six[1], groups=groups)),
        ("insurance", INSURANCE.format(p_from=twelve[0], p_to=twelve[1])),
        ("incomeSpendingSummary", SUMMARY.format(p_from=three[0], p_to=three[1])),
        ("lowBalance", LOW_BALANCE.format(p_from=low[0], p_to=low[1], threshold=-100, months=3)),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--today", required=True, help="the jobs' creation date in the client's time zone")
    ap.add_argument("--members", help="directory with finseg's <segment>.ids files")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json", help="write the figures here as JSON")
    ap.add_argument("--memory-limit", default="20GB", help="DuckDB's memory_limit with --db")
    ap.add_argument("--remove-after-load", action="store_true",
                    help="delete the CSV files once DuckDB holds the data (disk is short at 1M users)")
    ap.add_argument("--db", help="a DuckDB database file (default: in memory); a large population does not fit in memory")
    args = ap.parse_args()
    today = datetime.date.fromisoformat(args.today)
    def connect():
        con = duckdb.connect(args.db or ":memory:")
        con.execute(f"SET threads = {args.threads}")
        if args.db:
            # What DuckDB may hold in memory; the rest spills beside the file.
            con.execute(f"SET memory_limit = '{args.memory_limit}'")
            con.execute(f"SET temp_directory = '{args.db}.tmp'")
        return con

    con = connect()
    t0 = time.time()
    tx = os.path.join(args.csv, "transactions.csv")
    if not os.path.exists(tx) and os.path.exists(tx + ".gz"):
        tx += ".gz"
    con.execute(LOAD.format(d=args.csv, tx=tx))
    n = con.execute("SELECT COUNT(*) FROM tx").fetchone()[0]
    if args.remove_after_load:
        con.execute("CHECKPOINT")
        for name in os.listdir(args.csv):
            os.remove(os.path.join(args.csv, name))
    print(f"duckdb {duckdb.__version__}: loaded {n:,} transactions in {time.time() - t0:.1f} s (not timed)", file=sys.stderr)
    out = {}
    for segment, sql in queries(today):
        t = time.time()
        try:
            rows = con.execute(sql).fetchall()
        except duckdb.Error as e:
            # E.g. its spill files filled the disk: say so, and go on with the
            # others on a new connection, without the spill files the failed
            # statement left (session 7: the statements after such a failure
            # ran 3-5x slower on the old connection).
            out[segment] = {"error": str(e), "seconds": time.time() - t}
            print(f"{segment:<24} failed after {time.time() - t:.1f} s: {e}", file=sys.stderr)
            con.close()
            if args.db:
                shutil.rmtree(args.db + ".tmp", ignore_errors=True)
            con = connect()
            continue
        secs = time.time() - t
        users = {r[0] for r in rows}
        agree = None
        if args.members:
            path = os.path.join(args.members, f"{segment}.ids")
            if os.path.exists(path):
                with open(path) as f:
                    finseg_users = {line.strip() for line in f if line.strip()}
                agree = {"same": users == finseg_users, "duckdbOnly": len(users - finseg_users),
                         "finsegOnly": len(finseg_users - users),
                         "examples": sorted(users ^ finseg_users)[:5]}
        out[segment] = {"seconds": secs, "members": len(users), "agreement": agree}
        print(f"{segment:<24}{secs:>8.2f} s {len(users):>10,} members  {json.dumps(agree) if agree else ''}",
              file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
