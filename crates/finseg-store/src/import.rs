//! Bulk writes: the all-or-nothing JSON batch and the streaming NDJSON import.

use finseg_core::bulk::ParsedBatch;
use finseg_core::record::{Record, RecordKind};
use finseg_core::{Date, FieldError, input};

use crate::conn::{Backend, Conn, P, in_transaction};
use crate::data::{Refusal, Writer};
use crate::{Pooled, Store, StoreError};

/// Writes every record or none: on the first refusal nothing is kept, and
/// every refusal is reported with the record's index as pointer prefix.
pub fn write_all(
    c: &mut dyn Conn,
    client_pk: i64,
    today: Date,
    records: &[Record],
) -> Result<Result<(), Vec<FieldError>>, StoreError> {
    let mut writer = Writer::new(client_pk, today);
    let outcome = in_transaction(c, |c| {
        writer.begin_batch(c)?;
        let mut errors = Vec::new();
        for (i, rec) in records.iter().enumerate() {
            if let Err(refusal) = writer.write(c, rec)? {
                errors.push(refusal.into_field_error().under(&format!("/{i}")));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AllOrNothing::Refused(errors))
        }
    });
    match outcome {
        Ok(()) => Ok(Ok(())),
        Err(AllOrNothing::Refused(e)) => Ok(Err(e)),
        Err(AllOrNothing::Store(e)) => Err(e),
    }
}

enum AllOrNothing {
    Refused(Vec<FieldError>),
    Store(StoreError),
}

impl From<StoreError> for AllOrNothing {
    fn from(e: StoreError) -> Self {
        AllOrNothing::Store(e)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KindCounts {
    pub user: u64,
    pub account: u64,
    pub transaction: u64,
    pub daily_balance: u64,
}

impl KindCounts {
    fn bump(&mut self, k: RecordKind) {
        match k {
            RecordKind::User => self.user += 1,
            RecordKind::Account => self.account += 1,
            RecordKind::Transaction => self.transaction += 1,
            RecordKind::DailyBalance => self.daily_balance += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line number in the request body.
    pub line: u64,
    /// JSON pointer of the offending field within that line's object.
    pub pointer: String,
    /// The field's name (the pointer's last segment), for readers of CSV reports.
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub lines: u64,
    /// Records written (created or replaced), per kind.
    pub written: KindCounts,
    /// Lines rejected (a line with several bad fields counts once).
    pub rejected_count: u64,
    /// The first [`MAX_REPORTED`] problems in line order, one per bad field.
    pub rejected: Vec<Rejection>,
}

/// The report keeps constant size whatever the body: beyond this many bad
/// lines only the count grows.
pub const MAX_REPORTED: usize = 10_000;

pub mod progress;
mod staging;
pub use staging::{Staged, Stager};

/// What writing one batch did, for [`Stager`].
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// The batch's sequence number.
    pub seq: i64,
    /// Whether each line was written (not refused, not waiting for a reference).
    written: Vec<bool>,
    /// Lines (by index) that created a user or an account, and its key.
    created: Vec<(usize, i64)>,
    /// Users another writer changed between two batches of this import.
    untracked: Vec<i64>,
    /// A stored record was replaced in this import.
    replaced: bool,
    /// The first line of the batch that waits for its user or account
    /// (in a temporary table, lost in a crash: not committed).
    first_pending: Option<u64>,
}

/// One streaming import: lines arrive in batches, each batch is committed in
/// one transaction. Records whose user or account has not arrived yet wait in
/// a temporary table and are retried at the end, so order does not matter.
impl Drop for BulkImport<'_> {
    fn drop(&mut self) {
        // The connection goes back to the pool with the usual cache.
        if self.conn.backend() == Backend::Sqlite {
            let _ = self
                .conn
                .batch(&crate::conn::SqliteConn::pooled_settings(self.page_size));
            let _ = self.conn.set_chunk_size(0);
        }
    }
}

pub struct BulkImport<'s> {
    conn: Pooled<'s>,
    /// Tells the checkpointer that a bulk import writes.
    _running: crate::BulkImportRunning,
    writer: Writer,
    summary: ImportSummary,
    /// Highest line up to which every line's outcome is committed (for a
    /// report after a failure, and for [`progress`]).
    committed_through: u64,
    /// The first line waiting for its user or account: lines from it on
    /// are not committed until [`BulkImport::finish`].
    first_pending: Option<u64>,
    /// The last line written.
    last_line: u64,
    /// The client's name for this import, when it keeps [`progress`].
    import_id: Option<String>,
    client_pk: i64,
    /// The SQLite database's page size (log limits are set in pages).
    page_size: i64,
}

fn kind_code(k: RecordKind) -> i64 {
    match k {
        RecordKind::User => 0,
        RecordKind::Account => 1,
        RecordKind::Transaction | RecordKind::DailyBalance => 2,
    }
}

impl<'s> BulkImport<'s> {
    pub fn begin(store: &'s Store, client_pk: i64, today: Date) -> Result<Self, StoreError> {
        let mut writer = Writer::new(client_pk, today);
        writer.keep_journal(true);
        let mut conn = store.conn()?;
        let int = match conn.backend() {
            Backend::Sqlite => "INTEGER",
            Backend::Postgres => "BIGINT",
        };
        conn.batch(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS import_pending (line {int} PRIMARY KEY, kind {int} NOT NULL, body TEXT NOT NULL)"
        ))?;
        conn.batch("DELETE FROM import_pending")?;
        let mut page_size = crate::conn::SqliteConn::PAGE_SIZE;
        if conn.backend() == Backend::Sqlite {
            if let Some(row) = conn.query_one("PRAGMA page_size", &[])? {
                page_size = row[0].int();
            }
            // The log file keeps its size while the import writes: cut
            // back at every restart of the log (to 64 MiB), it was given
            // back to the file system and allocated again, block by block,
            // and on a file system mounted with `discard` every cut waits
            // for the device, on the writer's thread; the pooled
            // connections' limit cuts the log back after the import.
            conn.batch(&format!(
                "PRAGMA cache_size = -{}; PRAGMA wal_autocheckpoint = {}; PRAGMA journal_size_limit = -1",
                crate::conn::SqliteConn::BULK_CACHE_KIB,
                crate::conn::SqliteConn::BULK_CHECKPOINT_BYTES / page_size
            ))?;
            conn.set_chunk_size(crate::conn::SqliteConn::BULK_CHUNK_BYTES)?;
        }
        Ok(BulkImport {
            _running: store.bulk_import_running(),
            conn,
            writer,
            summary: ImportSummary::default(),
            committed_through: 0,
            first_pending: None,
            last_line: 0,
            import_id: None,
            client_pk,
            page_size,
        })
    }

    /// Keeps this import's [`progress`] under the client's id for it; the
    /// request's lines are numbered from `first_line` (a resend starts
    /// after the line committed last).
    pub fn named(mut self, import_id: &str, first_line: u64) -> Result<Self, StoreError> {
        progress::start(&mut *self.conn, self.client_pk, import_id)?;
        self.import_id = Some(import_id.to_owned());
        self.committed_through = first_line.saturating_sub(1);
        self.last_line = self.committed_through;
        Ok(self)
    }

    pub fn committed_through(&self) -> u64 {
        self.committed_through
    }

    fn reject(summary: &mut ImportSummary, line: u64, errors: Vec<FieldError>) {
        summary.rejected_count += 1;
        for e in errors {
            if summary.rejected.len() < MAX_REPORTED {
                let field = e.pointer.rsplit('/').next().unwrap_or("").to_owned();
                summary.rejected.push(Rejection {
                    line,
                    pointer: e.pointer,
                    field,
                    reason: e.detail,
                });
            }
        }
    }

    /// Writes a batch of parsed lines in one transaction (parsing can then
    /// run on another thread than writing). Returns what the writes did,
    /// for [`Stager`]. When the database refuses the batch for what one of
    /// its lines holds, the batch is written again line by line, and only
    /// the lines the database refuses are rejected.
    pub fn write_parsed(&mut self, batch: &ParsedBatch) -> Result<BatchOutcome, StoreError> {
        let lines = &batch.lines[..];
        let mut staged = ImportSummary::default();
        let mut done = BatchOutcome {
            written: vec![false; lines.len()],
            ..BatchOutcome::default()
        };
        let last = lines.last().map_or(self.last_line, |l| l.line);
        let client_pk = self.client_pk;
        let first_pending = self.first_pending;
        let committed = self.committed_through;
        let Self {
            conn,
            writer,
            import_id,
            ..
        } = self;
        let through = |done: &BatchOutcome| {
            committed_through(last, committed, first_pending, done.first_pending)
        };
        let whole = in_transaction(&mut **conn, |c| {
            write_lines(c, writer, batch, 0..lines.len(), &mut staged, &mut done)?;
            if let Some(id) = import_id.as_deref() {
                progress::record(c, client_pk, id, through(&done), &staged)?;
            }
            Ok::<_, StoreError>(())
        });
        match whole {
            Ok(()) => {
                if let Some(journal) = writer.journal() {
                    done.untracked = std::mem::take(&mut journal.untracked);
                    done.replaced = journal.replaced;
                }
            }
            Err(e) if e.is_refusal_of_data() && !conn.is_broken() => {
                tracing::warn!(error = %e, "a batch of an import was refused; writing it line by line");
                staged = ImportSummary::default();
                done = BatchOutcome {
                    written: vec![false; lines.len()],
                    // What the index stages assumes one transaction a batch.
                    replaced: true,
                    ..BatchOutcome::default()
                };
                for (at, line) in lines.iter().enumerate() {
                    writer.forget_uncommitted();
                    let mut one = ImportSummary::default();
                    let written = in_transaction(&mut **conn, |c| {
                        write_lines(c, writer, batch, at..at + 1, &mut one, &mut done)
                    });
                    match written {
                        Ok(()) => merge_summary(&mut staged, one),
                        Err(e) if e.is_refusal_of_data() && !conn.is_broken() => {
                            done.written[at] = false;
                            done.created.retain(|(i, _)| *i != at);
                            staged.lines += 1;
                            Self::reject(
                                &mut staged,
                                line.line,
                                vec![FieldError::new(
                                    "",
                                    format!("the database refused this line: {e}"),
                                )],
                            );
                        }
                        Err(e) => return Err(e),
                    }
                }
                writer.forget_uncommitted();
                if let Some(id) = import_id.as_deref() {
                    let through = through(&done);
                    in_transaction(&mut **conn, |c| {
                        progress::record(c, client_pk, id, through, &staged)
                    })?;
                }
            }
            Err(e) => return Err(e),
        }
        merge_summary(&mut self.summary, staged);
        if !lines.is_empty() {
            self.committed_through = through(&done);
            self.last_line = last;
            if let Some(p) = done.first_pending {
                self.first_pending = Some(self.first_pending.map_or(p, |f| f.min(p)));
            }
        }
        Ok(done)
    }

    /// Retries the waiting records (accounts first), rejects those whose
    /// reference never arrived, and returns the report.
    pub fn finish(mut self) -> Result<ImportSummary, StoreError> {
        const PAGE: i64 = 2_000;
        // The waiting records change users the batches staged: their
        // `data_seq` moves on, and the index reads them back.
        self.writer.keep_journal(false);
        let before = ImportSummary {
            written: self.summary.written.clone(),
            rejected_count: self.summary.rejected_count,
            ..ImportSummary::default()
        };
        for kind in [1i64, 2] {
            let mut after = 0i64;
            loop {
                let rows = self.conn.query(
                    "SELECT line, body FROM import_pending WHERE kind = $1 AND line > $2 ORDER BY line LIMIT $3",
                    &[P::I(kind), P::I(after), P::I(PAGE)],
                )?;
                let Some(last) = rows.last() else { break };
                after = last[0].int();
                let Self {
                    conn,
                    writer,
                    summary,
                    ..
                } = &mut self;
                in_transaction(&mut **conn, |c| {
                    writer.begin_batch(c)?;
                    for r in &rows {
                        let line = r[0].int() as u64;
                        let rec = input::bulk_record(&r[1].text()).map_err(|_| {
                            StoreError::Internal("pending line no longer parses".into())
                        })?;
                        match writer.write(c, &rec)? {
                            Ok(()) => summary.written.bump(rec.kind()),
                            Err(refusal) => {
                                Self::reject(summary, line, vec![refusal.into_field_error()])
                            }
                        }
                    }
                    Ok::<_, StoreError>(())
                })?;
            }
        }
        self.conn.batch("DELETE FROM import_pending")?;
        if let Some(id) = self.import_id.clone() {
            // The waiting lines are settled now: everything read is committed.
            let settled = ImportSummary {
                lines: 0,
                written: diff_counts(&self.summary.written, &before.written),
                rejected_count: self.summary.rejected_count - before.rejected_count,
                rejected: Vec::new(),
            };
            let through = self.last_line;
            in_transaction(&mut *self.conn, |c| {
                progress::record(c, self.client_pk, &id, through, &settled)
            })?;
        }
        self.committed_through = self.last_line;
        if self.conn.backend() == Backend::Sqlite {
            // The log this import wrote is copied before it answers: the
            // import pays for it, not the jobs that follow it.
            self.conn.batch("PRAGMA wal_checkpoint(PASSIVE)")?;
        }
        self.summary.rejected.sort_by_key(|r| r.line);
        Ok(std::mem::take(&mut self.summary))
    }
}

/// Writes the lines `range` of a batch in the current transaction.
fn write_lines(
    c: &mut dyn Conn,
    writer: &mut Writer,
    batch: &ParsedBatch,
    range: std::ops::Range<usize>,
    staged: &mut ImportSummary,
    done: &mut BatchOutcome,
) -> Result<(), StoreError> {
    let lines = &batch.lines[..];
    writer.begin_batch(c)?;
    done.seq = writer.current_seq();
    // `at` is the line's index in the batch.
    let mut record_outcome = |c: &mut dyn Conn,
                              staged: &mut ImportSummary,
                              at: usize,
                              kind: RecordKind,
                              outcome: Result<(), Refusal>|
     -> Result<(), StoreError> {
        let line = lines[at].line;
        match outcome {
            Ok(()) => {
                staged.written.bump(kind);
                done.written[at] = true;
            }
            Err(Refusal::MissingReference(_)) => {
                done.first_pending = Some(done.first_pending.map_or(line, |f| f.min(line)));
                c.exec(
                    "INSERT INTO import_pending (line, kind, body) VALUES ($1, $2, $3)",
                    &[
                        P::I(line as i64),
                        P::I(kind_code(kind)),
                        P::T(batch.text.text(at)),
                    ],
                )?;
            }
            Err(Refusal::Conflict(e)) => BulkImport::reject(staged, line, vec![e]),
        }
        Ok(())
    };
    let mut i = range.start;
    while i < range.end {
        // A run of transactions goes in multi-row statements.
        let run_len = lines[i..range.end]
            .iter()
            .take_while(|l| matches!(l.record, Ok(Record::Transaction(_))))
            .count();
        if run_len > 0 {
            let run = &lines[i..i + run_len];
            let items: Vec<_> = run
                .iter()
                .filter_map(|l| match &l.record {
                    Ok(Record::Transaction(t)) => Some((&**t, l.labelled.as_ref())),
                    _ => None,
                })
                .collect();
            let outcomes = writer.transactions(c, &items)?;
            for (at, outcome) in (i..i + run_len).zip(outcomes) {
                staged.lines += 1;
                record_outcome(c, staged, at, RecordKind::Transaction, outcome)?;
            }
            i += run_len;
            continue;
        }
        let at = i;
        i += 1;
        staged.lines += 1;
        match &lines[at].record {
            Err(errors) => BulkImport::reject(staged, lines[at].line, errors.clone()),
            Ok(rec) => {
                let outcome = writer.write(c, rec)?;
                if let Some(pk) = writer.journal().and_then(|j| j.created.take()) {
                    done.created.push((at, pk));
                }
                record_outcome(c, staged, at, rec.kind(), outcome)?;
            }
        }
    }
    Ok(())
}

/// The line through which an import is committed once a batch ending at
/// `last` is: not past a line that still waits for its user or account.
fn committed_through(
    last: u64,
    committed: u64,
    waiting: Option<u64>,
    batch_waiting: Option<u64>,
) -> u64 {
    let first_waiting = match (waiting, batch_waiting) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    first_waiting.map_or(last, |w| last.min(w - 1).max(committed))
}

fn merge_summary(into: &mut ImportSummary, from: ImportSummary) {
    into.lines += from.lines;
    add_counts(&mut into.written, &from.written);
    into.rejected_count += from.rejected_count;
    for r in from.rejected {
        if into.rejected.len() < MAX_REPORTED {
            into.rejected.push(r);
        }
    }
}

fn diff_counts(a: &KindCounts, b: &KindCounts) -> KindCounts {
    KindCounts {
        user: a.user - b.user,
        account: a.account - b.account,
        transaction: a.transaction - b.transaction,
        daily_balance: a.daily_balance - b.daily_balance,
    }
}

fn add_counts(a: &mut KindCounts, b: &KindCounts) {
    a.user += b.user;
    a.account += b.account;
    a.transaction += b.transaction;
    a.daily_balance += b.daily_balance;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DbUrl, Store};

    /// While an import writes, its log file keeps its size and the
    /// database file grows in chunks (copied by the checkpointer); after
    /// it, the connection and the checkpointer are back to the pooled
    /// settings, and the checkpointer cuts the file back to its pages.
    #[test]
    fn an_import_keeps_its_log_file_and_grows_the_database_in_chunks() {
        let dir = std::env::temp_dir().join(format!("finseg-import-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(DbUrl::in_data_dir(&dir)).unwrap();
        let DbUrl::Sqlite(path) = store.url().clone() else {
            unreachable!()
        };
        let file_bytes = || std::fs::metadata(&path).unwrap().len();
        let chunk = crate::conn::SqliteConn::BULK_CHUNK_BYTES as u64;
        let pragma = |c: &mut dyn Conn, name: &str| {
            c.query_one(&format!("PRAGMA {name}"), &[])
                .unwrap()
                .unwrap()[0]
                .int()
        };
        let mut checkpointer = store
            .checkpointer()
            .unwrap()
            .unwrap()
            .with_busy_limit(std::time::Duration::ZERO);
        checkpointer.tick().unwrap();
        assert!(file_bytes() < chunk, "{}", file_bytes());

        let mut import = BulkImport::begin(&store, 1, Date::parse("2026-11-15").unwrap()).unwrap();
        assert_eq!(pragma(&mut *import.conn, "journal_size_limit"), -1);
        import
            .conn
            .batch(
                "CREATE TABLE filler (t TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 512)
                 INSERT INTO filler SELECT printf('%.4096c', 'x') FROM n;",
            )
            .unwrap();
        assert!(matches!(
            checkpointer.tick().unwrap(),
            crate::checkpoint::Tick::Checkpointed { .. }
        ));
        assert_eq!(file_bytes() % chunk, 0);
        assert!(file_bytes() >= chunk);
        // That copy marked where the import's appended pages begin; the
        // next one writes pages past it out and drops them from the page
        // cache, and they read back from the file.
        import
            .conn
            .batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 512)
                 INSERT INTO filler SELECT printf('%.4096c', 'y') FROM n;",
            )
            .unwrap();
        assert!(matches!(
            checkpointer.tick().unwrap(),
            crate::checkpoint::Tick::Checkpointed { .. }
        ));
        import
            .conn
            .batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        assert_eq!(
            import
                .conn
                .query_one("SELECT sum(length(t)), sum(t LIKE 'y%') FROM filler", &[])
                .unwrap()
                .unwrap()
                .iter()
                .map(|v| v.int())
                .collect::<Vec<_>>(),
            vec![1024 * 4096, 512]
        );

        drop(import);
        // The connection goes back to the pool with the pooled settings.
        let mut c = store.conn().unwrap();
        assert_eq!(
            pragma(&mut *c, "journal_size_limit"),
            crate::conn::SqliteConn::WAL_SIZE_LIMIT
        );
        c.batch("INSERT INTO filler VALUES ('y')").unwrap();
        drop(c);
        assert!(matches!(
            checkpointer.tick().unwrap(),
            crate::checkpoint::Tick::Checkpointed { .. }
        ));
        assert!(file_bytes() < chunk, "{}", file_bytes());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
