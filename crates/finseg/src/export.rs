//! `finseg export`: a client's stored data as CSV files, for analysts and for
//! the DuckDB baseline of the benchmark (`bench/duckdb_baseline.py`).
//!
//! Files: `accounts.csv`, `transactions.csv` (labels as space-separated
//! names, client and rule labels together), `daily_balances.csv` and
//! `label_groups.csv` (group, label). Amounts are exact decimals, dates ISO.
//! The store reads a page at a time (`finseg_store::export`); the files
//! are written with the `csv` crate.

use std::path::Path;

use finseg_core::labels::GROUPS;
use finseg_store::{Conn, StoreError, export};

use crate::progress::{Progress, thousands};

const PAGE: i64 = 50_000;

/// Counts of rows written per file.
pub struct Exported {
    pub accounts: u64,
    pub transactions: u64,
    pub daily_balances: u64,
}

type CsvFile = csv::Writer<std::io::BufWriter<std::fs::File>>;

fn create(dir: &Path, name: &str, header: &[&str]) -> Result<CsvFile, String> {
    let f = std::fs::File::create(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(std::io::BufWriter::with_capacity(1 << 20, f));
    w.write_record(header).map_err(|e| format!("{name}: {e}"))?;
    Ok(w)
}

fn written(e: csv::Error) -> String {
    e.to_string()
}

fn store(e: StoreError) -> String {
    e.to_string()
}

pub fn export(c: &mut dyn Conn, client_pk: i64, dir: &Path) -> Result<Exported, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    label_groups(dir)?;
    let mut progress = Progress::new("export");
    Ok(Exported {
        accounts: accounts(c, client_pk, dir, &mut progress)?,
        transactions: transactions(c, client_pk, dir, &mut progress)?,
        daily_balances: daily_balances(c, client_pk, dir, &mut progress)?,
    })
}

/// `label_groups.csv`: which labels each group holds.
fn label_groups(dir: &Path) -> Result<(), String> {
    let mut out = create(dir, "label_groups.csv", &["label_group", "label"])?;
    for (group, labels) in GROUPS {
        for l in *labels {
            out.write_record([group, l]).map_err(written)?;
        }
    }
    out.flush().map_err(|e| e.to_string())
}

fn accounts(
    c: &mut dyn Conn,
    client_pk: i64,
    dir: &Path,
    progress: &mut Progress,
) -> Result<u64, String> {
    let mut out = create(
        dir,
        "accounts.csv",
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
    )?;
    let (mut n, mut after) = (0u64, 0i64);
    loop {
        let rows = export::accounts(c, client_pk, after, PAGE).map_err(store)?;
        let Some(last) = rows.last() else { break };
        after = last.pk;
        for a in &rows {
            out.write_record([
                a.id.as_str(),
                &a.user_id,
                a.account_type.as_str(),
                &a.currency,
                &a.balance.to_string(),
                &a.balance_date.to_string(),
                &a.data_since.map(|d| d.to_string()).unwrap_or_default(),
                a.iban.as_deref().unwrap_or_default(),
            ])
            .map_err(written)?;
        }
        n += rows.len() as u64;
        progress.update(|| format!("{} accounts written", thousands(n)));
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(n)
}

fn transactions(
    c: &mut dyn Conn,
    client_pk: i64,
    dir: &Path,
    progress: &mut Progress,
) -> Result<u64, String> {
    let mut out = create(
        dir,
        "transactions.csv",
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
    )?;
    let (mut n, mut after) = (0u64, 0i64);
    loop {
        let rows = export::transactions(c, client_pk, after, PAGE).map_err(store)?;
        let Some(last) = rows.last() else { break };
        after = last.pk;
        for t in &rows {
            let labels: Vec<&str> = t.labels.iter().map(|l| l.name()).collect();
            let text = |s: &Option<String>| s.as_deref().unwrap_or_default().to_owned();
            out.write_record([
                t.id.clone(),
                t.account_id.clone(),
                t.amount.to_string(),
                t.booking_date.to_string(),
                labels.join(" "),
                text(&t.purpose),
                text(&t.counterpart_name),
                text(&t.counterpart_iban),
                text(&t.creditor_id),
                text(&t.mandate_reference),
            ])
            .map_err(written)?;
        }
        n += rows.len() as u64;
        progress.update(|| format!("{} transactions written", thousands(n)));
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(n)
}

fn daily_balances(
    c: &mut dyn Conn,
    client_pk: i64,
    dir: &Path,
    progress: &mut Progress,
) -> Result<u64, String> {
    let mut out = create(dir, "daily_balances.csv", &["account_id", "day", "balance"])?;
    let (mut n, mut after) = (0u64, (0i64, i64::MIN));
    loop {
        let rows = export::daily_balances(c, client_pk, after, PAGE).map_err(store)?;
        let Some(last) = rows.last() else { break };
        after = (last.account_pk, i64::from(last.day.days()));
        for b in &rows {
            out.write_record([
                b.account_id.as_str(),
                &b.day.to_string(),
                &b.balance.to_string(),
            ])
            .map_err(written)?;
        }
        n += rows.len() as u64;
        progress.update(|| format!("{} daily balances written", thousands(n)));
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(n)
}
