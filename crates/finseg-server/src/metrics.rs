//! Operations: `/health`, `/metrics` (Prometheus text format), request ids
//! and one structured log line per request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → count
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route → latency histogram
    latency: Mutex<BTreeMap<String, Histogram>>,
    pub ingested_users: AtomicU64,
    pub ingested_accounts: AtomicU64,
    pub ingested_transactions: AtomicU64,
    pub ingested_daily_balances: AtomicU64,
    pub rejected_records: AtomicU64,
    /// Job partitions evaluated from the segment index / from the database.
    pub partitions_from_index: AtomicU64,
    pub partitions_from_database: AtomicU64,
    /// Jobs whose users the segment index cut into partitions, and jobs
    /// whose creation read the users' keys from the database.
    pub job_cuts_from_index: AtomicU64,
    pub job_cuts_from_database: AtomicU64,
    /// Refreshes of one client's segment index that failed.
    pub index_refresh_failures: AtomicU64,
    next_request_id: AtomicU64,
    /// (segment type, final state) → (jobs, seconds from creation to end)
    jobs_finished: Mutex<BTreeMap<(String, String), (u64, f64)>>,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, secs: f64) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let mut lat = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let h = lat.entry(route.to_owned()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn count_ingested(&self, c: &finseg_store::import::KindCounts) {
        self.ingested_users.fetch_add(c.user, Ordering::Relaxed);
        self.ingested_accounts
            .fetch_add(c.account, Ordering::Relaxed);
        self.ingested_transactions
            .fetch_add(c.transaction, Ordering::Relaxed);
        self.ingested_daily_balances
            .fetch_add(c.daily_balance, Ordering::Relaxed);
    }

    /// Counts a job this node finished, with its duration from POST to result.
    pub fn job_finished(&self, job: &finseg_store::jobs::JobRow) {
        let secs = job.finished_at.map_or(0, |f| f - job.created_at).max(0) as f64;
        let mut m = self.jobs_finished.lock().unwrap_or_else(|e| e.into_inner());
        let e = m
            .entry((job.segment_type.clone(), job.status.clone()))
            .or_default();
        e.0 += 1;
        e.1 += secs;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP finseg_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE finseg_http_requests_total counter\n");
        for ((m, r, s), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "finseg_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP finseg_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE finseg_http_request_duration_seconds histogram\n");
        for (r, h) in self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "finseg_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "finseg_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "finseg_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "finseg_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP finseg_ingested_records_total Records written by ingestion, by kind.\n",
        );
        out.push_str("# TYPE finseg_ingested_records_total counter\n");
        for (kind, v) in [
            ("user", &self.ingested_users),
            ("account", &self.ingested_accounts),
            ("transaction", &self.ingested_transactions),
            ("dailyBalance", &self.ingested_daily_balances),
        ] {
            let _ = writeln!(
                out,
                "finseg_ingested_records_total{{kind=\"{kind}\"}} {}",
                v.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP finseg_rejected_records_total Ingestion records rejected as invalid.\n",
        );
        out.push_str("# TYPE finseg_rejected_records_total counter\n");
        let _ = writeln!(
            out,
            "finseg_rejected_records_total {}",
            self.rejected_records.load(Ordering::Relaxed)
        );
        by_source(
            &mut out,
            "finseg_job_partitions_total",
            "Job partitions evaluated on this node, by source.",
            [&self.partitions_from_index, &self.partitions_from_database],
        );
        by_source(
            &mut out,
            "finseg_job_cuts_total",
            "Jobs created on this node, by where their users were cut into partitions.",
            [&self.job_cuts_from_index, &self.job_cuts_from_database],
        );
        out.push_str("# HELP finseg_jobs_finished_total Segment jobs finished on this node, by type and state.\n");
        out.push_str("# TYPE finseg_jobs_finished_total counter\n");
        out.push_str("# HELP finseg_job_duration_seconds_sum Seconds from job creation to its end, summed.\n");
        out.push_str("# TYPE finseg_job_duration_seconds_sum counter\n");
        for ((t, s), (n, secs)) in self
            .jobs_finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "finseg_jobs_finished_total{{segment=\"{t}\",status=\"{s}\"}} {n}"
            );
            let _ = writeln!(
                out,
                "finseg_job_duration_seconds_sum{{segment=\"{t}\",status=\"{s}\"}} {secs}"
            );
        }
        out
    }
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
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        {
            let mut text = state.metrics.render();
            // Read before the index: an index at this number has caught up.
            if let Ok(seq) = state.db(finseg_store::data::current_seq).await {
                text.push_str("# HELP finseg_ingest_seq The newest committed write's sequence number.\n");
                text.push_str("# TYPE finseg_ingest_seq gauge\n");
                let _ = writeln!(text, "finseg_ingest_seq {seq}");
            }
            let index = state.indexes.stats();
            if let Some(seq) = index.seq {
                text.push_str("# HELP finseg_segment_index_seq The newest write every client's segment index reflects.\n");
                text.push_str("# TYPE finseg_segment_index_seq gauge\n");
                let _ = writeln!(text, "finseg_segment_index_seq {seq}");
            }
            text.push_str("# HELP finseg_segment_index_users Users held in this node's segment index.\n");
            text.push_str("# TYPE finseg_segment_index_users gauge\n");
            let _ = writeln!(text, "finseg_segment_index_users {}", index.users);
            text.push_str("# HELP finseg_segment_index_users_loaded_total Users this node's segment index took in, from a bulk import on this node (source=\"import\") or read from the database.\n");
            text.push_str("# TYPE finseg_segment_index_users_loaded_total counter\n");
            let _ = writeln!(
                text,
                "finseg_segment_index_users_loaded_total{{source=\"import\"}} {}",
                index.users_staged
            );
            let _ = writeln!(
                text,
                "finseg_segment_index_users_loaded_total{{source=\"database\"}} {}",
                index.users_read
            );
            text.push_str("# HELP finseg_segment_index_refresh_failures_total Refreshes of one client's segment index that failed (the client's index is rebuilt at the next round; the others are unaffected).\n");
            text.push_str("# TYPE finseg_segment_index_refresh_failures_total counter\n");
            let _ = writeln!(
                text,
                "finseg_segment_index_refresh_failures_total {}",
                state.metrics.index_refresh_failures.load(std::sync::atomic::Ordering::Relaxed)
            );
            text.push_str("# HELP finseg_large_writes_in_flight JSON batches, bulk imports and statement files running or waiting on this node.\n");
            text.push_str("# TYPE finseg_large_writes_in_flight gauge\n");
            let _ = writeln!(text, "finseg_large_writes_in_flight {}", state.writes.in_flight());
            text.push_str("# HELP finseg_segment_index_bytes Approximate memory of this node's segment index.\n");
            text.push_str("# TYPE finseg_segment_index_bytes gauge\n");
            let _ = writeln!(text, "finseg_segment_index_bytes {}", index.bytes);
            text
        },
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

/// A counter with `source="index"` and `source="database"`.
fn by_source(out: &mut String, name: &str, help: &str, [index, database]: [&AtomicU64; 2]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    for (source, v) in [("index", index), ("database", database)] {
        let _ = writeln!(
            out,
            "{name}{{source=\"{source}\"}} {}",
            v.load(Ordering::Relaxed)
        );
    }
}
