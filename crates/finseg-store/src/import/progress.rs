//! How far a named import is committed, kept in the same transaction as
//! each batch it reports, so that it holds after a crash: a client resends
//! from the line after `committed_through`.

use crate::StoreError;
use crate::conn::{Conn, P, Row};

use super::{ImportSummary, KindCounts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub import_id: String,
    /// `RUNNING` (also after a crash, until the import is sent again),
    /// `COMPLETED` or `FAILED`.
    pub status: String,
    /// Every line up to this one is stored or rejected for good.
    pub committed_through: u64,
    /// Lines read, records written per kind and lines rejected, over every
    /// request of this import.
    pub lines: u64,
    pub written: KindCounts,
    pub rejected_count: u64,
    pub started_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "import_id, status, committed_through, lines, users, accounts, transactions,
                       daily_balances, rejected_count, started_at, updated_at";

fn progress(r: &Row) -> ImportProgress {
    let n = |i: usize| r[i].int().max(0) as u64;
    ImportProgress {
        import_id: r[0].text(),
        status: r[1].text(),
        committed_through: n(2),
        lines: n(3),
        written: KindCounts {
            user: n(4),
            account: n(5),
            transaction: n(6),
            daily_balance: n(7),
        },
        rejected_count: n(8),
        started_at: r[9].int(),
        updated_at: r[10].int(),
    }
}

pub fn get(
    c: &mut dyn Conn,
    client_pk: i64,
    import_id: &str,
) -> Result<Option<ImportProgress>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM imports WHERE client_pk = $1 AND import_id = $2");
    Ok(c.query_one(&sql, &[P::I(client_pk), P::T(import_id)])?
        .as_ref()
        .map(progress))
}

/// Starts the import, or continues it when the id is known (a resend).
pub(crate) fn start(c: &mut dyn Conn, client_pk: i64, import_id: &str) -> Result<(), StoreError> {
    let now = crate::now_unix();
    c.exec(
        "INSERT INTO imports (client_pk, import_id, status, committed_through, lines, users,
                              accounts, transactions, daily_balances, rejected_count,
                              started_at, updated_at)
         VALUES ($1, $2, 'RUNNING', 0, 0, 0, 0, 0, 0, 0, $3, $3)
         ON CONFLICT (client_pk, import_id) DO UPDATE SET status = 'RUNNING', updated_at = $3",
        &[P::I(client_pk), P::T(import_id), P::I(now)],
    )?;
    Ok(())
}

/// Adds what a batch did; `through` never moves back (a resend may start
/// before the committed line).
pub(crate) fn record(
    c: &mut dyn Conn,
    client_pk: i64,
    import_id: &str,
    through: u64,
    done: &ImportSummary,
) -> Result<(), StoreError> {
    let i = |v: u64| P::I(i64::try_from(v).unwrap_or(i64::MAX));
    c.exec(
        "UPDATE imports SET
             committed_through = CASE WHEN committed_through > $1 THEN committed_through ELSE $1 END,
             lines = lines + $2, users = users + $3, accounts = accounts + $4,
             transactions = transactions + $5, daily_balances = daily_balances + $6,
             rejected_count = rejected_count + $7, updated_at = $8
         WHERE client_pk = $9 AND import_id = $10",
        &[
            i(through),
            i(done.lines),
            i(done.written.user),
            i(done.written.account),
            i(done.written.transaction),
            i(done.written.daily_balance),
            i(done.rejected_count),
            P::I(crate::now_unix()),
            P::I(client_pk),
            P::T(import_id),
        ],
    )?;
    Ok(())
}

pub fn set_status(
    c: &mut dyn Conn,
    client_pk: i64,
    import_id: &str,
    status: &str,
) -> Result<(), StoreError> {
    c.exec(
        "UPDATE imports SET status = $1, updated_at = $2 WHERE client_pk = $3 AND import_id = $4",
        &[
            P::T(status),
            P::I(crate::now_unix()),
            P::I(client_pk),
            P::T(import_id),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::BulkImport;
    use finseg_core::Date;
    use finseg_core::bulk::{LineBatch, ParsedBatch};

    fn batch(first: u64, lines: &[&str]) -> ParsedBatch {
        let mut text = LineBatch::with_capacity(lines.len(), 4096);
        for (i, l) in lines.iter().enumerate() {
            text.push(first + i as u64, l);
        }
        let labeller = finseg_core::labelling::Labeller::default();
        ParsedBatch::parse_labelled(text, &labeller, &mut Default::default())
    }

    /// The committed line stops before a line that waits for its account
    /// (the waiting table does not survive a crash), and moves to the end
    /// once the import finishes; the progress row says the same after each
    /// batch, written in the batch's transaction.
    #[test]
    fn waiting_lines_hold_the_committed_line_back() {
        let (store, client_pk) = crate::testing::store_with_client("progress");
        let today = Date::parse("2026-11-15").unwrap();
        let stored = || {
            get(&mut *store.conn().unwrap(), client_pk, "n")
                .unwrap()
                .unwrap()
        };
        let mut imp = BulkImport::begin(&store, client_pk, today)
            .unwrap()
            .named("n", 11)
            .unwrap();
        assert_eq!(imp.committed_through(), 10);
        imp.write_parsed(&batch(
            11,
            &[
                r#"{"kind":"user","id":"u"}"#,
                r#"{"kind":"transaction","id":"t","accountId":"a","amount":"1","currency":"EUR","bookingDate":"2026-10-01"}"#,
                r#"{"kind":"user","id":"v"}"#,
            ],
        ))
        .unwrap();
        assert_eq!(imp.committed_through(), 11);
        assert_eq!((stored().committed_through, stored().lines), (11, 3));
        imp.write_parsed(&batch(
            14,
            &[r#"{"kind":"account","id":"a","userId":"u","type":"CHECKING","currency":"EUR","balance":"0"}"#],
        ))
        .unwrap();
        assert_eq!(stored().committed_through, 11);
        let summary = imp.finish().unwrap();
        assert_eq!(summary.written.transaction, 1);
        let done = stored();
        assert_eq!((done.committed_through, done.lines), (14, 4));
        assert_eq!(done.written.transaction, 1);
        assert_eq!(done.status, "RUNNING", "the server sets the final status");
    }
}
