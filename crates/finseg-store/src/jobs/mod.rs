//! Durable segment jobs: the job, its partitions of users, leases that any
//! node can take over, results, and callbacks to deliver.
//!
//! A job is split at creation into partitions of consecutive user keys. A
//! worker claims a partition with a lease (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`; SQLite: the single writer), renews the lease while it works,
//! and completes the partition in one transaction, but only while the
//! lease is still its own. A partition whose lease expired is claimed again.
//! The last completed partition finalises the job.

use crate::conn::{Conn, P, Row, in_transaction};
use crate::{StoreError, now_unix};

mod callbacks;
mod partitions;

pub use callbacks::*;
pub use partitions::*;

pub const QUEUED: &str = "QUEUED";
pub const RUNNING: &str = "RUNNING";
pub const COMPLETED: &str = "COMPLETED";
pub const FAILED: &str = "FAILED";

/// Results are kept this long after completion (SPEC §5).
pub const RETENTION_SECS: i64 = 14 * 24 * 3600;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub pk: i64,
    pub job_id: String,
    pub client_pk: i64,
    pub segment_type: String,
    pub params: String,
    pub callback_url: Option<String>,
    pub idempotency_key: Option<String>,
    pub status: String,
    pub creation_date: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub snapshot_seq: i64,
    pub users_total: i64,
    pub partitions_total: i64,
    pub partitions_done: i64,
    pub users_done: i64,
    pub users_evaluated: i64,
    pub users_matched: i64,
    pub users_without_data: i64,
    pub error: Option<String>,
}

pub(super) const JOB_COLS: &str = "pk, job_id, client_pk, segment_type, params, callback_url, idempotency_key, status,
    creation_date, created_at, started_at, finished_at, expires_at, snapshot_seq, users_total, partitions_total,
    partitions_done, users_done, users_evaluated, users_matched, users_without_data, error";

pub(super) fn job(r: &Row) -> JobRow {
    JobRow {
        pk: r[0].int(),
        job_id: r[1].text(),
        client_pk: r[2].int(),
        segment_type: r[3].text(),
        params: r[4].text(),
        callback_url: r[5].opt_text(),
        idempotency_key: r[6].opt_text(),
        status: r[7].text(),
        creation_date: r[8].int(),
        created_at: r[9].int(),
        started_at: r[10].opt_int(),
        finished_at: r[11].opt_int(),
        expires_at: r[12].opt_int(),
        snapshot_seq: r[13].int(),
        users_total: r[14].int(),
        partitions_total: r[15].int(),
        partitions_done: r[16].int(),
        users_done: r[17].int(),
        users_evaluated: r[18].int(),
        users_matched: r[19].int(),
        users_without_data: r[20].int(),
        error: r[21].opt_text(),
    }
}

pub struct NewJob<'a> {
    pub job_id: &'a str,
    pub client_pk: i64,
    pub segment_type: &'a str,
    pub params: &'a str,
    pub callback_url: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub creation_date: i64,
    pub partition_size: usize,
    /// The client's users cut elsewhere (a node's segment index), used when
    /// they are as of the job's snapshot; else the users' keys are read.
    pub cut: Option<&'a UserCut>,
    /// What one client may hold at once (checked in the creating transaction).
    pub limits: JobLimits,
}

/// What one client may hold at once, so that one client's jobs cannot
/// crowd out the others' or fill the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLimits {
    /// Jobs queued or running.
    pub active: i64,
    /// Finished jobs whose results are kept (until they expire or are deleted).
    pub stored: i64,
    /// Members over all kept results.
    pub stored_members: i64,
}

impl Default for JobLimits {
    fn default() -> Self {
        JobLimits {
            active: 16,
            stored: 1_000,
            stored_members: 50_000_000,
        }
    }
}

/// Which limit a new job would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReached {
    Active(i64),
    Stored(i64),
    StoredMembers(i64),
}

/// A client's users as of one write, cut into ranges of consecutive keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCut {
    /// The newest write the users reflect.
    pub seq: i64,
    pub users: i64,
    /// First and last key of each range.
    pub parts: Vec<(i64, i64)>,
}

impl UserCut {
    /// Whether the cut holds the users of a job with this snapshot.
    pub fn is_as_of(&self, snapshot: i64) -> bool {
        self.seq == snapshot
    }
}

/// Cuts ascending user keys into ranges of `size` users each.
#[derive(Debug)]
pub struct Cutter {
    size: i64,
    users: i64,
    starts: Vec<i64>,
    last: Option<i64>,
}

impl Cutter {
    pub fn new(size: usize) -> Self {
        Cutter {
            size: size.max(1) as i64,
            users: 0,
            starts: Vec::new(),
            last: None,
        }
    }

    /// The next key, greater than every key before it.
    pub fn push(&mut self, pk: i64) {
        debug_assert!(self.last.is_none_or(|l| l < pk), "keys must ascend");
        if self.users % self.size == 0 {
            self.starts.push(pk);
        }
        self.users += 1;
        self.last = Some(pk);
    }

    pub fn finish(self, seq: i64) -> UserCut {
        let parts = self
            .starts
            .iter()
            .enumerate()
            .map(|(i, from)| {
                let to = self
                    .starts
                    .get(i + 1)
                    .map_or(self.last.unwrap_or(*from), |next| next - 1);
                (*from, to)
            })
            .collect();
        UserCut {
            seq,
            users: self.users,
            parts,
        }
    }
}

pub enum Created {
    New(JobRow),
    /// The client sent this `Idempotency-Key` before: the job it created then.
    Existing(JobRow),
    /// The client holds as much as it may: nothing was created.
    Refused(LimitReached),
}

/// Creates a job with its partitions, in one transaction. The snapshot is
/// the newest committed ingestion sequence number.
pub fn create(c: &mut dyn Conn, n: &NewJob) -> Result<Created, StoreError> {
    in_transaction(c, |c| {
        if let Some(key) = n.idempotency_key
            && let Some(existing) = c.query_one(
                &format!(
                    "SELECT {JOB_COLS} FROM jobs WHERE client_pk = $1 AND idempotency_key = $2"
                ),
                &[P::I(n.client_pk), P::T(key)],
            )?
        {
            return Ok(Created::Existing(job(&existing)));
        }
        let now = now_unix();
        let usage = c
            .query_one(
                "SELECT
                    CAST(COALESCE(SUM(CASE WHEN status IN ('QUEUED', 'RUNNING') THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN status IN ('COMPLETED', 'FAILED') THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN status = 'COMPLETED' THEN users_matched ELSE 0 END), 0) AS BIGINT)
                 FROM jobs WHERE client_pk = $1 AND (expires_at IS NULL OR expires_at > $2)",
                &[P::I(n.client_pk), P::I(now)],
            )?
            .map(|r| (r[0].int(), r[1].int(), r[2].int()))
            .unwrap_or_default();
        let l = n.limits;
        if usage.0 >= l.active {
            return Ok(Created::Refused(LimitReached::Active(l.active)));
        }
        if usage.1 >= l.stored {
            return Ok(Created::Refused(LimitReached::Stored(l.stored)));
        }
        if usage.2 >= l.stored_members {
            return Ok(Created::Refused(LimitReached::StoredMembers(
                l.stored_members,
            )));
        }
        let snapshot = crate::data::current_seq(c)?;
        // Partitions are ranges of consecutive user keys, `partition_size`
        // users each: unless the caller's cut is as of the snapshot, one
        // streamed pass over the keys (an index-only scan) cuts them.
        let read;
        let cut = match n.cut {
            Some(cut) if cut.is_as_of(snapshot) => cut,
            _ => {
                let mut cutter = Cutter::new(n.partition_size);
                c.for_each_row(
                    "SELECT pk FROM users WHERE client_pk = $1 AND seq <= $2 ORDER BY pk",
                    &[P::I(n.client_pk), P::I(snapshot)],
                    &mut |r| cutter.push(r[0].int()),
                )?;
                read = cutter.finish(snapshot);
                &read
            }
        };
        let (parts, users_total) = (&cut.parts, cut.users);
        let done = parts.is_empty();
        c.exec(
            "INSERT INTO jobs (job_id, client_pk, segment_type, params, callback_url, idempotency_key, status,
                creation_date, created_at, finished_at, expires_at, snapshot_seq, users_total, partitions_total,
                partitions_done, users_done, users_evaluated, users_matched, users_without_data)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, 0, 0, 0, 0)",
            &[
                P::T(n.job_id),
                P::I(n.client_pk),
                P::T(n.segment_type),
                P::T(n.params),
                n.callback_url.into(),
                n.idempotency_key.into(),
                P::T(if done { COMPLETED } else { QUEUED }),
                P::I(n.creation_date),
                P::I(now),
                if done { P::I(now) } else { P::Null },
                if done { P::I(now + RETENTION_SECS) } else { P::Null },
                P::I(snapshot),
                P::I(users_total),
                P::I(parts.len() as i64),
            ],
        )?;
        let row = c
            .query_one(
                &format!("SELECT {JOB_COLS} FROM jobs WHERE job_id = $1"),
                &[P::T(n.job_id)],
            )?
            .ok_or_else(|| StoreError::Internal("job vanished after insert".into()))?;
        let j = job(&row);
        for (i, (from, to)) in parts.iter().enumerate() {
            c.exec(
                "INSERT INTO job_partitions (job_pk, part_no, user_pk_from, user_pk_to, status, lease_expires_ms,
                    attempts, users_evaluated, users_matched, users_without_data)
                 VALUES ($1, $2, $3, $4, 'PENDING', 0, 0, 0, 0, 0)",
                &[P::I(j.pk), P::I(i as i64), P::I(*from), P::I(*to)],
            )?;
        }
        if done {
            enqueue_callback(c, &j)?;
        }
        Ok(Created::New(j))
    })
}

/// The client's job, or `None` (also for another client's job id).
pub fn get(c: &mut dyn Conn, client_pk: i64, job_id: &str) -> Result<Option<JobRow>, StoreError> {
    Ok(c.query_one(
        &format!("SELECT {JOB_COLS} FROM jobs WHERE client_pk = $1 AND job_id = $2"),
        &[P::I(client_pk), P::T(job_id)],
    )?
    .as_ref()
    .map(job))
}

pub fn by_pk(c: &mut dyn Conn, pk: i64) -> Result<Option<JobRow>, StoreError> {
    Ok(c.query_one(
        &format!("SELECT {JOB_COLS} FROM jobs WHERE pk = $1"),
        &[P::I(pk)],
    )?
    .as_ref()
    .map(job))
}

/// One page of the client's jobs, newest first, with the total count.
/// Which of a client's jobs a list shows: all, or those of one status
/// and/or one segment type.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobFilter<'a> {
    pub status: Option<&'a str>,
    pub segment_type: Option<&'a str>,
}

pub fn list(
    c: &mut dyn Conn,
    client_pk: i64,
    filter: JobFilter,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<JobRow>), StoreError> {
    let mut cond = String::from("client_pk = $1");
    let mut params = vec![P::I(client_pk)];
    for (column, value) in [
        ("status", filter.status),
        ("segment_type", filter.segment_type),
    ] {
        if let Some(v) = value {
            params.push(P::T(v));
            cond.push_str(&format!(" AND {column} = ${}", params.len()));
        }
    }
    let total = c
        .query_one(&format!("SELECT COUNT(*) FROM jobs WHERE {cond}"), &params)?
        .map_or(0, |r| r[0].int());
    let n = params.len();
    params.push(P::I(limit));
    params.push(P::I(offset));
    let rows = c.query(
        &format!(
            "SELECT {JOB_COLS} FROM jobs WHERE {cond} ORDER BY pk DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ),
        &params,
    )?;
    Ok((total, rows.iter().map(job).collect()))
}

pub(super) fn delete_job_rows(c: &mut dyn Conn, pk: i64) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM job_results WHERE job_pk = $1",
        "DELETE FROM job_partitions WHERE job_pk = $1",
        "DELETE FROM callbacks WHERE job_pk = $1",
        "DELETE FROM jobs WHERE pk = $1",
    ] {
        c.exec(sql, &[P::I(pk)])?;
    }
    Ok(())
}

/// Cancels a running job or deletes a finished one; false if unknown.
pub fn delete(c: &mut dyn Conn, client_pk: i64, job_id: &str) -> Result<bool, StoreError> {
    in_transaction(c, |c| {
        let Some(j) = get(c, client_pk, job_id)? else {
            return Ok(false);
        };
        delete_job_rows(c, j.pk)?;
        Ok(true)
    })
}

/// Deletes jobs whose results have expired; returns how many.
pub fn sweep_expired(c: &mut dyn Conn, now: i64) -> Result<u64, StoreError> {
    let pks: Vec<i64> = c
        .query(
            "SELECT pk FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= $1",
            &[P::I(now)],
        )?
        .iter()
        .map(|r| r[0].int())
        .collect();
    for pk in &pks {
        in_transaction(c, |c| delete_job_rows(c, *pk))?;
    }
    Ok(pks.len() as u64)
}
