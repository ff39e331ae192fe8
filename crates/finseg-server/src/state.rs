//! Shared state of the service and the bridge to the blocking storage API.

use std::sync::Arc;

use finseg_store::{Conn, Store, StoreError};

use crate::Config;
use crate::metrics::Metrics;
use crate::problem::Problem;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// Wakes idle workers of this node when a job is created here.
    pub work_available: Arc<tokio::sync::Notify>,
    /// Wakes the callback sender when a job finishes here.
    pub callbacks_due: Arc<tokio::sync::Notify>,
    /// This node's in-memory segment indexes.
    pub indexes: Arc<crate::segment_index::SegmentIndexes>,
    /// Access tokens this node has checked.
    pub tokens: Arc<crate::auth::TokenCache>,
    /// Result pages this node has sent.
    pub pages: Arc<crate::page_cache::PageCache>,
    /// Failed token requests, per client id and per source address.
    pub token_failures: Arc<crate::limits::FailedAttempts>,
    /// Secrets checked at once (argon2 takes a core for a while each).
    pub secret_checks: Arc<tokio::sync::Semaphore>,
    /// Large writes in flight, per client and for this node.
    pub writes: Arc<crate::limits::WriteAdmission>,
    /// Job creations refused for a limit a moment ago, per client.
    pub job_refusals: Arc<crate::limits::RecentRefusals>,
}

impl AppState {
    pub fn new(store: Arc<Store>, config: Config) -> Self {
        let failures_per_minute = config.token_failures_per_minute;
        let batch_slots = match store.backend() {
            finseg_store::Backend::Sqlite => 1,
            finseg_store::Backend::Postgres => 4,
        };
        let writes = crate::limits::WriteAdmission::new(config.writes_per_client, batch_slots);
        AppState {
            store,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            work_available: Arc::new(tokio::sync::Notify::new()),
            callbacks_due: Arc::new(tokio::sync::Notify::new()),
            indexes: Arc::default(),
            tokens: Arc::default(),
            pages: Arc::default(),
            token_failures: Arc::new(crate::limits::FailedAttempts::new(failures_per_minute)),
            // Half the cores at most, so that guessing never takes them all.
            secret_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            )),
            writes: Arc::new(writes),
            job_refusals: Arc::default(),
        }
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn db<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    {
        on_store(&self.store, f).await
    }
}

/// Runs `f` with a connection of `store` on a blocking thread; a store
/// error or a panic becomes a problem document.
pub async fn on_store<T, F>(store: &Arc<Store>, f: F) -> Result<T, Problem>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = store.conn()?;
        f(&mut *c)
    })
    .await
    .map_err(|e| Problem::internal(format!("worker failed: {e}")))?
    .map_err(Problem::from)
}

/// How often the SQLite log is looked at; a checkpoint follows the first
/// look that finds no commit since the previous one.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Copies SQLite's write-ahead log into the database file in pauses
/// between writes (see [`finseg_store::checkpoint`]).
pub async fn checkpoint_loop(mut checkpointer: finseg_store::checkpoint::Checkpointer) {
    use finseg_store::checkpoint::Tick;
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    loop {
        every.tick().await;
        let Ok((back, tick)) = tokio::task::spawn_blocking(move || {
            let tick = checkpointer.tick();
            (checkpointer, tick)
        })
        .await
        else {
            return;
        };
        checkpointer = back;
        match tick {
            Ok(Tick::Checkpointed { log, frames }) => {
                tracing::debug!(log, frames, "checkpoint");
            }
            Ok(Tick::Clean | Tick::Busy) => {}
            Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
        }
    }
}

/// Periodic housekeeping: expired tokens, expired job results, and
/// replaced row versions no job can read any more are deleted.
pub async fn janitor(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = finseg_store::now_unix();
        let swept = state
            .db(move |c| {
                let tokens = finseg_store::clients::purge_expired_tokens(c, now)?;
                let jobs = finseg_store::jobs::sweep_expired(c, now)?;
                let versions = finseg_store::snapshot::collect_history(c)?;
                Ok((tokens, jobs, versions))
            })
            .await;
        match swept {
            Ok((tokens, jobs, versions)) if tokens + jobs + versions > 0 => {
                tracing::info!(tokens, jobs, versions, "housekeeping");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(detail = %e.detail, "housekeeping failed"),
        }
    }
}
