//! One connection interface over SQLite and PostgreSQL.
//!
//! Queries are written once, with `$1`-style placeholders and SQL that both
//! engines accept (`INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`). Values
//! are only integers and text: money is minor units, dates are day numbers.

use crate::StoreError;

/// A query parameter, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub enum P<'a> {
    Null,
    I(i64),
    T(&'a str),
}

impl<'a> From<i64> for P<'a> {
    fn from(v: i64) -> Self {
        P::I(v)
    }
}
impl<'a> From<&'a str> for P<'a> {
    fn from(v: &'a str) -> Self {
        P::T(v)
    }
}
impl<'a> From<Option<&'a str>> for P<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(P::Null, P::T)
    }
}
impl<'a> From<Option<i64>> for P<'a> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(P::Null, P::I)
    }
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V {
    Null,
    I(i64),
    T(String),
}

impl V {
    pub fn int(&self) -> i64 {
        match self {
            V::I(i) => *i,
            other => panic!("expected an integer column, got {other:?}"),
        }
    }
    pub fn opt_int(&self) -> Option<i64> {
        match self {
            V::I(i) => Some(*i),
            _ => None,
        }
    }
    pub fn text(&self) -> String {
        match self {
            V::T(s) => s.clone(),
            other => panic!("expected a text column, got {other:?}"),
        }
    }
    pub fn opt_text(&self) -> Option<String> {
        match self {
            V::T(s) => Some(s.clone()),
            _ => None,
        }
    }
    pub fn opt_str(&self) -> Option<&str> {
        match self {
            V::T(s) => Some(s),
            _ => None,
        }
    }
}

pub type Row = Vec<V>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub trait Conn: Send {
    fn backend(&self) -> Backend;
    /// Whether the connection is known to be unusable (its server side
    /// closed it); the pool drops such a connection instead of keeping it.
    fn is_broken(&self) -> bool {
        false
    }
    /// Whether the connection answers a trivial query within `timeout`
    /// (the pool asks it of an idle connection before lending it out: a
    /// backend may have died while it waited).
    fn is_alive(&mut self, _timeout: std::time::Duration) -> bool {
        true
    }
    /// Runs one statement; returns the number of rows changed.
    fn exec(&mut self, sql: &str, params: &[P]) -> Result<u64, StoreError>;
    /// [`Conn::exec`] for the bulk writer's multi-row inserts: the same
    /// result, by a path that suits statements with many parameters, run
    /// again and again (see [`SqliteConn`]'s).
    fn exec_rows(&mut self, sql: &str, params: &[P]) -> Result<u64, StoreError> {
        self.exec(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[P]) -> Result<Vec<Row>, StoreError>;
    /// Calls `f` with each row in turn, without collecting them (large reads).
    fn for_each_row(
        &mut self,
        sql: &str,
        params: &[P],
        f: &mut dyn FnMut(&Row),
    ) -> Result<(), StoreError>;
    /// Runs several statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Grows the database file this many bytes at a time (SQLite, see
    /// [`SqliteConn::set_chunk_size_of`]; 0: SQLite's default). PostgreSQL
    /// manages its files itself.
    fn set_chunk_size(&mut self, _bytes: i32) -> Result<(), StoreError> {
        Ok(())
    }
    /// Starts a write transaction (SQLite takes the write lock up front so
    /// that two writers never deadlock on a lock upgrade).
    fn begin(&mut self) -> Result<(), StoreError>;
    /// Starts a read-only transaction that sees one consistent state
    /// throughout (SQLite's WAL snapshot; PostgreSQL's repeatable read).
    fn begin_read(&mut self) -> Result<(), StoreError>;

    fn query_one(&mut self, sql: &str, params: &[P]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    fn commit(&mut self) -> Result<(), StoreError> {
        self.batch("COMMIT")
    }
    fn rollback(&mut self) -> Result<(), StoreError> {
        self.batch("ROLLBACK")
    }
}

/// Runs `f` in one write transaction: all of it is written, or nothing.
pub fn in_transaction<T, E: From<StoreError>>(
    c: &mut dyn Conn,
    f: impl FnOnce(&mut dyn Conn) -> Result<T, E>,
) -> Result<T, E> {
    c.begin()?;
    match f(c) {
        Ok(v) => {
            c.commit()?;
            Ok(v)
        }
        Err(e) => {
            // The original error matters more than a failed rollback.
            let _ = c.rollback();
            Err(e)
        }
    }
}

pub use crate::pg::PgConn;
pub use crate::sqlite::SqliteConn;
