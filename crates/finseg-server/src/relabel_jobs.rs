//! Relabelling as a background job: `POST /api/v1/labels/relabel` and every
//! correction start one (or join the one running), the node that started it
//! runs it, and the jobs API shows its progress (`GET /api/v1/jobs/{id}`,
//! `GET /api/v1/jobs?kind=relabel`).

use std::sync::Arc;

use finseg_store::relabel::jobs::{self, RelabelJob};
use finseg_store::{Store, now_unix};
use serde_json::{Value, json};

use crate::problem::Problem;
use crate::state::AppState;
use crate::time::iso;

/// Transactions a batch re-labels, each batch its own short transaction.
const BATCH: i64 = 2_000;

/// How often a run writes its progress (well within
/// [`jobs::STALE_AFTER_SECS`], after which a silent run counts as stopped).
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts relabelling the client's stored transactions, or joins the run
/// already going (which then runs once more, so that it sees what changed).
pub async fn start(state: &AppState, client_pk: i64) -> Result<RelabelJob, Problem> {
    let id = crate::jobs::new_job_id();
    let (job, new) = state
        .db(move |c| jobs::start(c, client_pk, &id, now_unix()))
        .await?;
    if new {
        let store = state.store.clone();
        let pk = job.pk;
        tokio::task::spawn_blocking(move || run(&store, client_pk, pk));
    }
    Ok(job)
}

/// Runs the job to its end, writing its progress after every batch.
fn run(store: &Arc<Store>, client_pk: i64, pk: i64) {
    loop {
        let mut written_at = std::time::Instant::now();
        let outcome =
            finseg_store::relabel::relabel_with_progress(store, client_pk, BATCH, &mut |done| {
                // About once a second: the row is the run's heartbeat too.
                if written_at.elapsed() < PROGRESS_EVERY {
                    return;
                }
                written_at = std::time::Instant::now();
                let written = store.conn().and_then(|mut c| {
                    jobs::record_progress(&mut *c, pk, done.examined, done.changed, now_unix())
                });
                if let Err(e) = written {
                    tracing::warn!(client_pk, error = %e, "relabelling progress not written");
                }
            })
            .map_err(|e| {
                tracing::error!(client_pk, error = %e, "relabelling failed");
                format!("relabelling failed: {e}")
            });
        match store
            .conn()
            .and_then(|mut c| jobs::finish(&mut *c, pk, outcome, now_unix()))
        {
            Ok(true) => return,
            Ok(false) => continue,
            Err(e) => {
                // The row stays RUNNING until it is seen to be stale.
                tracing::error!(client_pk, error = %e, "relabelling job not ended");
                return;
            }
        }
    }
}

/// The job as the jobs API shows it.
pub fn json(job: &RelabelJob) -> Value {
    json!({
        "jobId": job.job_id,
        "kind": "relabel",
        "status": job.status,
        "createdAt": iso(Some(job.created_at)),
        "startedAt": iso(Some(job.started_at)),
        "finishedAt": iso(job.finished_at),
        "progress": {
            "transactionsDone": job.examined,
            "transactionsTotal": job.transactions_total,
        },
        "changed": job.changed,
        "error": job.error,
        "statusUrl": format!("/api/v1/jobs/{}", job.job_id),
    })
}
