//! Durable segment jobs: the job, its partitions of users, leases that any
//! node can take over, results, and callbacks to deliver.
//!
//! A job is split at creation into partitions of consecutive user keys. A
//! worker claims a partition with a lease (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`; SQLite: the single writer), renews the lease while it works,
//! and completes the partition in one transaction, but only while the
//! lease is still its own. A partition whose lease expired is claimed again.
//! The last completed partition finalises the job.

use std::fmt::Write as _;

use crate::conn::{Backend, Conn, P, Row, V, in_transaction};
use crate::{StoreError, now_unix};

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

const JOB_COLS: &str = "pk, job_id, client_pk, segment_type, params, callback_url, idempotency_key, status,
    creation_date, created_at, started_at, finished_at, expires_at, snapshot_seq, users_total, partitions_total,
    partitions_done, users_done, users_evaluated, users_matched, users_without_data, error";

fn job(r: &Row) -> JobRow {
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

fn delete_job_rows(c: &mut dyn Conn, pk: i64) -> Result<(), StoreError> {
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
const RESULT_ROWS_PER_INSERT: usize = 64;

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

/// A result row's user id and member JSON (written out here when the
/// member is stored packed).
fn member(r: &[V]) -> (String, String) {
    let id = r[0].text();
    let json = finseg_core::segments::member_json(&id, r[1].opt_str().unwrap_or(""));
    let json = json.into_owned();
    (id, json)
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

// ---------------------------------------------------------------- callbacks

/// Callbacks are retried with backoff for this long (SPEC §5: at least 24 h).
pub const CALLBACK_RETRY_MS: i64 = 25 * 3600 * 1000;

fn enqueue_callback(c: &mut dyn Conn, j: &JobRow) -> Result<(), StoreError> {
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
