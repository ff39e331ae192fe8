//! Erasure of an account or a user with everything that hangs on it.

use crate::StoreError;
use crate::conn::{Conn, P};

use super::*;

/// Physically removes accounts (every version), their transactions and
/// balances (every version). Erasure does not wait for running jobs.
fn erase_accounts_where(c: &mut dyn Conn, cond: &str, params: &[P]) -> Result<(), StoreError> {
    let pks: Vec<i64> = c
        .query(
            &format!("SELECT pk FROM accounts WHERE {cond} UNION SELECT pk FROM accounts_history WHERE {cond}"),
            params,
        )?
        .iter()
        .map(|r| r[0].int())
        .collect();
    for pk in pks {
        for sql in [
            "DELETE FROM transactions WHERE account_pk = $1",
            "DELETE FROM transactions_history WHERE account_pk = $1",
            "DELETE FROM daily_balances WHERE account_pk = $1",
            "DELETE FROM daily_balances_history WHERE account_pk = $1",
            "DELETE FROM accounts_history WHERE pk = $1",
            "DELETE FROM accounts WHERE pk = $1",
        ] {
            c.exec(sql, &[P::I(pk)])?;
        }
    }
    Ok(())
}

/// Removes the account with its transactions and balances; false if unknown.
pub fn delete_account(c: &mut dyn Conn, client_pk: i64, id: &str) -> Result<bool, StoreError> {
    let Some(r) = c.query_one(
        "SELECT pk, user_pk FROM accounts WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(id)],
    )?
    else {
        return Ok(false);
    };
    erase_accounts_where(c, "pk = $1", &[P::I(r[0].int())])?;
    let seq = next_seq(c)?;
    touch_user(c, r[1].int(), seq)?;
    Ok(true)
}

/// Erases the user and everything derived from them; false if unknown.
pub fn delete_user(c: &mut dyn Conn, client_pk: i64, id: &str) -> Result<bool, StoreError> {
    let Some(upk) = user_pk(c, client_pk, id)? else {
        return Ok(false);
    };
    erase_accounts_where(c, "user_pk = $1", &[P::I(upk)])?;
    // The user's entries in stored segment results go too.
    // (Found by the results' key, job and user id, job by job: an index on
    // the user's key would cost every stored member an index entry.)
    let of_client = "job_pk IN (SELECT pk FROM jobs WHERE client_pk = $1) AND user_ext_id = $2";
    c.exec(
        &format!(
            "UPDATE jobs SET users_matched = users_matched - 1
             WHERE pk IN (SELECT job_pk FROM job_results WHERE {of_client})"
        ),
        &[P::I(client_pk), P::T(id)],
    )?;
    c.exec(
        &format!("DELETE FROM job_results WHERE {of_client}"),
        &[P::I(client_pk), P::T(id)],
    )?;
    c.exec("DELETE FROM users WHERE pk = $1", &[P::I(upk)])?;
    // Segment indexes drop the user when they see this.
    let seq = next_seq(c)?;
    c.exec(
        "INSERT INTO erased_users (client_pk, user_pk, seq) VALUES ($1, $2, $3)",
        &[P::I(client_pk), P::I(upk), P::I(seq)],
    )?;
    Ok(true)
}
