//! Copying SQLite's write-ahead log into the database file when the
//! database is quiet, instead of inside the commit that crosses a size.
//!
//! SQLite's default makes the commit that takes the log past 1,000 pages
//! copy the log into the database file. A job's results (450 MB for an
//! insurance job at a million users) then pay for that copy while the job
//! runs: it was a fifth of an insurance job's CPU time. Pooled connections
//! therefore checkpoint only past [`SqliteConn::CHECKPOINT_CAP_BYTES`], a
//! bound on the log rather than a rhythm, and [`Checkpointer::tick`], called
//! a few times a second by the server, copies the log once no connection
//! has committed since its previous tick. Jobs that follow each other
//! leave no pause, and their log then reached the cap inside a worker's
//! commit, which held the write lock for seconds (an insurance job at a
//! million users took 5.4 s instead of 3.5): after [`BUSY_LIMIT`] of
//! commits without a pause the log is copied anyway, from the
//! checkpointer's own connection, beside the writers. That is also how
//! most of a bulk import's log is copied: an import writes for minutes
//! without a pause. Its own commits copy the rest past
//! [`SqliteConn::BULK_CHECKPOINT_BYTES`], and the import copies what is
//! left of its log before it answers.

use std::time::{Duration, Instant};

use crate::StoreError;
use crate::conn::SqliteConn;

/// How long commits may follow each other without a pause before the log
/// is copied while they continue: longer than one large job (an insurance
/// job at a million users writes 370 MB of log in about 3.5 s), so that a
/// job alone never shares the machine with a checkpoint.
pub const BUSY_LIMIT: Duration = Duration::from_secs(4);

/// The same while a bulk import writes: its commits never pause, and its
/// own commits would copy the log (past
/// [`SqliteConn::BULK_CHECKPOINT_BYTES`]) on the import's writing thread,
/// the pipeline's bottleneck. Copied this often, the log is copied on the
/// other core, mostly while the parsing thread waits for the writer.
pub const BULK_BUSY_LIMIT: Duration = Duration::from_millis(500);

/// What one [`Checkpointer::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing was committed since the last checkpoint.
    Clean,
    /// A connection committed since the previous tick: wait for a pause.
    Busy,
    /// The log was copied: `frames` of `log` frames (fewer when a reader
    /// still needs older pages; the next quiet tick copies the rest).
    Checkpointed { log: i64, frames: i64 },
}

/// Watches one SQLite database through a connection of its own.
pub struct Checkpointer {
    conn: rusqlite::Connection,
    /// The database file, to write out what a checkpoint copied (see [`Checkpointer::tick`]).
    file: std::fs::File,
    /// `PRAGMA data_version` at the previous tick: it changes when another
    /// connection (of any process) commits.
    version: i64,
    /// Commits since the last checkpoint that copied the whole log.
    dirty: bool,
    /// Since when every tick has seen a commit (`None`: the previous tick
    /// saw none), and how long that may last before the log is copied.
    busy_since: Option<Instant>,
    busy_limit: Duration,
    /// Bulk imports running on the store (see [`BULK_BUSY_LIMIT`]).
    bulk_imports: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
    /// The chunk size set on `conn` (0: none, and no import runs).
    chunk: i32,
    /// The file's length at the running import's first copy.
    appended_from: Option<i64>,
}

impl Checkpointer {
    pub fn open(path: &std::path::Path) -> Result<Self, StoreError> {
        let conn = SqliteConn::open(path)?.into_inner();
        let version = data_version(&conn)?;
        let file = std::fs::File::open(path)
            .map_err(|e| StoreError::Internal(format!("opening {}: {e}", path.display())))?;
        Ok(Checkpointer {
            conn,
            file,
            version,
            // A log left by an earlier process is copied at the first pause.
            dirty: true,
            busy_since: None,
            busy_limit: BUSY_LIMIT,
            bulk_imports: None,
            chunk: 0,
            appended_from: None,
        })
    }

    /// Copies the log every [`BULK_BUSY_LIMIT`] while `running` counts a
    /// bulk import.
    pub fn following_bulk_imports(
        mut self,
        running: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> Self {
        self.bulk_imports = Some(running);
        self
    }

    /// While an import runs, drops the pages of the file it appended
    /// (from the file's length at its first copy on) from the page cache,
    /// once written out. A million users' database outgrows the memory,
    /// and the kernel would otherwise reclaim page cache inside every
    /// copy. The writer reads none of them back: the pages it changes are
    /// in its own cache or the log.
    fn drop_appended_pages(&mut self) {
        if self.chunk == 0 {
            return;
        }
        let from = match self.appended_from {
            Some(from) => from,
            None => {
                let Ok(len) = self.file.metadata().map(|m| m.len() as i64) else {
                    return;
                };
                *self.appended_from.insert(len)
            }
        };
        crate::sqlite::drop_cached_pages(&self.file, from);
    }

    fn bulk_import_runs(&self) -> bool {
        self.bulk_imports
            .as_ref()
            .is_some_and(|n| n.load(std::sync::atomic::Ordering::Relaxed) > 0)
    }

    fn busy_limit(&self) -> Duration {
        if self.bulk_import_runs() {
            self.busy_limit.min(BULK_BUSY_LIMIT)
        } else {
            self.busy_limit
        }
    }

    /// The same with another [`BUSY_LIMIT`] (tests).
    pub fn with_busy_limit(mut self, limit: Duration) -> Self {
        self.busy_limit = limit;
        self
    }

    pub fn tick(&mut self) -> Result<Tick, StoreError> {
        // While an import writes, the copies this connection makes grow
        // the database file in chunks, allocated here rather than in the
        // import's own checkpoint (see `SqliteConn::set_chunk_size_of`).
        let chunk = if self.bulk_import_runs() {
            SqliteConn::BULK_CHUNK_BYTES
        } else {
            0
        };
        if chunk != self.chunk {
            SqliteConn::set_chunk_size_of(&self.conn, chunk)?;
            self.chunk = chunk;
        }
        if chunk == 0 {
            self.appended_from = None;
        }
        let version = data_version(&self.conn)?;
        if version != self.version {
            self.version = version;
            self.dirty = true;
            let since = *self.busy_since.get_or_insert_with(Instant::now);
            if since.elapsed() < self.busy_limit() {
                return Ok(Tick::Busy);
            }
            // Busy for too long: copy now, and wait as long again.
            self.busy_since = Some(Instant::now());
        } else {
            self.busy_since = None;
        }
        if !self.dirty {
            return Ok(Tick::Clean);
        }
        // PASSIVE: never waits for readers or writers; a commit that
        // arrives meanwhile simply continues the log.
        let (busy, log, frames): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        self.dirty = busy != 0 || frames < log;
        // SQLite writes the copied pages out (fsync) only when no commit
        // came while it copied, and during a bulk import one always does.
        // They were then written out by the import's own checkpoint
        // (every `BULK_CHECKPOINT_BYTES` of log, before the log starts
        // over), and its writer waited for the device. Written out here,
        // the wait is this thread's; when SQLite did write them, this
        // finds nothing to do.
        if frames > 0 {
            self.file
                .sync_data()
                .map_err(|e| StoreError::Internal(format!("writing the database out: {e}")))?;
            self.drop_appended_pages();
        }
        Ok(Tick::Checkpointed { log, frames })
    }
}

fn data_version(conn: &rusqlite::Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DbUrl, Store};

    /// The database file's size: pages reach it only by a checkpoint.
    fn file_bytes(store: &Store) -> u64 {
        let DbUrl::Sqlite(path) = store.url() else {
            unreachable!()
        };
        std::fs::metadata(path).unwrap().len()
    }

    #[test]
    fn the_log_is_copied_in_a_pause_not_by_the_commit_that_grows_it() {
        let dir = std::env::temp_dir().join(format!("finseg-checkpoint-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(DbUrl::in_data_dir(&dir)).unwrap();
        let mut checkpointer = store.checkpointer().unwrap().expect("SQLite has one");
        // The log left by opening (the schema) is copied at once.
        assert!(
            matches!(checkpointer.tick().unwrap(), Tick::Checkpointed { log, frames } if log == frames)
        );
        assert_eq!(checkpointer.tick().unwrap(), Tick::Clean);

        // 32 MiB in one commit: more than SQLite's default of 1,000 pages
        // (of 16 KiB), which would have copied the log inside the commit.
        {
            let mut c = store.conn().unwrap();
            c.batch(
                "CREATE TABLE filler (t TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8192)
                 INSERT INTO filler SELECT printf('%.4096c', 'x') FROM n;",
            )
            .unwrap();
        }
        assert!(file_bytes(&store) < 1 << 20, "{} bytes", file_bytes(&store));

        assert_eq!(checkpointer.tick().unwrap(), Tick::Busy);
        match checkpointer.tick().unwrap() {
            Tick::Checkpointed { log, frames } => {
                assert_eq!(log, frames);
                assert!(log > 1000, "{log}");
            }
            t => panic!("{t:?}"),
        }
        assert!(
            file_bytes(&store) > 32 << 20,
            "{} bytes",
            file_bytes(&store)
        );
        assert_eq!(checkpointer.tick().unwrap(), Tick::Clean);
        // The next commit starts the log over.
        let mut c = store.conn().unwrap();
        c.batch("INSERT INTO filler VALUES ('y')").unwrap();
        let log = &c.query("PRAGMA wal_checkpoint(PASSIVE)", &[]).unwrap()[0];
        assert!(matches!(log[1], crate::V::I(n) if n < 10), "{log:?}");
        drop(c);
        assert_eq!(
            store
                .conn()
                .unwrap()
                .query("SELECT count(*) FROM filler", &[])
                .unwrap()[0][0],
            crate::V::I(8193)
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_log_that_grows_without_a_pause_is_copied_after_the_busy_limit() {
        let dir = std::env::temp_dir().join(format!("finseg-busy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(DbUrl::in_data_dir(&dir)).unwrap();
        let write = |n: i64| {
            let mut c = store.conn().unwrap();
            c.exec(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
                 INSERT INTO filler SELECT printf('%.4096c', 'x') FROM n",
                &[crate::P::I(n)],
            )
            .unwrap();
        };
        store
            .conn()
            .unwrap()
            .batch("CREATE TABLE filler (t TEXT)")
            .unwrap();
        // Within the limit, commits between ticks leave the log as it is.
        let mut patient = store.checkpointer().unwrap().unwrap();
        assert!(matches!(patient.tick().unwrap(), Tick::Checkpointed { .. }));
        let before = file_bytes(&store);
        write(512);
        assert_eq!(patient.tick().unwrap(), Tick::Busy);
        write(512);
        assert_eq!(patient.tick().unwrap(), Tick::Busy);
        assert_eq!(file_bytes(&store), before);
        // Past it, a tick that sees a commit copies the log all the same.
        let mut hurried = store
            .checkpointer()
            .unwrap()
            .unwrap()
            .with_busy_limit(Duration::ZERO);
        write(512);
        match hurried.tick().unwrap() {
            Tick::Checkpointed { log, frames } => {
                assert_eq!(log, frames);
                // Three writes of 2 MiB each are in the log.
                assert!(log * SqliteConn::PAGE_SIZE > 6 << 20, "{log}");
            }
            t => panic!("{t:?}"),
        }
        assert!(
            file_bytes(&store) > before + (6 << 20),
            "{} bytes",
            file_bytes(&store)
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
