//! The worker role: claims partitions of segment jobs, evaluates them, and
//! stores the results; renews this node's leases; sends callbacks.
//!
//! Every node runs the same loops against the shared database. A node that
//! dies loses only its claimed partitions, which other nodes (or the node
//! itself after a restart) take over once the lease expires.

use std::time::Duration;

use finseg_core::Date;
use finseg_core::segment_types::{Params, SegmentType};
use finseg_store::jobs::{self, Claim, Completion, PartitionOutcome};
use finseg_store::snapshot;
use tokio::task::JoinHandle;

use crate::AppState;

/// Attempts per partition before the job fails.
const MAX_ATTEMPTS: i64 = 3;

pub struct Background {
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Stops the loops and hands this node's partitions back for others to take at once.
    pub async fn stop(self, state: &AppState) {
        for t in &self.tasks {
            t.abort();
        }
        let node = state.config.node_id.clone();
        if state.config.workers > 0 {
            let released = state.db(move |c| jobs::release_leases(c, &node)).await;
            if let Ok(n) = released
                && n > 0
            {
                tracing::info!(partitions = n, "released partitions on shutdown");
            }
        }
    }
}

pub fn spawn(state: AppState) -> Background {
    let mut tasks = Vec::new();
    for _ in 0..state.config.workers {
        tasks.push(tokio::spawn(work(state.clone())));
    }
    if state.config.workers > 0 {
        tasks.push(tokio::spawn(heartbeat(state.clone())));
    }
    tasks.push(tokio::spawn(crate::callbacks::deliver_loop(state)));
    Background { tasks }
}

async fn heartbeat(state: AppState) {
    let every = Duration::from_millis((state.config.job_lease_ms / 3).max(50) as u64);
    loop {
        tokio::time::sleep(every).await;
        let node = state.config.node_id.clone();
        let lease = state.config.job_lease_ms;
        if let Err(e) = state.db(move |c| jobs::renew_leases(c, &node, lease)).await {
            tracing::warn!(detail = %e.detail, "lease renewal failed");
        }
    }
}

async fn work(state: AppState) {
    let idle = Duration::from_millis(state.config.poll_ms);
    loop {
        let node = state.config.node_id.clone();
        let lease = state.config.job_lease_ms;
        match state.db(move |c| jobs::claim(c, &node, lease)).await {
            Ok(Some(claim)) => process(&state, claim).await,
            Ok(None) => {
                let _ = tokio::time::timeout(idle, state.work_available.notified()).await;
            }
            Err(e) => {
                tracing::warn!(detail = %e.detail, "claiming work failed");
                tokio::time::sleep(idle).await;
            }
        }
    }
}

/// Loads and evaluates one partition (blocking).
fn evaluate_partition(state: &AppState, claim: &Claim) -> Result<PartitionOutcome, String> {
    let store = &state.store;
    let job = &claim.job;
    let segment = SegmentType::parse(&job.segment_type).ok_or("unknown segment type")?;
    let stored: serde_json::Value = serde_json::from_str(&job.params).map_err(|e| e.to_string())?;
    let params =
        Params::from_stored(segment, &stored).map_err(|e| format!("stored parameters: {e:?}"))?;
    let creation_date = Date::from_days(job.creation_date as i32);
    let mut outcome = PartitionOutcome {
        evaluated: 0,
        matched: 0,
        without_data: 0,
        members: Vec::new(),
    };
    if crate::segment_index::serves(state, &params) {
        let from_index = state
            .indexes
            .with_partition(
                store,
                job.client_pk,
                claim.user_pk_from..=claim.user_pk_to,
                job.snapshot_seq,
                |users| {
                    for (i, &(user_pk, user)) in users.iter().enumerate() {
                        // The next user's columns load while this one is
                        // evaluated, and the accounts of the one after.
                        if let Some((_, after_next)) = users.get(i + 2) {
                            after_next.prefetch_accounts();
                        }
                        if let Some((_, next)) = users.get(i + 1) {
                            params.prefetch(next);
                        }
                        let verdict = crate::segment_index::evaluate(user, &params, creation_date);
                        outcome.record(user_pk, &user.id, verdict);
                    }
                },
            )
            .map_err(|e| e.to_string())?;
        if from_index.is_some() {
            state.metrics.partitions_from_index.inc();
            return Ok(outcome);
        }
    }
    state.metrics.partitions_from_database.inc();
    let mut c = store.conn().map_err(|e| e.to_string())?;
    let users = snapshot::load_partition(
        &mut *c,
        job.client_pk,
        job.snapshot_seq,
        claim.user_pk_from,
        claim.user_pk_to,
        params.load_spec(creation_date),
    )
    .map_err(|e| e.to_string())?;
    drop(c);
    let period = params.period(creation_date);
    for (user_pk, mut user) in users {
        finseg_core::transfers::mark_own_transfers_around(&mut user, period);
        outcome.record(user_pk, &user.id, params.render(creation_date, &user));
    }
    Ok(outcome)
}

async fn process(state: &AppState, claim: Claim) {
    let s2 = state.clone();
    let c2 = claim.clone();
    let started = std::time::Instant::now();
    let evaluated = tokio::task::spawn_blocking(move || evaluate_partition(&s2, &c2))
        .await
        .unwrap_or_else(|e| Err(format!("worker panicked: {e}")));
    let node = state.config.node_id.clone();
    match evaluated {
        Ok(outcome) => {
            let users = outcome.evaluated;
            let c3 = claim.clone();
            match state
                .db(move |c| jobs::complete_partition(c, &node, &c3, &outcome))
                .await
            {
                Ok(Completion::JobCompleted(job)) => {
                    state.metrics.job_finished(&job);
                    tracing::info!(job = %job.job_id, users = job.users_evaluated, matched = job.users_matched, "job completed");
                    state.callbacks_due.notify_one();
                }
                Ok(Completion::Done) => {}
                Ok(Completion::LeaseLost) => {
                    tracing::warn!(job = %claim.job.job_id, part = claim.part_no, "lease lost; partition left to its new owner");
                }
                Err(e) => tracing::warn!(detail = %e.detail, "storing partition results failed"),
            }
            tracing::debug!(job = %claim.job.job_id, part = claim.part_no, users, millis = started.elapsed().as_millis() as u64, "partition done");
        }
        Err(reason) => {
            tracing::warn!(job = %claim.job.job_id, part = claim.part_no, %reason, "partition failed");
            let c3 = claim.clone();
            match state
                .db(move |c| jobs::fail_partition(c, &node, &c3, &reason, MAX_ATTEMPTS))
                .await
            {
                Ok(Some(job)) => {
                    state.metrics.job_finished(&job);
                    state.callbacks_due.notify_one();
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(detail = %e.detail, "recording the failure failed"),
            }
        }
    }
}
