//! Operations: `/health`, `/metrics` (Prometheus text format), request ids
//! and one structured log line per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Upper bounds of the job duration buckets, in seconds.
const JOB_BUCKETS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

type Labels<const N: usize> = [(&'static str, String); N];
type HistogramFamily<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

/// The events this node counts, in a registry `/metrics` encodes (with the
/// values read at the scrape: see [`scrape`]).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels<3>, Counter>,
    latency: HistogramFamily<1>,
    ingested: Family<Labels<1>, Counter>,
    pub rejected_records: Counter,
    /// Job partitions evaluated from the segment index / from the database.
    pub partitions_from_index: Counter,
    pub partitions_from_database: Counter,
    /// Jobs whose users the segment index cut into partitions, and jobs
    /// whose creation read the users' keys from the database.
    pub job_cuts_from_index: Counter,
    pub job_cuts_from_database: Counter,
    /// Refreshes of one client's segment index that failed.
    pub index_refresh_failures: Counter,
    jobs_finished: Family<Labels<2>, Counter>,
    job_duration: HistogramFamily<2>,
    next_request_id: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::default();
        registry.register(
            "finseg_http_requests",
            "HTTP requests by method, route and status",
            Family::clone(&requests),
        );
        let latency: HistogramFamily<1> = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register(
            "finseg_http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let ingested = Family::<Labels<1>, Counter>::default();
        for kind in ["user", "account", "transaction", "dailyBalance"] {
            let _ = ingested.get_or_create(&[("kind", kind.to_owned())]);
        }
        registry.register(
            "finseg_ingested_records",
            "Records written by ingestion, by kind",
            Family::clone(&ingested),
        );
        let rejected_records = Counter::default();
        registry.register(
            "finseg_rejected_records",
            "Ingestion records rejected as invalid",
            rejected_records.clone(),
        );
        let partitions = Family::<Labels<1>, Counter>::default();
        registry.register(
            "finseg_job_partitions",
            "Job partitions evaluated on this node, by source",
            partitions.clone(),
        );
        let cuts = Family::<Labels<1>, Counter>::default();
        registry.register(
            "finseg_job_cuts",
            "Jobs created on this node, by where their users were cut into partitions",
            cuts.clone(),
        );
        let jobs_finished = Family::default();
        registry.register(
            "finseg_jobs_finished",
            "Segment jobs finished on this node, by type and state",
            Family::clone(&jobs_finished),
        );
        let job_duration: HistogramFamily<2> =
            Family::new_with_constructor(|| Histogram::new(JOB_BUCKETS));
        registry.register(
            "finseg_job_duration_seconds",
            "Seconds from a segment job's creation to its end, by type and state",
            job_duration.clone(),
        );
        let index_refresh_failures = Counter::default();
        registry.register(
            "finseg_segment_index_refresh_failures",
            "Refreshes of one client's segment index that failed (the client's index is rebuilt at the next round; the others are unaffected)",
            index_refresh_failures.clone(),
        );
        // One statement each: the guard `get_or_create` returns holds the
        // family's lock until the statement ends.
        let counter = |family: &Family<Labels<1>, Counter>, source: &str| -> Counter {
            family
                .get_or_create(&[("source", source.to_owned())])
                .clone()
        };
        let partitions_from_index = counter(&partitions, "index");
        let partitions_from_database = counter(&partitions, "database");
        let job_cuts_from_index = counter(&cuts, "index");
        let job_cuts_from_database = counter(&cuts, "database");
        Metrics {
            partitions_from_index,
            partitions_from_database,
            job_cuts_from_index,
            job_cuts_from_database,
            registry,
            requests,
            latency,
            ingested,
            rejected_records,
            index_refresh_failures,
            jobs_finished,
            job_duration,
            next_request_id: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, secs: f64) {
        self.requests
            .get_or_create(&[
                ("method", method.to_owned()),
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&[("route", route.to_owned())])
            .observe(secs);
    }

    pub fn count_ingested(&self, c: &finseg_store::import::KindCounts) {
        for (kind, n) in [
            ("user", c.user),
            ("account", c.account),
            ("transaction", c.transaction),
            ("dailyBalance", c.daily_balance),
        ] {
            self.ingested
                .get_or_create(&[("kind", kind.to_owned())])
                .inc_by(n);
        }
    }

    /// Counts a job this node finished, with its duration from POST to result.
    pub fn job_finished(&self, job: &finseg_store::jobs::JobRow) {
        let secs = job.finished_at.map_or(0, |f| f - job.created_at).max(0) as f64;
        let labels = [
            ("segment", job.segment_type.clone()),
            ("status", job.status.clone()),
        ];
        self.jobs_finished.get_or_create(&labels).inc();
        self.job_duration.get_or_create(&labels).observe(secs);
    }

    /// The counters in the Prometheus text format (0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// What `/metrics` reads at the scrape: the newest write, the segment
/// index's state and the large writes in flight.
fn scrape(state: &AppState, ingest_seq: Option<i64>) -> String {
    let mut registry = Registry::default();
    if let Some(seq) = ingest_seq {
        registry.register(
            "finseg_ingest_seq",
            "The newest committed write's sequence number",
            ConstGauge::new(seq),
        );
    }
    let index = state.indexes.stats();
    if let Some(seq) = index.seq {
        registry.register(
            "finseg_segment_index_seq",
            "The newest write every client's segment index reflects",
            ConstGauge::new(seq),
        );
    }
    registry.register(
        "finseg_segment_index_users",
        "Users held in this node's segment index",
        ConstGauge::new(index.users as i64),
    );
    // A family made afresh at each scrape: the counts are the index's own.
    let loaded = Family::<Labels<1>, Counter>::default();
    loaded
        .get_or_create(&[("source", "import".to_owned())])
        .inc_by(index.users_staged);
    loaded
        .get_or_create(&[("source", "database".to_owned())])
        .inc_by(index.users_read);
    registry.register(
        "finseg_segment_index_users_loaded",
        "Users this node's segment index took in, from a bulk import on this node (source=\"import\") or read from the database",
        loaded,
    );
    registry.register(
        "finseg_large_writes_in_flight",
        "JSON batches, bulk imports and statement files running or waiting on this node",
        ConstGauge::new(state.writes.in_flight() as i64),
    );
    registry.register(
        "finseg_segment_index_bytes",
        "Approximate memory of this node's segment index",
        ConstGauge::new(index.bytes as i64),
    );
    let mut out = String::new();
    prometheus_text::encode(&mut out, &registry).expect("writing to a String cannot fail");
    out
}

/// Middleware: assigns a request id (or keeps the caller's `X-Request-Id`),
/// logs the request, and records its count and latency.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "{:x}-{:x}",
                finseg_store::now_unix(),
                state
                    .metrics
                    .next_request_id
                    .fetch_add(1, Ordering::Relaxed)
            )
        });
    let mut res = next.run(req).await;
    let status = res.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    state.metrics.record(&method, &route, status, secs);
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status,
        millis = secs * 1000.0,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

async fn metrics(State(state): State<AppState>) -> Response {
    // Read before the index: an index at this number has caught up.
    let seq = state.db(finseg_store::data::current_seq).await.ok();
    let mut text = state.metrics.render();
    text.push_str(&scrape(&state, seq));
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

async fn health(State(state): State<AppState>) -> Response {
    let db = state.db(|c| c.query("SELECT 1", &[]).map(|_| ())).await;
    let (status, db_status) = match db {
        Ok(()) => (StatusCode::OK, "UP"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "DOWN"),
    };
    let backend = match state.store.backend() {
        finseg_store::Backend::Sqlite => "sqlite",
        finseg_store::Backend::Postgres => "postgres",
    };
    (
        status,
        axum::Json(serde_json::json!({
            "status": if status == StatusCode::OK { "UP" } else { "DOWN" },
            "database": { "status": db_status, "backend": backend },
            "version": env!("CARGO_PKG_VERSION"),
        })),
    )
        .into_response()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
}
