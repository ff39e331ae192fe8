//! The callbacks of finished jobs: queued with the job's completion, claimed
//! by a node, retried with backoff.

use crate::StoreError;
use crate::conn::{Backend, Conn, P, in_transaction};

use super::*;

/// Callbacks are retried with backoff for this long (SPEC §5: at least 24 h).
pub const CALLBACK_RETRY_MS: i64 = 25 * 3600 * 1000;

pub(super) fn enqueue_callback(c: &mut dyn Conn, j: &JobRow) -> Result<(), StoreError> {
    let Some(url) = &j.callback_url else {
        return Ok(());
    };
    let now = now_ms();
    c.exec(
        "INSERT INTO callbacks (job_pk, client_pk, url, body, status, attempts, next_attempt_ms, give_up_ms, lease_expires_ms)
         VALUES ($1, $2, $3, $4, 'PENDING', 0, $5, $6, 0)",
        &[
            P::I(j.pk),
            P::I(j.client_pk),
            P::T(url),
            P::T(""),
            P::I(now),
            P::I(now + CALLBACK_RETRY_MS),
        ],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct DueCallback {
    pub pk: i64,
    pub job: JobRow,
    pub url: String,
    pub attempts: i64,
    pub give_up_ms: i64,
    pub webhook_secret: String,
}

/// Claims one callback that is due, with a lease against double delivery.
pub fn claim_callback(
    c: &mut dyn Conn,
    node: &str,
    lease_ms: i64,
) -> Result<Option<DueCallback>, StoreError> {
    let now = now_ms();
    let lock = match c.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    in_transaction(c, |c| {
        let sql = format!(
            "UPDATE callbacks SET lease_owner = $1, lease_expires_ms = $2
             WHERE pk = (SELECT pk FROM callbacks WHERE status = 'PENDING' AND next_attempt_ms <= $3
                         AND lease_expires_ms < $3 ORDER BY next_attempt_ms LIMIT 1{lock})
             RETURNING pk, job_pk, url, attempts, give_up_ms, client_pk"
        );
        let Some(r) = c.query_one(&sql, &[P::T(node), P::I(now + lease_ms), P::I(now)])? else {
            return Ok(None);
        };
        let job = by_pk(c, r[1].int())?
            .ok_or_else(|| StoreError::Internal("callback without job".into()))?;
        let secret = c
            .query_one(
                "SELECT webhook_secret FROM clients WHERE pk = $1",
                &[P::I(r[5].int())],
            )?
            .map(|r| r[0].text())
            .unwrap_or_default();
        Ok(Some(DueCallback {
            pk: r[0].int(),
            job,
            url: r[2].text(),
            attempts: r[3].int(),
            give_up_ms: r[4].int(),
            webhook_secret: secret,
        }))
    })
}

/// Records a delivery attempt: delivered, retried at `retry_at_ms`, or given up.
pub fn callback_attempted(
    c: &mut dyn Conn,
    pk: i64,
    delivered: bool,
    retry_at_ms: Option<i64>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let status = match (delivered, retry_at_ms) {
        (true, _) => "DELIVERED",
        (false, Some(_)) => "PENDING",
        (false, None) => "GAVE_UP",
    };
    c.exec(
        "UPDATE callbacks SET status = $1, attempts = attempts + 1, next_attempt_ms = $2, last_error = $3,
            lease_owner = NULL, lease_expires_ms = 0
         WHERE pk = $4",
        &[P::T(status), P::I(retry_at_ms.unwrap_or(0)), error.into(), P::I(pk)],
    )?;
    Ok(())
}

/// Delivery state of a job's callback, for the job status resource.
pub fn callback_state(c: &mut dyn Conn, job_pk: i64) -> Result<Option<(String, i64)>, StoreError> {
    Ok(c.query_one(
        "SELECT status, attempts FROM callbacks WHERE job_pk = $1",
        &[P::I(job_pk)],
    )?
    .map(|r| (r[0].text(), r[1].int())))
}
