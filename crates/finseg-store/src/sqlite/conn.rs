//! [`SqliteConn`]: the [`Conn`] of the embedded SQLite database, with the
//! multi-row inserts of bulk writes bound through SQLite's C interface
//! (see [`RowStatements`]).

use crate::conn::{Conn, P, Row, V};
use crate::{Backend, StoreError};

/// Text from SQLite: finseg writes only UTF-8, so the check almost always
/// passes and the bytes are taken as they are.
fn text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    text_into(bytes, &mut s);
    s
}

/// [`text`] into a string whose memory is reused.
fn text_into(bytes: &[u8], s: &mut String) {
    s.clear();
    match std::str::from_utf8(bytes) {
        Ok(t) => s.push_str(t),
        Err(_) => s.push_str(&String::from_utf8_lossy(bytes)),
    }
}

pub struct SqliteConn {
    // Declared first, so dropped first: its statements are finalized
    // before the connection closes.
    rows: RowStatements,
    conn: rusqlite::Connection,
}

/// The multi-row insert statements of [`Conn::exec_rows`], prepared outside
/// rusqlite's statement cache so that text is bound without a copy
/// (`SQLITE_STATIC`): rusqlite copies every text parameter into memory of
/// SQLite's own (`SQLITE_TRANSIENT`), and a 64-row insert of transactions
/// binds some 400 of them. Its cache also hashes the whole 8 KB statement
/// text at every call; here a statement is found by its length first.
struct RowStatements {
    statements: Vec<RowStatement>,
}

struct RowStatement {
    sql: Box<str>,
    stmt: std::ptr::NonNull<rusqlite::ffi::sqlite3_stmt>,
    /// Which parameters are bound to NULL now (all of them when prepared):
    /// a NULL that stays NULL is not bound again (a transaction row has
    /// five or six, 3 % of the writer's instructions when bound each time).
    null: Vec<bool>,
}

/// How many multi-row statements a connection keeps prepared: the writer
/// uses one for a full chunk of rows and one for every shorter run (a
/// user's transactions end in one), so all of them fit.
const ROW_STATEMENTS: usize = 80;

// SAFETY: the statements belong to the connection they sit beside, which
// is `Send`; they move with it and are used only through it.
unsafe impl Send for RowStatements {}

impl Drop for RowStatements {
    fn drop(&mut self) {
        for row in self.statements.drain(..) {
            // SAFETY: prepared by this connection, finalized once.
            unsafe { rusqlite::ffi::sqlite3_finalize(row.stmt.as_ptr()) };
        }
    }
}

impl RowStatements {
    /// Runs `sql` with `params` bound without copies; returns the rows changed.
    fn exec(
        &mut self,
        conn: &rusqlite::Connection,
        sql: &str,
        params: &[P],
    ) -> Result<u64, StoreError> {
        use rusqlite::ffi;
        // SAFETY: `db` is the open connection's handle, used on this thread
        // only for the duration of this call.
        let db = unsafe { conn.handle() };
        let row = self.statement(db, sql)?;
        let stmt = row.stmt.as_ptr();
        let failure = |rc| sqlite_error(db, rc);
        // SAFETY: `stmt` is a live statement of `db`. Text is bound as
        // SQLITE_STATIC: `params` outlives the step. The bindings are left
        // as they are after it, pointing into `params`: SQLite reads them
        // only in a step, and every step here comes after every parameter
        // was bound again (the count is checked), but for NULLs kept from
        // the call before, which point nowhere. Clearing the bindings was
        // 3 % of an import's writer.
        unsafe {
            let expected = ffi::sqlite3_bind_parameter_count(stmt);
            if expected as usize != params.len() {
                return Err(StoreError::Internal(format!(
                    "a statement of {expected} parameters was given {}",
                    params.len()
                )));
            }
            let mut bound = Ok(());
            for (i, p) in params.iter().enumerate() {
                let at = (i + 1) as std::os::raw::c_int;
                let rc = match p {
                    P::Null if row.null[i] => continue,
                    P::Null => ffi::sqlite3_bind_null(stmt, at),
                    P::I(v) => ffi::sqlite3_bind_int64(stmt, at, *v),
                    P::T(s) => match std::os::raw::c_int::try_from(s.len()) {
                        Ok(len) => ffi::sqlite3_bind_text(
                            stmt,
                            at,
                            s.as_ptr().cast(),
                            len,
                            ffi::SQLITE_STATIC(),
                        ),
                        Err(_) => {
                            bound = Err(StoreError::Internal(
                                "a text parameter is over 2 GiB".into(),
                            ));
                            break;
                        }
                    },
                };
                if rc != ffi::SQLITE_OK {
                    bound = Err(failure(rc));
                    break;
                }
                row.null[i] = matches!(p, P::Null);
            }
            if bound.is_err() {
                // What a failed bind left is not known: bind all next time.
                row.null.fill(false);
            }
            let result = bound.and_then(|()| match ffi::sqlite3_step(stmt) {
                ffi::SQLITE_DONE => Ok(ffi::sqlite3_changes64(db) as u64),
                ffi::SQLITE_ROW => Err(StoreError::Internal(
                    "a multi-row insert returned rows".into(),
                )),
                rc => Err(failure(rc)),
            });
            ffi::sqlite3_reset(stmt);
            result
        }
    }

    /// The prepared statement for `sql`, prepared now if it is not kept.
    fn statement(
        &mut self,
        db: *mut rusqlite::ffi::sqlite3,
        sql: &str,
    ) -> Result<&mut RowStatement, StoreError> {
        use rusqlite::ffi;
        if let Some(at) = self
            .statements
            .iter()
            .position(|row| row.sql.len() == sql.len() && *row.sql == *sql)
        {
            return Ok(&mut self.statements[at]);
        }
        let len = std::os::raw::c_int::try_from(sql.len())
            .map_err(|_| StoreError::Internal("a statement is over 2 GiB".into()))?;
        let mut stmt = std::ptr::null_mut();
        let mut tail: *const std::os::raw::c_char = std::ptr::null();
        // SAFETY: `db` is open; SQLite reads `len` bytes of `sql`, and
        // `tail` points into them (or is left null).
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT as std::os::raw::c_uint,
                &mut stmt,
                &mut tail,
            )
        };
        // What SQLite did not read: a second statement would be ignored.
        let rest = if tail.is_null() {
            ""
        } else {
            &sql[(tail as usize - sql.as_ptr() as usize).min(sql.len())..]
        };
        if rc == ffi::SQLITE_OK && !rest.trim().is_empty() {
            // SAFETY: prepared just now, not listed.
            unsafe { ffi::sqlite3_finalize(stmt) };
            return Err(StoreError::Internal(
                "exec_rows runs one statement, and was given more".into(),
            ));
        }
        let Some(stmt) = std::ptr::NonNull::new(stmt).filter(|_| rc == ffi::SQLITE_OK) else {
            return Err(sqlite_error(db, rc));
        };
        if cfg!(debug_assertions) {
            // The same check as `check_placeholder_order`, for `$N`
            // names; `?N` and bare `?` are numbered as written.
            for i in 1..=unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) } {
                // SAFETY: `stmt` is live; names are NUL-terminated.
                let name = unsafe { ffi::sqlite3_bind_parameter_name(stmt.as_ptr(), i) };
                let name = (!name.is_null()).then(|| {
                    unsafe { std::ffi::CStr::from_ptr(name) }
                        .to_string_lossy()
                        .into_owned()
                });
                if name.as_deref().is_some_and(|n| n.starts_with('$')) {
                    assert_eq!(
                        name.as_deref(),
                        Some(format!("${i}").as_str()),
                        "placeholders must first appear in the order $1, $2, …"
                    );
                }
            }
        }
        if self.statements.len() >= ROW_STATEMENTS {
            let oldest = self.statements.remove(0);
            // SAFETY: prepared by this connection, no longer listed.
            unsafe { ffi::sqlite3_finalize(oldest.stmt.as_ptr()) };
        }
        // SAFETY: `stmt` is live. A new statement's parameters are NULL.
        let count = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) };
        self.statements.push(RowStatement {
            sql: sql.into(),
            stmt,
            // As long as the statement's parameters: `exec` indexes it by
            // parameter after checking their count.
            null: vec![true; usize::try_from(count).unwrap_or(0)],
        });
        Ok(self.statements.last_mut().expect("just pushed"))
    }
}

/// SQLite's error `rc` with the connection's message for it.
fn sqlite_error(db: *mut rusqlite::ffi::sqlite3, rc: std::os::raw::c_int) -> StoreError {
    use rusqlite::ffi;
    // SAFETY: `db` is an open connection; its message is copied at once.
    let msg = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(msg)).into()
}

impl SqliteConn {
    /// Runs a query and hands each row, as it is stepped, to `f`.
    fn each_row(
        &mut self,
        sql: &str,
        params: &[P],
        mut f: impl FnMut(Row),
    ) -> Result<(), StoreError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.conn.prepare_cached(sql)?;
        check_placeholder_order(&stmt);
        Self::bind(&mut stmt, params)?;
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            let mut r = Vec::with_capacity(n);
            for i in 0..n {
                r.push(match row.get_ref(i)? {
                    ValueRef::Null => V::Null,
                    ValueRef::Integer(v) => V::I(v),
                    ValueRef::Text(t) | ValueRef::Blob(t) => V::T(text(t)),
                    ValueRef::Real(f) => V::I(f as i64),
                });
            }
            f(r);
        }
        Ok(())
    }

    /// Page cache of a connection, in KiB: eight pooled connections
    /// reading a large database would otherwise hold 512 MiB between them
    /// (jobs read the segment index, not the database, as a rule).
    pub const CACHE_KIB: i64 = 8 * 1024;
    /// Page cache of the bulk importer's connection while it writes (the
    /// B-trees it inserts into stay cached).
    pub const BULK_CACHE_KIB: i64 = 64 * 1024;
    /// Page size of the databases this service creates. Four times
    /// SQLite's default: an import's rows fill a quarter as many pages, so
    /// the writer (the import's bottleneck) splits, checksums and logs a
    /// quarter as many. A database keeps the page size it was created
    /// with.
    pub const PAGE_SIZE: i64 = 16_384;
    /// Log size after which the bulk importer's commit checkpoints (1 GiB;
    /// SQLite's default is 1,000 pages). Meanwhile the server's
    /// checkpointer copies the log from its own connection, on the other
    /// core, twice a second, so the commit that crosses this finds most
    /// pages copied (and written out) and the log starts over. A small
    /// bound copies pages that later batches dirty again more often, and
    /// on the writer's thread; each start-over waits for the device, so a
    /// large one makes the writer wait seldom.
    pub const BULK_CHECKPOINT_BYTES: i64 = 1 << 30;
    /// Log size after which a pooled connection's commit checkpoints: a
    /// bound on the log (1 GiB), not a rhythm; the server's
    /// [`crate::checkpoint::Checkpointer`] copies the log in pauses.
    pub const CHECKPOINT_CAP_BYTES: i64 = 1 << 30;
    /// Bytes the log file is cut back to once it has been copied, so a
    /// burst does not leave a gigabyte file behind.
    pub(crate) const WAL_SIZE_LIMIT: i64 = 64 << 20;

    pub fn open(path: &std::path::Path) -> Result<Self, StoreError> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // The page size takes effect only while the file is empty (and
        // before WAL mode is set); an existing database keeps its own.
        conn.execute_batch(&format!("PRAGMA page_size = {};", Self::PAGE_SIZE))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = OFF;
             PRAGMA temp_store = MEMORY;
            ",
        )?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        conn.execute_batch(&Self::pooled_settings(page_size))?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(SqliteConn {
            rows: RowStatements {
                statements: Vec::new(),
            },
            conn,
        })
    }

    /// The cache and log settings of a pooled connection, which a bulk
    /// import changes and restores (the log limits are set in pages).
    pub(crate) fn pooled_settings(page_size: i64) -> String {
        format!(
            "PRAGMA cache_size = -{}; PRAGMA wal_autocheckpoint = {}; PRAGMA journal_size_limit = {};",
            Self::CACHE_KIB,
            Self::CHECKPOINT_CAP_BYTES / page_size,
            Self::WAL_SIZE_LIMIT
        )
    }

    /// Bytes by which the database file grows while a bulk import writes.
    pub const BULK_CHUNK_BYTES: i32 = 64 << 20;

    /// Makes `conn` grow the database file `bytes` at a time, allocated
    /// up front (`posix_fallocate`, enabled in `.cargo/config.toml`), and
    /// cut it back only to a multiple of that; 0 restores SQLite's
    /// default. A file that grows page by page gets its blocks allocated
    /// when the pages are written out: inside the fsync of the checkpoint
    /// an import's writer runs before its log starts over, where ext4
    /// reads block bitmaps from the disk for each new stretch of file. In
    /// chunks, the
    /// connection that copies the log (mostly the checkpointer, on the
    /// other core) allocates them, and the writer's fsync finds them.
    pub fn set_chunk_size_of(conn: &rusqlite::Connection, bytes: i32) -> Result<(), StoreError> {
        let mut size: std::ffi::c_int = bytes;
        // SAFETY: a valid connection handle, the main database's name and
        // an int, as SQLITE_FCNTL_CHUNK_SIZE takes.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                rusqlite::ffi::SQLITE_FCNTL_CHUNK_SIZE,
                (&raw mut size).cast(),
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            return Err(StoreError::Internal(format!(
                "setting the file's chunk size failed ({rc})"
            )));
        }
        Ok(())
    }

    pub(crate) fn into_inner(self) -> rusqlite::Connection {
        let SqliteConn { rows, conn } = self;
        drop(rows);
        conn
    }

    fn bind(stmt: &mut rusqlite::CachedStatement, params: &[P]) -> Result<(), StoreError> {
        for (i, p) in params.iter().enumerate() {
            match p {
                P::Null => stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
                P::I(v) => stmt.raw_bind_parameter(i + 1, v)?,
                P::T(s) => stmt.raw_bind_parameter(i + 1, s)?,
            }
        }
        Ok(())
    }
}

/// SQLite reads `$1` as a *named* parameter and numbers parameters by first
/// appearance; binding by position is right only when `$1…$n` first appear
/// in order. Debug builds check that for every statement.
fn check_placeholder_order(stmt: &rusqlite::CachedStatement) {
    if cfg!(debug_assertions) {
        for i in 1..=stmt.parameter_count() {
            let expected = format!("${i}");
            assert_eq!(
                stmt.parameter_name(i),
                Some(expected.as_str()),
                "placeholders must first appear in the order $1, $2, …"
            );
        }
    }
}

impl Conn for SqliteConn {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn exec(&mut self, sql: &str, params: &[P]) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        check_placeholder_order(&stmt);
        Self::bind(&mut stmt, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn exec_rows(&mut self, sql: &str, params: &[P]) -> Result<u64, StoreError> {
        self.rows.exec(&self.conn, sql, params)
    }

    fn query(&mut self, sql: &str, params: &[P]) -> Result<Vec<Row>, StoreError> {
        let mut out = Vec::new();
        self.each_row(sql, params, |r| out.push(r))?;
        Ok(out)
    }

    /// One row buffer for the whole read, its texts' memory reused from
    /// row to row: the segment index reads every new user's transactions
    /// back while an import runs (13 % of the server's CPU late in a
    /// million-user import), and a fresh row of fresh strings for each
    /// transaction was much of that.
    fn for_each_row(
        &mut self,
        sql: &str,
        params: &[P],
        f: &mut dyn FnMut(&Row),
    ) -> Result<(), StoreError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.conn.prepare_cached(sql)?;
        check_placeholder_order(&stmt);
        Self::bind(&mut stmt, params)?;
        let mut r: Row = vec![V::Null; stmt.column_count()];
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            for (i, slot) in r.iter_mut().enumerate() {
                match row.get_ref(i)? {
                    ValueRef::Null => *slot = V::Null,
                    ValueRef::Integer(v) => *slot = V::I(v),
                    ValueRef::Text(t) | ValueRef::Blob(t) => match slot {
                        V::T(s) => text_into(t, s),
                        _ => *slot = V::T(text(t)),
                    },
                    ValueRef::Real(v) => *slot = V::I(v as i64),
                }
            }
            f(&r);
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn set_chunk_size(&mut self, bytes: i32) -> Result<(), StoreError> {
        SqliteConn::set_chunk_size_of(&self.conn, bytes)
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn begin_read(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN DEFERRED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(name: &str) -> (SqliteConn, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("finseg-conn-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = SqliteConn::open(&dir.join("t.db")).unwrap();
        c.batch("CREATE TABLE t (id TEXT NOT NULL UNIQUE, n INTEGER, note TEXT)")
            .unwrap();
        (c, dir)
    }

    fn insert_sql(rows: usize) -> String {
        let values: Vec<String> = (0..rows)
            .map(|r| format!("(${}, ${}, ${})", 3 * r + 1, 3 * r + 2, 3 * r + 3))
            .collect();
        format!(
            "INSERT OR IGNORE INTO t (id, n, note) VALUES {}",
            values.join(", ")
        )
    }

    #[test]
    fn multi_row_inserts_store_what_was_bound_and_count_what_they_took() {
        let (mut c, dir) = open("rows");
        // Texts built here and dropped after the call: the statement keeps no pointer into them.
        let texts: Vec<String> = vec!["a".into(), String::new(), "Müller – ß".into()];
        let params = [
            P::T(&texts[0]),
            P::I(1),
            P::T(&texts[1]),
            P::T(&texts[2]),
            P::I(-2),
            P::Null,
        ];
        assert_eq!(c.exec_rows(&insert_sql(2), &params).unwrap(), 2);
        drop(texts);
        // A repeated id is skipped and not counted; the same statement is run again.
        let again = [P::T("a"), P::I(9), P::Null, P::T("b"), P::I(3), P::T("x")];
        assert_eq!(c.exec_rows(&insert_sql(2), &again).unwrap(), 1);
        // Nothing of an earlier run is left behind: not after a run that
        // stored its values, and not after one that failed.
        let sql = "INSERT INTO t (id, n, note) VALUES ($1, $2, $3)";
        assert_eq!(
            c.exec_rows(sql, &[P::T("c"), P::I(4), P::T("kept?")])
                .unwrap(),
            1
        );
        assert_eq!(c.exec_rows(sql, &[P::T("d"), P::Null, P::Null]).unwrap(), 1);
        assert!(
            c.exec_rows(sql, &[P::T("d"), P::I(5), P::T("failed")])
                .is_err()
        );
        assert_eq!(c.exec_rows(sql, &[P::T("e"), P::Null, P::Null]).unwrap(), 1);
        // NULLs kept from the run before (not bound again), beside a value.
        assert_eq!(c.exec_rows(sql, &[P::T("f"), P::Null, P::Null]).unwrap(), 1);
        assert_eq!(c.exec_rows(sql, &[P::T("g"), P::I(7), P::Null]).unwrap(), 1);
        assert_eq!(c.exec_rows(sql, &[P::T("h"), P::Null, P::Null]).unwrap(), 1);
        let rows = c
            .query("SELECT id, n, note FROM t ORDER BY rowid", &[])
            .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![V::T("a".into()), V::I(1), V::T(String::new())],
                vec![V::T("Müller – ß".into()), V::I(-2), V::Null],
                vec![V::T("b".into()), V::I(3), V::T("x".into())],
                vec![V::T("c".into()), V::I(4), V::T("kept?".into())],
                vec![V::T("d".into()), V::Null, V::Null],
                vec![V::T("e".into()), V::Null, V::Null],
                vec![V::T("f".into()), V::Null, V::Null],
                vec![V::T("g".into()), V::I(7), V::Null],
                vec![V::T("h".into()), V::Null, V::Null],
            ]
        );
        drop(c);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn more_statements_than_are_kept_still_run_and_errors_are_reported() {
        let (mut c, dir) = open("evict");
        let mut next = 0i64;
        // Every length from 1 to past the number kept, twice, so that
        // evicted statements are prepared again.
        for _ in 0..2 {
            for rows in 1..=ROW_STATEMENTS + 5 {
                let ids: Vec<String> = (0..rows)
                    .map(|i| format!("id{}", next + i as i64))
                    .collect();
                let mut params = Vec::new();
                for (i, id) in ids.iter().enumerate() {
                    params.extend([P::T(id), P::I(next + i as i64), P::Null]);
                }
                assert_eq!(
                    c.exec_rows(&insert_sql(rows), &params).unwrap(),
                    rows as u64
                );
                next += rows as i64;
            }
        }
        assert!(c.rows.statements.len() <= ROW_STATEMENTS);
        let count = c.query("SELECT count(*), sum(n) FROM t", &[]).unwrap();
        assert_eq!(count[0], vec![V::I(next), V::I(next * (next - 1) / 2)]);

        // A constraint that aborts: SQLite's message comes through, and the
        // connection goes on working.
        let err = c
            .exec_rows(
                "INSERT INTO t (id, n, note) VALUES ($1, $2, $3)",
                &[P::T("id0"), P::I(0), P::Null],
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("UNIQUE constraint failed: t.id"),
            "{err}"
        );
        let err = c
            .exec_rows(&insert_sql(1), &[P::T("only one")])
            .unwrap_err();
        assert!(
            err.to_string().contains("3 parameters was given 1"),
            "{err}"
        );
        let err = c
            .exec_rows(
                "INSERT INTO t (id) VALUES ($1); DELETE FROM t",
                &[P::T("two")],
            )
            .unwrap_err();
        assert!(err.to_string().contains("one statement"), "{err}");
        let err = c
            .exec_rows("INSERT INTO nowhere VALUES ($1)", &[P::I(1)])
            .unwrap_err();
        assert!(err.to_string().contains("no such table: nowhere"), "{err}");
        assert_eq!(
            c.exec_rows(&insert_sql(1), &[P::T("last"), P::I(0), P::Null])
                .unwrap(),
            1
        );
        drop(c);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rows_read_one_by_one_are_each_their_own() {
        // The reader reuses one row buffer: a short text after a long one,
        // NULL after text and text after NULL must all come out as stored.
        let (mut c, dir) = open("each");
        c.batch(
            "INSERT INTO t (id, n, note) VALUES
               ('a long first identifier', 1, 'a long note'),
               ('b', NULL, NULL),
               ('c', 3, 'x'),
               ('ü', 4, '')",
        )
        .unwrap();
        let mut seen = Vec::new();
        c.for_each_row("SELECT id, n, note FROM t ORDER BY rowid", &[], &mut |r| {
            seen.push(r.clone())
        })
        .unwrap();
        assert_eq!(
            seen,
            c.query("SELECT id, n, note FROM t ORDER BY rowid", &[])
                .unwrap()
        );
        assert_eq!(seen[1], vec![V::T("b".into()), V::Null, V::Null]);
        assert_eq!(seen[2], vec![V::T("c".into()), V::I(3), V::T("x".into())]);
        drop(c);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
