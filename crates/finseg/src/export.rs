//! `finseg export`: a client's stored data as CSV files, for analysts and for
//! the DuckDB baseline of the benchmark (`bench/duckdb_baseline.py`).
//!
//! Files: `accounts.csv`, `transactions.csv` (labels as space-separated
//! names, client and rule labels together), `daily_balances.csv` and
//! `label_groups.csv` (group, label). Amounts are exact decimals, dates ISO.
//! Read in key order, a page at a time: memory does not grow with the data.
//! `+client_pk` keeps the planner on the key range: with the (client, id)
//! index it sorted the whole table for every page (quadratic; 8 minutes
//! for half of a 100,000-user export).

use std::io::Write;
use std::path::Path;

use finseg_core::labels::{GROUPS, LabelSet};
use finseg_core::{Amount, Date};
use finseg_store::{Conn, P, StoreError};

const PAGE: i64 = 50_000;

/// Counts of rows written per file.
pub struct Exported {
    pub accounts: u64,
    pub transactions: u64,
    pub daily_balances: u64,
}

fn field(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    if s.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", s.replace('"', "\"\""))
    } else {
        out.write_all(s.as_bytes())
    }
}

fn row(out: &mut impl Write, fields: &[&str]) -> std::io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        field(out, f)?;
    }
    out.write_all(b"\n")
}

fn create(dir: &Path, name: &str) -> Result<std::io::BufWriter<std::fs::File>, String> {
    let f = std::fs::File::create(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
    Ok(std::io::BufWriter::with_capacity(1 << 20, f))
}

fn io(e: std::io::Error) -> String {
    e.to_string()
}

fn store(e: StoreError) -> String {
    e.to_string()
}

fn date(days: i64) -> String {
    Date::from_days(days as i32).to_string()
}

pub fn export(c: &mut dyn Conn, client_pk: i64, dir: &Path) -> Result<Exported, String> {
    std::fs::create_dir_all(dir).map_err(io)?;
    label_groups(dir)?;
    Ok(Exported {
        accounts: accounts(c, client_pk, dir)?,
        transactions: transactions(c, client_pk, dir)?,
        daily_balances: daily_balances(c, client_pk, dir)?,
    })
}

/// `label_groups.csv`: which labels each group holds.
fn label_groups(dir: &Path) -> Result<(), String> {
    let mut out = create(dir, "label_groups.csv")?;
    row(&mut out, &["label_group", "label"]).map_err(io)?;
    for (group, labels) in GROUPS {
        for l in *labels {
            row(&mut out, &[group, l]).map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    Ok(())
}

/// `accounts.csv`, a page at a time.
fn accounts(c: &mut dyn Conn, client_pk: i64, dir: &Path) -> Result<u64, String> {
    let mut n = 0u64;
    let mut out = create(dir, "accounts.csv")?;
    row(
        &mut out,
        &[
            "account_id",
            "user_id",
            "account_type",
            "currency",
            "balance",
            "balance_date",
            "data_since",
            "iban",
        ],
    )
    .map_err(io)?;
    let mut after = 0i64;
    loop {
        let rows = c
            .query(
                "SELECT a.pk, a.ext_id, u.ext_id, a.account_type, a.currency, a.balance, a.balance_date, a.data_since, a.iban
                 FROM accounts a JOIN users u ON u.pk = a.user_pk
                 WHERE +a.client_pk = $1 AND a.pk > $2 ORDER BY a.pk LIMIT $3",
                &[P::I(client_pk), P::I(after), P::I(PAGE)],
            )
            .map_err(store)?;
        let Some(last) = rows.last() else { break };
        after = last[0].int();
        for r in &rows {
            let kind = finseg_core::AccountType::from_code(r[3].int() as i16)
                .map_or("CHECKING", |t| t.as_str());
            let since = r[7].opt_int().map(date).unwrap_or_default();
            row(
                &mut out,
                &[
                    &r[1].text(),
                    &r[2].text(),
                    kind,
                    &r[4].text(),
                    &Amount::from_cents(r[5].int()).to_string(),
                    &date(r[6].int()),
                    &since,
                    &r[8].opt_text().unwrap_or_default(),
                ],
            )
            .map_err(io)?;
            n += 1;
        }
    }
    out.flush().map_err(io)?;
    Ok(n)
}

/// `transactions.csv` with the labels of each, a page at a time.
fn transactions(c: &mut dyn Conn, client_pk: i64, dir: &Path) -> Result<u64, String> {
    let mut n = 0u64;
    let mut out = create(dir, "transactions.csv")?;
    row(
        &mut out,
        &[
            "transaction_id",
            "account_id",
            "amount",
            "booking_date",
            "labels",
            "purpose",
            "counterpart_name",
            "counterpart_iban",
            "creditor_id",
            "mandate_reference",
        ],
    )
    .map_err(io)?;
    let mut after = 0i64;
    loop {
        let rows = c
            .query(
                "SELECT t.pk, t.ext_id, a.ext_id, t.amount, t.booking_date, (t.client_labels | t.rule_labels),
                    t.purpose, t.counterpart_name, t.counterpart_iban, t.creditor_id, t.mandate_reference
                 FROM transactions t JOIN accounts a ON a.pk = t.account_pk
                 WHERE +t.client_pk = $1 AND t.pk > $2 ORDER BY t.pk LIMIT $3",
                &[P::I(client_pk), P::I(after), P::I(PAGE)],
            )
            .map_err(store)?;
        let Some(last) = rows.last() else { break };
        after = last[0].int();
        for r in &rows {
            let labels: Vec<&str> = LabelSet(r[5].int() as u64)
                .iter()
                .map(|l| l.name())
                .collect();
            row(
                &mut out,
                &[
                    &r[1].text(),
                    &r[2].text(),
                    &Amount::from_cents(r[3].int()).to_string(),
                    &date(r[4].int()),
                    &labels.join(" "),
                    &r[6].opt_text().unwrap_or_default(),
                    &r[7].opt_text().unwrap_or_default(),
                    &r[8].opt_text().unwrap_or_default(),
                    &r[9].opt_text().unwrap_or_default(),
                    &r[10].opt_text().unwrap_or_default(),
                ],
            )
            .map_err(io)?;
            n += 1;
        }
    }
    out.flush().map_err(io)?;
    Ok(n)
}

/// `daily_balances.csv`, a page at a time.
fn daily_balances(c: &mut dyn Conn, client_pk: i64, dir: &Path) -> Result<u64, String> {
    let mut n = 0u64;
    let mut out = create(dir, "daily_balances.csv")?;
    row(&mut out, &["account_id", "day", "balance"]).map_err(io)?;
    let (mut after_acc, mut after_day) = (0i64, i64::MIN);
    loop {
        let rows = c
            .query(
                "SELECT d.account_pk, d.day, a.ext_id, d.balance FROM daily_balances d JOIN accounts a ON a.pk = d.account_pk
                 WHERE a.client_pk = $1 AND (d.account_pk > $2 OR (d.account_pk = $2 AND d.day > $3))
                 ORDER BY d.account_pk, d.day LIMIT $4",
                &[P::I(client_pk), P::I(after_acc), P::I(after_day), P::I(PAGE)],
            )
            .map_err(store)?;
        let Some(last) = rows.last() else { break };
        (after_acc, after_day) = (last[0].int(), last[1].int());
        for r in &rows {
            row(
                &mut out,
                &[
                    &r[2].text(),
                    &date(r[1].int()),
                    &Amount::from_cents(r[3].int()).to_string(),
                ],
            )
            .map_err(io)?;
            n += 1;
        }
    }
    out.flush().map_err(io)?;
    Ok(n)
}
