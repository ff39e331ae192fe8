//! [`PgConn`]: the [`Conn`] of a PostgreSQL database shared by nodes.

use std::collections::HashMap;

use crate::conn::{Conn, P, Row, V};
use crate::{Backend, StoreError};

pub struct PgConn {
    /// Always `Some` until dropped.
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
}

impl PgConn {
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(PgConn {
            client: Some(client),
            statements: HashMap::new(),
        })
    }

    fn client(&mut self) -> &mut postgres::Client {
        self.client.as_mut().expect("present until drop")
    }

    fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client().prepare(sql)?;
        if self.statements.len() < 512 {
            self.statements.insert(sql.to_owned(), s.clone());
        }
        Ok(s)
    }
}

/// Closing the synchronous client blocks on its own runtime, which panics on
/// a thread that drives async tasks; a pool may be dropped on such a thread.
impl Drop for PgConn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::spawn(move || drop(client));
        }
    }
}

impl postgres::types::ToSql for P<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            P::Null => Ok(IsNull::Yes),
            P::I(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT8 => v.to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => Err(format!("cannot bind an integer to {ty}").into()),
            },
            P::T(s) => match *ty {
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                _ => s.to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// The parameters as the PostgreSQL client takes them.
fn pg_params<'a>(params: &'a [P<'a>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// One PostgreSQL row as finseg's row of integers and texts.
fn pg_row(row: &postgres::Row) -> Result<Row, StoreError> {
    use postgres::types::Type;
    let mut r = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => row.get::<_, Option<i64>>(i).map_or(V::Null, V::I),
            Type::INT4 => row
                .get::<_, Option<i32>>(i)
                .map_or(V::Null, |v| V::I(v.into())),
            Type::INT2 => row
                .get::<_, Option<i16>>(i)
                .map_or(V::Null, |v| V::I(v.into())),
            Type::BOOL => row
                .get::<_, Option<bool>>(i)
                .map_or(V::Null, |v| V::I(v.into())),
            Type::NUMERIC => {
                return Err(StoreError::Internal(
                    "NUMERIC column read without a cast".into(),
                ));
            }
            _ => row.get::<_, Option<String>>(i).map_or(V::Null, V::T),
        };
        r.push(v);
    }
    Ok(r)
}

impl Conn for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn is_broken(&self) -> bool {
        self.client.as_ref().is_none_or(postgres::Client::is_closed)
    }

    fn is_alive(&mut self, timeout: std::time::Duration) -> bool {
        !self.is_broken() && self.client().is_valid(timeout).is_ok()
    }

    fn exec(&mut self, sql: &str, params: &[P]) -> Result<u64, StoreError> {
        let stmt = self.prepare(sql)?;
        let refs = pg_params(params);
        Ok(self.client().execute(&stmt, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[P]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.prepare(sql)?;
        let refs = pg_params(params);
        let rows = self.client().query(&stmt, &refs)?;
        rows.iter().map(pg_row).collect()
    }

    fn for_each_row(
        &mut self,
        sql: &str,
        params: &[P],
        f: &mut dyn FnMut(&Row),
    ) -> Result<(), StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let stmt = self.prepare(sql)?;
        let refs = pg_params(params);
        // Rows arrive as the server sends them, not collected first.
        let mut rows = self.client().query_raw(&stmt, refs.iter().copied())?;
        while let Some(row) = rows.next()? {
            f(&pg_row(&row)?);
        }
        Ok(())
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.client().batch_execute(sql)?)
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN")
    }

    fn begin_read(&mut self) -> Result<(), StoreError> {
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }
}
