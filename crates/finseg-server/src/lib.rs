//! The finseg HTTP service: configuration, application assembly, and the
//! routes of the API. `Application::build` is used by `main` and by the
//! tests alike; bound to port 0 it picks a free port.
#![forbid(unsafe_code)]

pub mod auth;
pub mod callbacks;
pub mod content_coding;
pub mod corrections_api;
pub mod docs;
pub mod ingest;
pub mod jobs;
pub mod labels_api;
pub mod limits;
pub mod metrics;
pub mod page_cache;
pub mod paging;
pub mod problem;
pub mod relabel_jobs;
pub mod segment_index;
pub mod state;
pub mod statements_api;
pub mod time;
pub mod wire;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use finseg_store::{DbUrl, Store};
use tokio::net::TcpListener;

pub use state::AppState;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: DbUrl,
    /// Default time zone of new clients (SPEC §5: `Europe/Berlin`).
    pub time_zone: String,
    /// Lifetime of access tokens in seconds.
    pub token_ttl_secs: i64,
    /// This process's name in partition leases (unique per process).
    pub node_id: String,
    /// Concurrent partition workers in this process (0: this node serves the API only).
    pub workers: usize,
    /// How long a claimed partition stays with a node that stops renewing it.
    pub job_lease_ms: i64,
    /// Users per partition.
    pub partition_size: usize,
    /// How often an idle worker looks for work created on other nodes.
    pub poll_ms: u64,
    /// Allow callbacks to loopback, private and link-local addresses (tests, closed networks).
    pub allow_private_callbacks: bool,
    /// First retry delay of a failed callback; doubles per attempt, at most one hour.
    pub callback_retry_base_ms: i64,
    /// Base URL in callback bodies (`resultUrl`); default `http://{listen}`.
    pub public_url: Option<String>,
    /// Keep a columnar segment index of every client in memory and evaluate
    /// balance jobs from it (`finseg_core::segment_index`).
    pub segment_index: bool,
    /// How often the segment index catches up with the database.
    pub index_refresh_ms: u64,
    /// What one client may hold at once: active jobs, kept results, members.
    pub job_limits: finseg_store::jobs::JobLimits,
    /// Failed token requests one client id, or one source address, may
    /// make per minute before further attempts are refused with 429.
    pub token_failures_per_minute: u32,
    /// Large writes (JSON batches, bulk imports, statement files) one client
    /// may have running or waiting at once; more are refused with 429.
    pub writes_per_client: usize,
}

impl Config {
    /// The embedded default of SPEC §7, with data under `data_dir`.
    pub fn embedded(data_dir: &std::path::Path) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: DbUrl::in_data_dir(data_dir),
            time_zone: "Europe/Berlin".to_owned(),
            token_ttl_secs: 3600,
            node_id: random_node_id(),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            job_lease_ms: 30_000,
            partition_size: 1_000,
            poll_ms: 500,
            allow_private_callbacks: false,
            callback_retry_base_ms: 10_000,
            public_url: None,
            segment_index: true,
            index_refresh_ms: 1_000,
            job_limits: finseg_store::jobs::JobLimits::default(),
            token_failures_per_minute: 10,
            writes_per_client: 4,
        }
    }
}

/// A node id: host name (when known) and random bits.
pub fn random_node_id() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host = host.trim();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    if host.is_empty() {
        format!("node-{hex}")
    } else {
        format!("{host}-{hex}")
    }
}

#[derive(Debug)]
pub enum StartError {
    Store(finseg_store::StoreError),
    Bind(std::io::Error),
    TimeZone(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Store(e) => write!(f, "database: {e}"),
            StartError::Bind(e) => write!(f, "listen: {e}"),
            StartError::TimeZone(z) => write!(f, "unknown time zone '{z}'"),
        }
    }
}

impl std::error::Error for StartError {}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Opens (and migrates) the database and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        if time::zone(&config.time_zone).is_none() {
            return Err(StartError::TimeZone(config.time_zone.clone()));
        }
        let url = config.database.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(url))
            .await
            .map_err(|e| StartError::Store(finseg_store::StoreError::Internal(e.to_string())))?
            .map_err(StartError::Store)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(StartError::Bind)?;
        let state = AppState::new(Arc::new(store), config);
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr();
        let janitor = tokio::spawn(state::janitor(self.state.clone()));
        let store = self.state.store.clone();
        let opened =
            tokio::task::spawn_blocking(move || store.checkpointer().map_err(|e| e.to_string()))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
        let checkpointer = match opened {
            Ok(c) => c.map(|c| tokio::spawn(state::checkpoint_loop(c))),
            Err(error) => {
                // Commits still checkpoint past their bound without it.
                tracing::warn!(%error, "no checkpointer");
                None
            }
        };
        let background = worker::spawn(self.state.clone());
        let indexer = (self.state.config.segment_index && self.state.config.workers > 0)
            .then(|| tokio::spawn(segment_index::refresh_loop(self.state.clone())));
        tracing::info!(
            %addr,
            database = %self.state.store.url().redacted(),
            node = %self.state.config.node_id,
            workers = self.state.config.workers,
            "finseg listening"
        );
        let app = router(self.state.clone());
        // Connect info gives limits the source address of each request.
        let r = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        janitor.abort();
        if let Some(c) = checkpointer {
            c.abort();
        }
        if let Some(i) = indexer {
            i.abort();
        }
        background.stop(&self.state).await;
        tracing::info!("finseg stopped");
        r
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(auth::routes())
        .merge(ingest::routes())
        .merge(statements_api::routes())
        .merge(jobs::routes())
        .merge(labels_api::routes())
        .merge(corrections_api::routes())
        .merge(docs::routes())
        .merge(metrics::routes())
        // A route layer sees the matched route, so metrics are per route template.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .fallback(
            |method: axum::http::Method, uri: axum::extract::OriginalUri| async move {
                problem::Problem::no_route(method.as_str(), uri.path())
            },
        )
        .layer(axum::middleware::from_fn(problem::every_error_a_problem))
        .layer(axum::middleware::from_fn(contain_panics))
        .with_state(state)
}

/// A panic while answering a request is a bug: it costs that request a 500
/// problem document, and the connection and every other request go on.
async fn contain_panics(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(request))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(payload) => {
            let message = segment_index::panic_message(&*payload);
            tracing::error!(%message, "a request panicked");
            problem::Problem::internal(
                "the request failed on an internal error; it has been logged",
            )
            .into_response()
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}
