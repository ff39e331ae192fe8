//! finseg storage: the schema and every query, over SQLite (embedded
//! default) and PostgreSQL (several nodes).
//!
//! The API is synchronous; the server calls it from blocking threads. Every
//! function that reads or writes client data takes the client's key first:
//! there is no query without a tenant.
// C is called only in `sqlite`, which states its safety argument.
#![deny(unsafe_code)]

pub mod checkpoint;
pub mod clients;
pub mod conn;
pub mod corrections;
pub mod coverage;
pub mod data;
pub mod export;
pub mod import;
pub mod jobs;
pub mod pg;
pub mod relabel;
pub mod rules;
pub mod schema;
pub mod segment_index;
pub mod snapshot;
pub mod sqlite;
pub mod statements;
#[cfg(test)]
mod testing;

use std::path::PathBuf;
use std::sync::{Condvar, Mutex};

pub use conn::{Backend, Conn, P, V};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("database url: {0}")]
    Url(String),
    #[error("{0}")]
    Internal(String),
    /// Every connection stayed in use for the whole borrow timeout.
    #[error("no database connection became free within {0:?}")]
    Busy(std::time::Duration),
}

impl StoreError {
    /// The database refused what a statement wrote (a constraint, a value
    /// out of range, a limit of the engine), rather than failing itself: the
    /// same statement without the offending row would succeed.
    pub fn is_refusal_of_data(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::ConstraintViolation
                    | rusqlite::ErrorCode::TooBig
                    | rusqlite::ErrorCode::TypeMismatch
            ),
            StoreError::Postgres(e) => e.code().is_some_and(|state| {
                let code = state.code();
                // 22: data exception, 23: integrity constraint violation,
                // 54: program limit exceeded (an index row too large),
                // P0001: raised by a trigger or function.
                code.starts_with("22")
                    || code.starts_with("23")
                    || code.starts_with("54")
                    || code == "P0001"
            }),
            _ => false,
        }
    }
}

/// Where the data lives, parsed from `--database-url` or the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::Url("sqlite:// needs a file path".into()));
            }
            Ok(DbUrl::Sqlite(PathBuf::from(path)))
        } else {
            Err(StoreError::Url(format!(
                "'{url}' is neither postgres://… nor sqlite://…"
            )))
        }
    }

    /// The embedded default: `finseg.db` in the data directory.
    pub fn in_data_dir(dir: &std::path::Path) -> Self {
        DbUrl::Sqlite(dir.join("finseg.db"))
    }

    /// For logs: the URL without a password.
    pub fn redacted(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbUrl::Postgres(u) => match (u.find("://"), u.rfind('@')) {
                (Some(s), Some(at)) if at > s => format!("postgres://…{}", &u[at..]),
                _ => u.clone(),
            },
        }
    }
}

/// A bounded pool of connections to one database. A borrow waits at most
/// [`Store::borrow_timeout`]; a connection whose server side died is
/// dropped (when it is returned broken, or when it fails a check before it
/// is lent out again) and replaced by a new one.
pub struct Store {
    url: DbUrl,
    idle: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
    borrow_timeout: std::time::Duration,
    /// Bulk imports writing through this store now (the checkpointer copies
    /// their log more often, see [`checkpoint`]).
    bulk_imports: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

struct PoolState {
    idle: Vec<Box<dyn Conn>>,
    open: usize,
}

/// A connection borrowed from the pool; returned when dropped.
pub struct Pooled<'a> {
    conn: Option<Box<dyn Conn>>,
    store: &'a Store,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = dyn Conn;
    fn deref(&self) -> &Self::Target {
        self.conn.as_deref().expect("present until drop")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.conn.as_deref_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut st = self.store.idle.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = self.conn.take() {
            if std::thread::panicking() || c.is_broken() {
                st.open -= 1;
            } else {
                st.idle.push(c);
            }
        }
        self.store.freed.notify_one();
    }
}

/// How long an idle PostgreSQL connection may take to answer the check
/// before it is lent out (loopback answers in well under a millisecond).
const ALIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Store {
    /// Opens the database (creating the SQLite file and its directory) and
    /// brings the schema up to date.
    pub fn open(url: DbUrl) -> Result<Store, StoreError> {
        if let DbUrl::Sqlite(path) = &url
            && let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Internal(format!("create {}: {e}", dir.display())))?;
        }
        let max = match url {
            DbUrl::Sqlite(_) => 8,
            DbUrl::Postgres(_) => 16,
        };
        let store = Store {
            url,
            idle: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            max,
            borrow_timeout: std::time::Duration::from_secs(30),
            bulk_imports: Default::default(),
        };
        schema::migrate(&mut *store.conn()?)?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self.url {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    /// A watcher that copies SQLite's log into the database file in pauses
    /// (see [`checkpoint`]); `None` on PostgreSQL, which does its own.
    /// Counts a bulk import while the guard lives.
    pub(crate) fn bulk_import_running(&self) -> BulkImportRunning {
        self.bulk_imports
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        BulkImportRunning(self.bulk_imports.clone())
    }

    pub fn checkpointer(&self) -> Result<Option<checkpoint::Checkpointer>, StoreError> {
        match &self.url {
            DbUrl::Sqlite(path) => checkpoint::Checkpointer::open(path)
                .map(|c| Some(c.following_bulk_imports(self.bulk_imports.clone()))),
            DbUrl::Postgres(_) => Ok(None),
        }
    }

    fn connect(&self) -> Result<Box<dyn Conn>, StoreError> {
        Ok(match &self.url {
            DbUrl::Sqlite(path) => Box::new(conn::SqliteConn::open(path)?),
            DbUrl::Postgres(url) => Box::new(conn::PgConn::open(url)?),
        })
    }

    /// How long [`Store::conn`] waits for a free connection before it
    /// gives up with [`StoreError::Busy`].
    pub fn with_borrow_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.borrow_timeout = timeout;
        self
    }

    /// Borrows a connection, waiting while all are in use, at most the
    /// borrow timeout. An idle connection that no longer answers is
    /// dropped and the next one (or a new one) taken.
    pub fn conn(&self) -> Result<Pooled<'_>, StoreError> {
        let deadline = std::time::Instant::now() + self.borrow_timeout;
        let mut st = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(mut c) = st.idle.pop() {
                drop(st);
                // The check is a round trip, made without holding the lock.
                if c.backend() == Backend::Sqlite || c.is_alive(ALIVE_TIMEOUT) {
                    return Ok(Pooled {
                        conn: Some(c),
                        store: self,
                    });
                }
                tracing::warn!("dropped a database connection that no longer answers");
                st = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                st.open -= 1;
                continue;
            }
            if st.open < self.max {
                st.open += 1;
                drop(st);
                return match self.connect() {
                    Ok(c) => Ok(Pooled {
                        conn: Some(c),
                        store: self,
                    }),
                    Err(e) => {
                        self.idle.lock().unwrap_or_else(|e| e.into_inner()).open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(StoreError::Busy(self.borrow_timeout));
            }
            st = self
                .freed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A bulk import in progress (see [`Store::bulk_import_running`]).
pub(crate) struct BulkImportRunning(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for BulkImportRunning {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DbUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            DbUrl::parse("postgres://u:pw@h/db"),
            Ok(DbUrl::Postgres(_))
        ));
        assert!(DbUrl::parse("mysql://x").is_err());
        assert_eq!(
            DbUrl::parse("postgres://u:pw@h/db").unwrap().redacted(),
            "postgres://…@h/db"
        );
    }

    /// A borrow waits for a connection no longer than the borrow timeout,
    /// and gets one as soon as one is returned.
    #[test]
    fn a_borrow_times_out_when_every_connection_stays_in_use() {
        let dir = std::env::temp_dir().join(format!("finseg-pool-{}", std::process::id()));
        let store = Store::open(DbUrl::Sqlite(dir.join("pool.db")))
            .unwrap()
            .with_borrow_timeout(std::time::Duration::from_millis(200));
        let held: Vec<_> = (0..store.max).map(|_| store.conn().unwrap()).collect();
        let started = std::time::Instant::now();
        assert!(matches!(store.conn(), Err(StoreError::Busy(_))));
        assert!(started.elapsed() >= std::time::Duration::from_millis(200));
        drop(held);
        assert!(store.conn().is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }

    fn pragma(store: &Store, name: &str) -> i64 {
        store
            .conn()
            .unwrap()
            .query(&format!("PRAGMA {name}"), &[])
            .unwrap()[0][0]
            .int()
    }

    #[test]
    fn new_databases_get_large_pages_and_old_ones_keep_theirs_with_the_same_log_bound() {
        let dir = std::env::temp_dir().join(format!("finseg-page-size-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(DbUrl::in_data_dir(&dir.join("new"))).unwrap();
        assert_eq!(pragma(&store, "page_size"), conn::SqliteConn::PAGE_SIZE);
        assert_eq!(
            pragma(&store, "wal_autocheckpoint"),
            conn::SqliteConn::CHECKPOINT_CAP_BYTES / conn::SqliteConn::PAGE_SIZE
        );
        drop(store);
        // A database made before pages grew: SQLite's default of 4 KiB.
        let old = dir.join("old");
        std::fs::create_dir_all(&old).unwrap();
        let c = rusqlite::Connection::open(old.join("finseg.db")).unwrap();
        c.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x)")
            .unwrap();
        drop(c);
        let store = Store::open(DbUrl::in_data_dir(&old)).unwrap();
        assert_eq!(pragma(&store, "page_size"), 4096);
        assert_eq!(
            pragma(&store, "wal_autocheckpoint"),
            conn::SqliteConn::CHECKPOINT_CAP_BYTES / 4096
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
