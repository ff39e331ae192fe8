//! A client's own labelling rules, and the labelling they make with the
//! defaults and the client's corrections.

use std::sync::Arc;

use finseg_core::labelling::{Labeller, RuleSet};

use crate::StoreError;
use crate::conn::{Conn, P};

/// The client's rule set as stored (JSON), if it has one.
pub fn get(c: &mut dyn Conn, client_pk: i64) -> Result<Option<String>, StoreError> {
    Ok(c.query_one(
        "SELECT rules FROM client_rules WHERE client_pk = $1",
        &[P::I(client_pk)],
    )?
    .map(|r| r[0].text()))
}

/// Stores the client's rule set (already validated by [`RuleSet::parse`]).
pub fn put(c: &mut dyn Conn, client_pk: i64, json: &str) -> Result<(), StoreError> {
    c.exec(
        "INSERT INTO client_rules (client_pk, rules, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (client_pk) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at",
        &[P::I(client_pk), P::T(json), P::I(crate::now_unix())],
    )?;
    Ok(())
}

pub fn delete(c: &mut dyn Conn, client_pk: i64) -> Result<bool, StoreError> {
    Ok(c.exec(
        "DELETE FROM client_rules WHERE client_pk = $1",
        &[P::I(client_pk)],
    )? > 0)
}

/// The labelling of a client: its own rules first, then the defaults.
pub fn labeller(c: &mut dyn Conn, client_pk: i64) -> Result<Labeller, StoreError> {
    let client = match get(c, client_pk)? {
        None => None,
        Some(json) => {
            Some(Arc::new(RuleSet::parse("client", &json).map_err(|e| {
                StoreError::Internal(format!("stored client rules: {e}"))
            })?))
        }
    };
    let corrections = crate::corrections::active(c, client_pk)?;
    Ok(Labeller::new(client).with_corrections(corrections))
}
