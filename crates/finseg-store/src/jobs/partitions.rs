//! A job's partitions: claimed under a lease, renewed, completed with their
//! members or failed, and the members read back.

use crate::conn::{Backend, Conn, P, V, in_transaction};
use crate::{StoreError, now_unix};
use std::fmt::Write as _;

use super::*;

#[derive(Debug, Clone)]
pub struct Claim {
    pub job: JobRow,
    pub part_no: i64,
    pub user_pk_from: i64,
    pub user_pk_to: i64,
    pub attempts: i64,
}

/// Claims the oldest pending partition, or one whose lease has expired.
pub fn claim(c: &mut dyn Conn, node: &str, lease_ms: i64) -> Result<Option<Claim>, StoreError> {
    let now = now_ms();
    let lock = match c.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // Two picks, each one index range (an OR of both scanned every
    // partition ever kept): a partition whose lease expired first, so that
    // an older job is not left behind newer work; then the oldest pending.
    let expired = format!(
        "SELECT job_pk, part_no FROM job_partitions WHERE status = 'RUNNING' AND lease_expires_ms < $3
         ORDER BY lease_expires_ms LIMIT 1{lock}"
    );
    let pending = format!(
        "SELECT job_pk, part_no FROM job_partitions WHERE status = 'PENDING'
         ORDER BY job_pk, part_no LIMIT 1{lock}"
    );
    // Fair between clients: the next partition is of the client with the
    // fewest partitions running, oldest job first; a client that queued
    // many large jobs does not hold back another's one job. (Active jobs
    // are few, bounded per client; running partitions are as few as the
    // nodes' workers.)
    let fair = format!(
        "SELECT job_pk, part_no FROM job_partitions WHERE status = 'PENDING' AND job_pk = (
             SELECT j.pk FROM jobs j
             WHERE j.status IN ('QUEUED', 'RUNNING')
               AND EXISTS (SELECT 1 FROM job_partitions p WHERE p.job_pk = j.pk AND p.status = 'PENDING')
             ORDER BY (SELECT COUNT(*) FROM job_partitions r JOIN jobs rj ON rj.pk = r.job_pk
                       WHERE r.status = 'RUNNING' AND rj.client_pk = j.client_pk),
                      j.pk
             LIMIT 1)
         ORDER BY part_no LIMIT 1{lock}"
    );
    in_transaction(c, |c| {
        let take = |pick: &str| {
            format!(
                "UPDATE job_partitions SET status = 'RUNNING', lease_owner = $1, lease_expires_ms = $2, attempts = attempts + 1
                 WHERE (job_pk, part_no) = ({pick})
                 RETURNING job_pk, part_no, user_pk_from, user_pk_to, attempts"
            )
        };
        let mut row = c.query_one(
            &take(&expired),
            &[P::T(node), P::I(now + lease_ms), P::I(now)],
        )?;
        if row.is_none() {
            row = c.query_one(&take(&fair), &[P::T(node), P::I(now + lease_ms)])?;
        }
        if row.is_none() {
            // The fair pick's partitions are all being claimed by other
            // nodes at this moment (PostgreSQL skips locked rows).
            row = c.query_one(&take(&pending), &[P::T(node), P::I(now + lease_ms)])?;
        }
        let Some(r) = row else {
            return Ok(None);
        };
        let job_pk = r[0].int();
        c.exec(
            "UPDATE jobs SET status = 'RUNNING', started_at = $1 WHERE pk = $2 AND status = 'QUEUED'",
            &[P::I(now_unix()), P::I(job_pk)],
        )?;
        let j = by_pk(c, job_pk)?
            .ok_or_else(|| StoreError::Internal("partition without job".into()))?;
        Ok(Some(Claim {
            job: j,
            part_no: r[1].int(),
            user_pk_from: r[2].int(),
            user_pk_to: r[3].int(),
            attempts: r[4].int(),
        }))
    })
}

/// Extends every lease this node holds; returns how many.
pub fn renew_leases(c: &mut dyn Conn, node: &str, lease_ms: i64) -> Result<u64, StoreError> {
    c.exec(
        "UPDATE job_partitions SET lease_expires_ms = $1 WHERE lease_owner = $2 AND status = 'RUNNING'",
        &[P::I(now_ms() + lease_ms), P::T(node)],
    )
}

/// One member of a segment, as stored.
pub struct Member {
    pub user_pk: i64,
    pub user_id: String,
    pub json: String,
}

pub struct PartitionOutcome {
    pub evaluated: i64,
    pub matched: i64,
    pub without_data: i64,
    pub members: Vec<Member>,
}

impl PartitionOutcome {
    /// Counts one evaluated user and keeps their entry if they are a member.
    pub fn record(
        &mut self,
        user_pk: i64,
        user_id: &str,
        verdict: finseg_core::segments::Rendered,
    ) {
        use finseg_core::segments::Rendered;
        self.evaluated += 1;
        match verdict {
            Rendered::Member(json) => {
                self.matched += 1;
                self.members.push(Member {
                    user_pk,
                    user_id: user_id.to_owned(),
                    json,
                });
            }
            Rendered::NotMember => {}
            Rendered::WithoutData => self.without_data += 1,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Completion {
    /// The lease was lost (another node took the partition): nothing written.
    LeaseLost,
    Done,
    /// This was the last partition: the job is complete.
    JobCompleted(Box<JobRow>),
}

/// Result rows written by one INSERT (5 parameters each).
pub(super) const RESULT_ROWS_PER_INSERT: usize = 64;

/// Stores a partition's results and marks it done, if this node still holds it.
pub fn complete_partition(
    c: &mut dyn Conn,
    node: &str,
    claim: &Claim,
    outcome: &PartitionOutcome,
) -> Result<Completion, StoreError> {
    let key = [P::I(claim.job.pk), P::I(claim.part_no)];
    in_transaction(c, |c| {
        let held = c.exec(
            "UPDATE job_partitions SET status = 'DONE', users_evaluated = $1, users_matched = $2,
                users_without_data = $3, lease_owner = NULL
             WHERE job_pk = $4 AND part_no = $5 AND lease_owner = $6 AND status = 'RUNNING'",
            &[
                P::I(outcome.evaluated),
                P::I(outcome.matched),
                P::I(outcome.without_data),
                key[0],
                key[1],
                P::T(node),
            ],
        )?;
        if held == 0 {
            return Ok(Completion::LeaseLost);
        }
        // No results of this partition are stored: they are written only
        // together with its DONE, and a DONE partition is never claimed
        // again. (A DELETE here scanned the job's whole result: quadratic.)
        // Many rows a statement: a million members are a million rows.
        for chunk in outcome.members.chunks(RESULT_ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO job_results (job_pk, user_ext_id, part_no, user_pk, member) VALUES ",
            );
            let mut params = Vec::with_capacity(chunk.len() * 5);
            for (i, m) in chunk.iter().enumerate() {
                let n = i * 5;
                if i > 0 {
                    sql.push(',');
                }
                let _ = write!(
                    sql,
                    "(${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                );
                params.extend_from_slice(&[
                    key[0],
                    P::T(&m.user_id),
                    key[1],
                    P::I(m.user_pk),
                    P::T(&m.json),
                ]);
            }
            c.exec(&sql, &params)?;
        }
        c.exec(
            "UPDATE jobs SET partitions_done = partitions_done + 1, users_done = users_done + $1,
                users_evaluated = users_evaluated + $1, users_matched = users_matched + $2,
                users_without_data = users_without_data + $3
             WHERE pk = $4",
            &[
                P::I(outcome.evaluated),
                P::I(outcome.matched),
                P::I(outcome.without_data),
                key[0],
            ],
        )?;
        let now = now_unix();
        let finished = c.exec(
            "UPDATE jobs SET status = 'COMPLETED', finished_at = $1, expires_at = $2
             WHERE pk = $3 AND status = 'RUNNING' AND partitions_done = partitions_total",
            &[P::I(now), P::I(now + RETENTION_SECS), key[0]],
        )?;
        if finished == 0 {
            return Ok(Completion::Done);
        }
        let j =
            by_pk(c, claim.job.pk)?.ok_or_else(|| StoreError::Internal("job vanished".into()))?;
        enqueue_callback(c, &j)?;
        Ok(Completion::JobCompleted(Box::new(j)))
    })
}

/// Records a failed attempt. After `max_attempts` the job fails; otherwise
/// the partition is released for another try. Returns the job if it failed.
pub fn fail_partition(
    c: &mut dyn Conn,
    node: &str,
    claim: &Claim,
    error: &str,
    max_attempts: i64,
) -> Result<Option<JobRow>, StoreError> {
    in_transaction(c, |c| {
        if claim.attempts < max_attempts {
            c.exec(
                "UPDATE job_partitions SET status = 'PENDING', lease_owner = NULL, error = $1
                 WHERE job_pk = $2 AND part_no = $3 AND lease_owner = $4",
                &[
                    P::T(error),
                    P::I(claim.job.pk),
                    P::I(claim.part_no),
                    P::T(node),
                ],
            )?;
            return Ok(None);
        }
        let now = now_unix();
        let failed = c.exec(
            "UPDATE jobs SET status = 'FAILED', error = $1, finished_at = $2, expires_at = $3
             WHERE pk = $4 AND status IN ('QUEUED', 'RUNNING')",
            &[
                P::T(error),
                P::I(now),
                P::I(now + RETENTION_SECS),
                P::I(claim.job.pk),
            ],
        )?;
        c.exec(
            "UPDATE job_partitions SET status = 'CANCELLED', lease_owner = NULL WHERE job_pk = $1 AND status <> 'DONE'",
            &[P::I(claim.job.pk)],
        )?;
        if failed == 0 {
            return Ok(None);
        }
        let j =
            by_pk(c, claim.job.pk)?.ok_or_else(|| StoreError::Internal("job vanished".into()))?;
        enqueue_callback(c, &j)?;
        Ok(Some(j))
    })
}

/// A result row's user id and member as stored (JSON, or the packed form
/// of its segment type: see `SegmentType::member_json`).
pub(super) fn member(r: &[V]) -> (String, String) {
    (r[0].text(), r[1].opt_str().unwrap_or("").to_owned())
}

/// Members of a finished job in user-id order: `offset`, at most `limit`.
pub fn members(
    c: &mut dyn Conn,
    job_pk: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(c.query(
        "SELECT user_ext_id, member FROM job_results WHERE job_pk = $1 ORDER BY user_ext_id LIMIT $2 OFFSET $3",
        &[P::I(job_pk), P::I(limit), P::I(offset)],
    )?
    .iter()
    .map(|r| member(r))
    .collect())
}

/// Members after the user id `after`, in user-id order: keyset paging, so
/// that streaming a large result does not rescan what was already sent.
pub fn members_after(
    c: &mut dyn Conn,
    job_pk: i64,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(c.query(
        "SELECT user_ext_id, member FROM job_results WHERE job_pk = $1 AND user_ext_id > $2
         ORDER BY user_ext_id LIMIT $3",
        &[P::I(job_pk), P::T(after), P::I(limit)],
    )?
    .iter()
    .map(|r| member(r))
    .collect())
}

/// Hands back the partitions this node holds (on a clean shutdown), so
/// that another node or a restart takes them over without waiting for the lease.
pub fn release_leases(c: &mut dyn Conn, node: &str) -> Result<u64, StoreError> {
    c.exec(
        "UPDATE job_partitions SET status = 'PENDING', lease_owner = NULL, lease_expires_ms = 0, attempts = attempts - 1
         WHERE lease_owner = $1 AND status = 'RUNNING'",
        &[P::T(node)],
    )
}

/// Jobs of all clients by state, for `/metrics`.
pub fn count_by_status(c: &mut dyn Conn) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(c.query(
        "SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status",
        &[],
    )?
    .iter()
    .map(|r| (r[0].text(), r[1].int()))
    .collect())
}
