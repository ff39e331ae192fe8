//! Relabelling as a background job: one row per run, its progress written
//! after every batch, so that any node can answer for it in the jobs API.
//! At most one run per client is running; a run whose node stopped
//! writing is failed, not resumed (a new run starts over, and relabelling
//! is idempotent).

use crate::StoreError;
use crate::conn::{Conn, P, Row, in_transaction};

pub const RUNNING: &str = "RUNNING";
pub const COMPLETED: &str = "COMPLETED";
pub const FAILED: &str = "FAILED";

/// A run whose node has not written for this long has stopped.
pub const STALE_AFTER_SECS: i64 = 120;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelabelJob {
    pub pk: i64,
    pub job_id: String,
    pub status: String,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// The client's stored transactions when the run started.
    pub transactions_total: i64,
    pub examined: i64,
    pub changed: i64,
    pub error: Option<String>,
}

const COLS: &str = "pk, job_id, status, created_at, started_at, finished_at, transactions_total, examined, changed, error";

fn job(r: &Row) -> RelabelJob {
    RelabelJob {
        pk: r[0].int(),
        job_id: r[1].text(),
        status: r[2].text(),
        created_at: r[3].int(),
        started_at: r[4].int(),
        finished_at: r[5].opt_int(),
        transactions_total: r[6].int(),
        examined: r[7].int(),
        changed: r[8].int(),
        error: r[9].opt_text(),
    }
}

/// Starts a run for the client under `job_id`, or returns the run already
/// going (`false`): one at a time per client. The run already going is
/// told to run again when it is done, as it may have read the rules and
/// corrections from before this call.
pub fn start(
    c: &mut dyn Conn,
    client_pk: i64,
    job_id: &str,
    now: i64,
) -> Result<(RelabelJob, bool), StoreError> {
    in_transaction(c, |c| {
        fail_stale(c, Some(client_pk), now)?;
        if let Some(r) = c.query_one(
            &format!(
                "UPDATE relabel_jobs SET again = 1 WHERE client_pk = $1 AND status = 'RUNNING'
                 RETURNING {COLS}"
            ),
            &[P::I(client_pk)],
        )? {
            return Ok((job(&r), false));
        }
        let total = c
            .query_one(
                "SELECT COUNT(*) FROM transactions WHERE client_pk = $1",
                &[P::I(client_pk)],
            )?
            .map_or(0, |r| r[0].int());
        // The partial unique index settles two nodes starting at once.
        let inserted = c.query_one(
            &format!(
                "INSERT INTO relabel_jobs (job_id, client_pk, status, created_at, started_at, heartbeat_at,
                     transactions_total, examined, changed, again)
                 VALUES ($1, $2, 'RUNNING', $3, $3, $3, $4, 0, 0, 0)
                 ON CONFLICT (client_pk) WHERE status = 'RUNNING' DO NOTHING
                 RETURNING {COLS}"
            ),
            &[P::T(job_id), P::I(client_pk), P::I(now), P::I(total)],
        )?;
        match inserted {
            Some(r) => Ok((job(&r), true)),
            None => {
                let r = c
                    .query_one(
                        &format!(
                            "SELECT {COLS} FROM relabel_jobs WHERE client_pk = $1 AND status = 'RUNNING'"
                        ),
                        &[P::I(client_pk)],
                    )?
                    .ok_or_else(|| {
                        StoreError::Internal("a relabelling run vanished while starting".into())
                    })?;
                Ok((job(&r), false))
            }
        }
    })
}

/// Writes a running job's progress (and that its node is alive).
pub fn record_progress(
    c: &mut dyn Conn,
    pk: i64,
    examined: u64,
    changed: u64,
    now: i64,
) -> Result<(), StoreError> {
    c.exec(
        "UPDATE relabel_jobs SET examined = $1, changed = $2, heartbeat_at = $3
         WHERE pk = $4 AND status = 'RUNNING'",
        &[
            P::I(examined as i64),
            P::I(changed as i64),
            P::I(now),
            P::I(pk),
        ],
    )?;
    Ok(())
}

/// Ends a run: completed with its counts, or failed with the reason; or,
/// when rules or corrections changed while it ran and it succeeded, starts
/// its counts over and answers `false`: run again.
pub fn finish(
    c: &mut dyn Conn,
    pk: i64,
    outcome: Result<super::Relabelled, String>,
    now: i64,
) -> Result<bool, StoreError> {
    let (status, examined, changed, error) = match outcome {
        Ok(r) => (
            COMPLETED,
            Some(r.examined as i64),
            Some(r.changed as i64),
            None,
        ),
        Err(e) => (FAILED, None, None, Some(e)),
    };
    loop {
        if status == COMPLETED
            && c.exec(
                "UPDATE relabel_jobs SET again = 0, examined = 0, changed = 0, heartbeat_at = $1
                 WHERE pk = $2 AND status = 'RUNNING' AND again = 1",
                &[P::I(now), P::I(pk)],
            )? > 0
        {
            return Ok(false);
        }
        // `again = 0` only for a success: a request to run again that came
        // after the check above sends the run round once more.
        let ended = c.exec(
            "UPDATE relabel_jobs SET status = $1, examined = COALESCE($2, examined),
                 changed = COALESCE($3, changed), error = $4, finished_at = $5, heartbeat_at = $5
             WHERE pk = $6 AND status = 'RUNNING' AND (again = 0 OR $1 = 'FAILED')",
            &[
                P::T(status),
                examined.map_or(P::Null, P::I),
                changed.map_or(P::Null, P::I),
                error.as_deref().map_or(P::Null, P::T),
                P::I(now),
                P::I(pk),
            ],
        )?;
        // Done once ended, or once no longer running (failed as stale, its
        // client deleted); otherwise a request to run again came between
        // the two statements: go round.
        if ended > 0
            || c.query_one(
                "SELECT 1 FROM relabel_jobs WHERE pk = $1 AND status = 'RUNNING'",
                &[P::I(pk)],
            )?
            .is_none()
        {
            return Ok(true);
        }
    }
}

/// Fails the running jobs (of one client, or all) whose node stopped writing.
pub fn fail_stale(c: &mut dyn Conn, client_pk: Option<i64>, now: i64) -> Result<u64, StoreError> {
    c.exec(
        "UPDATE relabel_jobs SET status = 'FAILED', finished_at = $1,
             error = 'the node running it stopped; start relabelling again'
         WHERE status = 'RUNNING' AND heartbeat_at < $2 AND ($3 < 0 OR client_pk = $3)",
        &[
            P::I(now),
            P::I(now - STALE_AFTER_SECS),
            P::I(client_pk.unwrap_or(-1)),
        ],
    )
}

/// The client's run with this id.
pub fn get(
    c: &mut dyn Conn,
    client_pk: i64,
    job_id: &str,
) -> Result<Option<RelabelJob>, StoreError> {
    Ok(c.query_one(
        &format!("SELECT {COLS} FROM relabel_jobs WHERE client_pk = $1 AND job_id = $2"),
        &[P::I(client_pk), P::T(job_id)],
    )?
    .as_ref()
    .map(job))
}

/// Deletes the client's ended run with this id: `Some(true)` deleted,
/// `Some(false)` still running (kept), `None` no such run.
pub fn delete(c: &mut dyn Conn, client_pk: i64, job_id: &str) -> Result<Option<bool>, StoreError> {
    let deleted = c.exec(
        "DELETE FROM relabel_jobs WHERE client_pk = $1 AND job_id = $2 AND status <> 'RUNNING'",
        &[P::I(client_pk), P::T(job_id)],
    )?;
    if deleted > 0 {
        return Ok(Some(true));
    }
    Ok(get(c, client_pk, job_id)?.map(|_| false))
}

/// The client's runs, newest first: (how many in all, the page).
pub fn list(
    c: &mut dyn Conn,
    client_pk: i64,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<RelabelJob>), StoreError> {
    let total = c
        .query_one(
            "SELECT COUNT(*) FROM relabel_jobs WHERE client_pk = $1",
            &[P::I(client_pk)],
        )?
        .map_or(0, |r| r[0].int());
    let rows = c.query(
        &format!(
            "SELECT {COLS} FROM relabel_jobs WHERE client_pk = $1 ORDER BY pk DESC LIMIT $2 OFFSET $3"
        ),
        &[P::I(client_pk), P::I(limit), P::I(offset)],
    )?;
    Ok((total, rows.iter().map(job).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relabel::Relabelled;
    use crate::testing::store_with_client;

    /// One run at a time per client: a second start joins the first and
    /// sends it round once more; it ends only after that round.
    #[test]
    fn a_start_during_a_run_joins_it_and_runs_it_again() {
        let (store, client) = store_with_client("relabel-jobs-again");
        let c = &mut *store.conn().unwrap();
        let (first, new) = start(c, client, "j1", 1_000).unwrap();
        assert!(new);
        let (joined, new) = start(c, client, "j2", 1_001).unwrap();
        assert!(!new);
        assert_eq!(joined.job_id, "j1");
        let done = Relabelled {
            examined: 3,
            changed: 1,
        };
        assert!(!finish(c, first.pk, Ok(done), 1_002).unwrap(), "runs again");
        assert_eq!(get(c, client, "j1").unwrap().unwrap().status, RUNNING);
        assert!(finish(c, first.pk, Ok(done), 1_003).unwrap());
        let ended = get(c, client, "j1").unwrap().unwrap();
        assert_eq!(
            (
                ended.status.as_str(),
                ended.examined,
                ended.changed,
                ended.finished_at
            ),
            (COMPLETED, 3, 1, Some(1_003))
        );
        assert!(get(c, client, "j2").unwrap().is_none());
        // The next start is a new run.
        assert!(start(c, client, "j3", 1_004).unwrap().1);
    }

    /// A run whose node stopped writing is failed when the next one starts.
    #[test]
    fn a_silent_run_is_failed_and_a_new_one_starts() {
        let (store, client) = store_with_client("relabel-jobs-stale");
        let c = &mut *store.conn().unwrap();
        let (first, _) = start(c, client, "j1", 1_000).unwrap();
        record_progress(c, first.pk, 10, 2, 1_050).unwrap();
        let (next, new) = start(c, client, "j2", 1_050 + STALE_AFTER_SECS + 1).unwrap();
        assert!(new);
        assert_eq!(next.job_id, "j2");
        let stale = get(c, client, "j1").unwrap().unwrap();
        assert_eq!((stale.status.as_str(), stale.examined), (FAILED, 10));
        assert!(stale.error.unwrap().contains("stopped"));
        let (total, jobs) = list(c, client, 0, 10).unwrap();
        assert_eq!(total, 2);
        assert_eq!(jobs[0].job_id, "j2");
    }
}
