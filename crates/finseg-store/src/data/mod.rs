//! Users, accounts, transactions and daily balances of one client: the
//! [`Writer`] of every ingestion path (`writer`), the reads the API shows
//! (`reads`), erasure (`erase`), and what they share here.

mod erase;
mod reads;
mod seq;
mod writer;

pub use erase::*;
pub use reads::*;
pub(crate) use seq::keep_transaction_version;
pub use seq::{current_seq, next_seq};
pub use writer::*;

use std::collections::{HashMap, HashSet};

use finseg_core::{Currency, FieldError};

use crate::StoreError;
use crate::conn::{Conn, P};

/// The writer's caches are looked up once per record: foldhash is several
/// times faster than SipHash on short keys and still seeded per map.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// What a write needs to know about an existing account.
#[derive(Debug, Clone, Copy)]
pub struct AccountRef {
    pub pk: i64,
    pub user_pk: i64,
    pub currency: Currency,
}

/// Why one record could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It names a user or account this client does not have (yet).
    MissingReference(FieldError),
    /// It contradicts what is stored (e.g. a currency other than the account's).
    Conflict(FieldError),
}

impl Refusal {
    pub fn into_field_error(self) -> FieldError {
        match self {
            Refusal::MissingReference(e) | Refusal::Conflict(e) => e,
        }
    }
}

/// The key of a client's rule provenance text, inserted if new.
pub fn provenance_pk(c: &mut dyn Conn, client_pk: i64, text: &str) -> Result<i64, StoreError> {
    c.exec(
        "INSERT INTO label_provenance (client_pk, text) VALUES ($1, $2)
         ON CONFLICT (client_pk, text) DO NOTHING",
        &[P::I(client_pk), P::T(text)],
    )?;
    Ok(c.query_one(
        "SELECT pk FROM label_provenance WHERE client_pk = $1 AND text = $2",
        &[P::I(client_pk), P::T(text)],
    )?
    .ok_or_else(|| StoreError::Internal("label provenance vanished".into()))?[0]
        .int())
}

/// Marks the user's data as changed by the write numbered `seq`.
pub fn touch_user(c: &mut dyn Conn, user_pk: i64, seq: i64) -> Result<(), StoreError> {
    c.exec(
        "UPDATE users SET data_seq = $1 WHERE pk = $2",
        &[P::I(seq), P::I(user_pk)],
    )?;
    Ok(())
}

pub fn user_pk(c: &mut dyn Conn, client_pk: i64, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(c.query_one(
        "SELECT pk FROM users WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(id)],
    )?
    .map(|r| r[0].int()))
}

/// Counts of what one client holds (for the demo and for operators).
pub fn client_counts(c: &mut dyn Conn, client_pk: i64) -> Result<(i64, i64, i64), StoreError> {
    let n = |c: &mut dyn Conn, sql: &str| -> Result<i64, StoreError> {
        Ok(c.query_one(sql, &[P::I(client_pk)])?
            .map_or(0, |r| r[0].int()))
    };
    Ok((
        n(c, "SELECT COUNT(*) FROM users WHERE client_pk = $1")?,
        n(c, "SELECT COUNT(*) FROM accounts WHERE client_pk = $1")?,
        n(c, "SELECT COUNT(*) FROM transactions WHERE client_pk = $1")?,
    ))
}
