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
}

impl AppState {
    pub fn new(store: Arc<Store>, config: Config) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn db<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = store.conn()?;
            f(&mut *c)
        })
        .await
        .map_err(|e| Problem::internal(format!("worker failed: {e}")))?
        .map_err(Problem::from)
    }
}

/// Periodic housekeeping: expired tokens are deleted.
pub async fn janitor(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = finseg_store::now_unix();
        if let Err(e) = state
            .db(move |c| finseg_store::clients::purge_expired_tokens(c, now))
            .await
        {
            tracing::warn!(detail = %e.detail, "token purge failed");
        }
    }
}
