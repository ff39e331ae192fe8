//! Clients (tenants) and their access tokens. Secrets and tokens arrive
//! here already hashed: the store never sees a plaintext credential.

use crate::StoreError;
use crate::conn::{Conn, P, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub pk: i64,
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub webhook_secret: String,
    pub time_zone: String,
}

const COLUMNS: &str = "pk, client_id, name, secret_hash, webhook_secret, time_zone";

fn client(r: &Row) -> ClientRow {
    ClientRow {
        pk: r[0].int(),
        client_id: r[1].text(),
        name: r[2].text(),
        secret_hash: r[3].text(),
        webhook_secret: r[4].text(),
        time_zone: r[5].text(),
    }
}

pub struct NewClient<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub secret_hash: &'a str,
    pub webhook_secret: &'a str,
    pub time_zone: &'a str,
}

pub fn insert(c: &mut dyn Conn, n: &NewClient) -> Result<ClientRow, StoreError> {
    c.exec(
        "INSERT INTO clients (client_id, name, secret_hash, webhook_secret, time_zone, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            P::T(n.client_id),
            P::T(n.name),
            P::T(n.secret_hash),
            P::T(n.webhook_secret),
            P::T(n.time_zone),
            P::I(crate::now_unix()),
        ],
    )?;
    by_client_id(c, n.client_id)?
        .ok_or_else(|| StoreError::Internal("client vanished after insert".into()))
}

/// A live client as an operator's listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientListing {
    pub client_id: String,
    pub name: String,
    pub time_zone: String,
    /// Unix seconds.
    pub created_at: i64,
    pub users: i64,
}

/// Every live client, oldest first, with its number of users.
pub fn list(c: &mut dyn Conn) -> Result<Vec<ClientListing>, StoreError> {
    Ok(c.query(
        "SELECT c.client_id, c.name, c.time_zone, c.created_at,
                (SELECT COUNT(*) FROM users u WHERE u.client_pk = c.pk)
         FROM clients c WHERE c.deleted_at IS NULL ORDER BY c.pk",
        &[],
    )?
    .iter()
    .map(|r| ClientListing {
        client_id: r[0].text(),
        name: r[1].text(),
        time_zone: r[2].text(),
        created_at: r[3].int(),
        users: r[4].int(),
    })
    .collect())
}

/// Ends every token of a client (after its secret changed).
pub fn revoke_tokens(c: &mut dyn Conn, pk: i64) -> Result<u64, StoreError> {
    c.exec("DELETE FROM tokens WHERE client_pk = $1", &[P::I(pk)])
}

/// Every client's key.
pub fn all_pks(c: &mut dyn Conn) -> Result<Vec<i64>, StoreError> {
    Ok(c.query(
        "SELECT pk FROM clients WHERE deleted_at IS NULL ORDER BY pk",
        &[],
    )?
    .iter()
    .map(|r| r[0].int())
    .collect())
}

pub fn by_client_id(c: &mut dyn Conn, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM clients WHERE client_id = $1 AND deleted_at IS NULL");
    Ok(c.query_one(&sql, &[P::T(client_id)])?.as_ref().map(client))
}

/// The oldest client of that name (names are labels, not keys).
pub fn by_name(c: &mut dyn Conn, name: &str) -> Result<Option<ClientRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM clients WHERE name = $1 AND deleted_at IS NULL ORDER BY pk LIMIT 1"
    );
    Ok(c.query_one(&sql, &[P::T(name)])?.as_ref().map(client))
}

pub fn set_secret_hash(c: &mut dyn Conn, pk: i64, secret_hash: &str) -> Result<(), StoreError> {
    c.exec(
        "UPDATE clients SET secret_hash = $1 WHERE pk = $2",
        &[P::T(secret_hash), P::I(pk)],
    )?;
    Ok(())
}

pub fn insert_token(
    c: &mut dyn Conn,
    token_hash: &str,
    client_pk: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    c.exec(
        "INSERT INTO tokens (token_hash, client_pk, expires_at) VALUES ($1, $2, $3)",
        &[P::T(token_hash), P::I(client_pk), P::I(expires_at)],
    )?;
    Ok(())
}

/// The client a token belongs to, if the token exists and has not expired.
pub fn by_token(
    c: &mut dyn Conn,
    token_hash: &str,
    now: i64,
) -> Result<Option<(ClientRow, i64)>, StoreError> {
    let sql = "SELECT c.pk, c.client_id, c.name, c.secret_hash, c.webhook_secret, c.time_zone, t.expires_at
               FROM tokens t JOIN clients c ON c.pk = t.client_pk
               WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.deleted_at IS NULL";
    Ok(c.query_one(sql, &[P::T(token_hash), P::I(now)])?
        .map(|r| (client(&r), r[6].int())))
}

/// Deletes a client: its tokens stop working, its data, rules, jobs and
/// results are erased, and its key is never given to another client.
/// False if there is no such (live) client. Run it in a transaction.
pub fn delete(c: &mut dyn Conn, client_id: &str) -> Result<bool, StoreError> {
    let Some(client) = by_client_id(c, client_id)? else {
        return Ok(false);
    };
    let pk = P::I(client.pk);
    c.exec(
        "UPDATE clients SET deleted_at = $1, secret_hash = '' WHERE pk = $2",
        &[P::I(crate::now_unix()), pk],
    )?;
    let of_accounts = "account_pk IN (SELECT pk FROM accounts WHERE client_pk = $1
                                      UNION SELECT pk FROM accounts_history WHERE client_pk = $1)";
    let of_jobs = "job_pk IN (SELECT pk FROM jobs WHERE client_pk = $1)";
    for sql in [
        "DELETE FROM tokens WHERE client_pk = $1".to_string(),
        format!("DELETE FROM daily_balances WHERE {of_accounts}"),
        format!("DELETE FROM daily_balances_history WHERE {of_accounts}"),
        "DELETE FROM transactions WHERE client_pk = $1".to_string(),
        "DELETE FROM transactions_history WHERE client_pk = $1".to_string(),
        "DELETE FROM accounts WHERE client_pk = $1".to_string(),
        "DELETE FROM accounts_history WHERE client_pk = $1".to_string(),
        "DELETE FROM users WHERE client_pk = $1".to_string(),
        "DELETE FROM erased_users WHERE client_pk = $1".to_string(),
        "DELETE FROM label_provenance WHERE client_pk = $1".to_string(),
        "DELETE FROM client_rules WHERE client_pk = $1".to_string(),
        "DELETE FROM imports WHERE client_pk = $1".to_string(),
        "DELETE FROM corrections WHERE client_pk = $1".to_string(),
        "DELETE FROM relabel_jobs WHERE client_pk = $1".to_string(),
        "DELETE FROM callbacks WHERE client_pk = $1".to_string(),
        format!("DELETE FROM job_results WHERE {of_jobs}"),
        format!("DELETE FROM job_partitions WHERE {of_jobs}"),
        "DELETE FROM jobs WHERE client_pk = $1".to_string(),
    ] {
        c.exec(&sql, std::slice::from_ref(&pk))?;
    }
    Ok(true)
}

pub fn purge_expired_tokens(c: &mut dyn Conn, now: i64) -> Result<u64, StoreError> {
    c.exec("DELETE FROM tokens WHERE expires_at <= $1", &[P::I(now)])
}
