//! SPEC §3: users, accounts, transactions and daily balances, one by one,
//! as all-or-nothing JSON batches, and as a streaming NDJSON bulk import.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use finseg_core::record::Record;
use finseg_core::{ExternalId, FieldError, id::ID_RULE, input};
use finseg_store::data::{self, Writer};
use finseg_store::import::{
    BatchOutcome, BulkImport, ImportSummary, LineBatch, ParsedBatch, Stager, write_all,
};
use futures_util::StreamExt as _;
use serde_json::value::RawValue;

use crate::AppState;
use crate::auth::Tenant;
use crate::content_coding::{Coding, ZstdDecoded};
use crate::paging::PageQuery;
use crate::problem::Problem;
use crate::time::today_in;

type ApiResult = Result<Response, Problem>;

/// Largest JSON request body (batches of transactions).
const MAX_JSON_BODY: usize = 64 * 1024 * 1024;
/// Longest accepted NDJSON line; longer lines are rejected, not buffered.
const MAX_LINE: usize = 1024 * 1024;
/// Lines per transaction of the bulk import. Fewer, larger commits rewrite
/// fewer B-tree pages that every commit touches (16 KiB each), and keep the
/// pipeline's threads busier; a batch still holds the write lock only
/// briefly.
const IMPORT_BATCH: usize = 20_000;
/// Bytes of text after which a batch is cut before it has
/// [`IMPORT_BATCH`] lines: with about six batches in flight, long lines
/// (up to [`MAX_LINE`]) would otherwise hold gigabytes.
const IMPORT_BATCH_BYTES: usize = 8 * 1024 * 1024;

fn path_id(id: &str, what: &str) -> Result<(), Problem> {
    if ExternalId::is_valid(id) {
        Ok(())
    } else {
        Err(Problem::bad_request(format!(
            "the {what} id in the path is not valid ({ID_RULE})"
        )))
    }
}

fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    // A coded body would otherwise be read as text and refused as bad JSON.
    if Coding::of(headers) != Some(Coding::Identity) {
        return Err(Problem::unsupported_media_type(
            "JSON bodies are taken uncompressed (only the bulk import takes Content-Encoding: zstd)",
        )
        .with("header", "Content-Encoding"));
    }
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => Ok(()),
        Some(ct) if ct.starts_with("application/json") || ct.contains("+json") => Ok(()),
        Some(ct) => Err(Problem::unsupported_media_type(format!(
            "expected application/json, got {ct}"
        ))),
    }
}

fn utf8(body: &Bytes) -> Result<&str, Problem> {
    std::str::from_utf8(body).map_err(|_| Problem::bad_request("the body is not valid UTF-8"))
}

/// The body as a JSON object whose `id` is the path's (added when absent,
/// checked when present).
fn object_with_id(body: &Bytes, id: &str) -> Result<String, Problem> {
    let text = utf8(body)?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| {
            Problem::validation(vec![FieldError::new(
                "",
                if e.is_data() {
                    "must be a JSON object".to_owned()
                } else {
                    format!("not valid JSON: {e}")
                },
            )])
        })?;
    match map.get("id") {
        None | Some(serde_json::Value::Null) => {
            map.insert("id".to_owned(), id.into());
        }
        Some(serde_json::Value::String(s)) if s == id => {}
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "/id",
                "differs from the id in the path",
            )]));
        }
    }
    Ok(serde_json::Value::Object(map).to_string())
}

fn json(status: StatusCode, v: impl serde::Serialize) -> Response {
    (status, axum::Json(v)).into_response()
}

/// 200 with the resource, or the 404 of an unknown id (another client's ids included).
fn found(what: &str, id: &str, v: Option<impl serde::Serialize>) -> ApiResult {
    match v {
        Some(v) => Ok(json(StatusCode::OK, v)),
        None => Err(Problem::not_found(what, id)),
    }
}

/// 204 when something was deleted, else the 404 of an unknown id.
fn deleted(what: &str, id: &str, done: bool) -> ApiResult {
    if done {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found(what, id))
    }
}

// ------------------------------------------------------------------ users

async fn put_user(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    path_id(&id, "user")?;
    require_json(&headers)?;
    object_with_id(&body, &id)?;
    let today = today_in(&tenant.time_zone);
    let (created, view) = state
        .db(move |c| {
            finseg_store::conn::in_transaction(c, |c| {
                let existed = data::user_pk(c, tenant.pk, &id)?.is_some();
                let mut writer = Writer::new(tenant.pk, today);
                writer.begin_batch(c)?;
                writer.user(c, &id)?;
                Ok((!existed, data::get_user(c, tenant.pk, &id)?))
            })
        })
        .await?;
    if created {
        state
            .metrics
            .ingested_users
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, view))
}

async fn get_user(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    found(
        "user",
        &id,
        state
            .db(move |c| data::get_user(c, tenant.pk, &lookup))
            .await?,
    )
}

async fn delete_user(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    let done = state
        .db(move |c| {
            finseg_store::conn::in_transaction(c, |c| data::delete_user(c, tenant.pk, &lookup))
        })
        .await?;
    deleted("user", &id, done)
}

async fn user_accounts(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    match state
        .db(move |c| data::user_accounts(c, tenant.pk, &lookup))
        .await?
    {
        Some(accounts) => Ok(json(
            StatusCode::OK,
            serde_json::json!({ "accounts": accounts }),
        )),
        None => Err(Problem::not_found("user", &id)),
    }
}

// --------------------------------------------------------------- accounts

async fn put_account(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    path_id(&id, "account")?;
    require_json(&headers)?;
    let doc = object_with_id(&body, &id)?;
    let fields = input::raw_fields(&doc).map_err(Problem::validation)?;
    let rec = input::account(&fields).map_err(Problem::validation)?;
    let today = today_in(&tenant.time_zone);
    let (created, outcome) = state
        .db(move |c| {
            finseg_store::conn::in_transaction(c, |c| {
                let existed = data::get_account(c, tenant.pk, rec.id.as_str())?.is_some();
                let mut writer = Writer::new(tenant.pk, today);
                writer.begin_batch(c)?;
                let outcome = writer.account(c, &rec)?;
                let view = data::get_account(c, tenant.pk, rec.id.as_str())?;
                Ok::<_, finseg_store::StoreError>((!existed, outcome.map(|()| view)))
            })
        })
        .await?;
    let view = outcome.map_err(|r| Problem::validation(vec![r.into_field_error()]))?;
    if created {
        state
            .metrics
            .ingested_accounts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        view,
    ))
}

async fn get_account(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    found(
        "account",
        &id,
        state
            .db(move |c| data::get_account(c, tenant.pk, &lookup))
            .await?,
    )
}

async fn delete_account(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    let done = state
        .db(move |c| {
            finseg_store::conn::in_transaction(c, |c| data::delete_account(c, tenant.pk, &lookup))
        })
        .await?;
    deleted("account", &id, done)
}

async fn account_transactions(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    let (page, per_page) = q.read(100, 1000)?;
    let lookup = id.clone();
    let found = state
        .db(move |c| {
            data::account_transactions(c, tenant.pk, &lookup, (page - 1) * per_page, per_page)
        })
        .await?;
    let Some((total, items)) = found else {
        return Err(Problem::not_found("account", &id));
    };
    Ok(json(
        StatusCode::OK,
        serde_json::json!({
            "transactions": items,
            "paging": crate::paging::paging_json(page, per_page, total)
        }),
    ))
}

async fn account_daily_balances(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    match state
        .db(move |c| data::account_daily_balances(c, tenant.pk, &lookup))
        .await?
    {
        Some(b) => Ok(json(
            StatusCode::OK,
            serde_json::json!({ "dailyBalances": b }),
        )),
        None => Err(Problem::not_found("account", &id)),
    }
}

// ---------------------------------------------------------- JSON batches

/// Parses a JSON array of records with `parse`; every bad field of every
/// element is reported (pointer `/index/field`).
fn parse_array(
    body: &Bytes,
    parse: impl Fn(&input::RawFields) -> Result<Record, Vec<FieldError>>,
) -> Result<Vec<Record>, Problem> {
    let text = utf8(body)?;
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
        Problem::validation(vec![FieldError::new(
            "",
            if e.is_data() {
                "must be a JSON array of objects".to_owned()
            } else {
                format!("not valid JSON: {e}")
            },
        )])
    })?;
    if items.is_empty() {
        return Err(Problem::validation(vec![FieldError::new(
            "",
            "the array is empty",
        )]));
    }
    let mut records = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match input::raw_fields(item.get()).and_then(|f| parse(&f)) {
            Ok(r) => records.push(r),
            Err(es) => errors.extend(es.into_iter().map(|e| e.under(&format!("/{i}")))),
        }
    }
    errors.extend(repeated_keys(&records));
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(Problem::validation(errors))
    }
}

/// A request that names one transaction (or one account's day) twice is
/// ambiguous: which of the two should be kept? Each repeat is refused by
/// its pointer, so that the answer's count is what is stored.
fn repeated_keys(records: &[Record]) -> Vec<FieldError> {
    let mut first_at = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let (key, field) = match r {
            Record::Transaction(t) => ((t.id.as_str(), None), "id"),
            Record::DailyBalance(b) => ((b.account_id.as_str(), Some(b.date)), "date"),
            Record::User(_) | Record::Account(_) => continue,
        };
        let first = *first_at.entry(key).or_insert(i);
        if first != i {
            errors.push(FieldError::new(
                format!("/{i}/{field}"),
                format!("repeats item /{first} of this request; each may appear once"),
            ));
        }
    }
    errors
}

async fn write_batch(state: &AppState, tenant: Tenant, records: Vec<Record>) -> ApiResult {
    let today = today_in(&tenant.time_zone);
    let n = records.len();
    let kind = records.first().map(Record::kind);
    let outcome = state
        .db(move |c| write_all(c, tenant.pk, today, &records))
        .await?;
    outcome.map_err(Problem::validation)?;
    let mut counts = finseg_store::import::KindCounts::default();
    match kind {
        Some(finseg_core::record::RecordKind::Transaction) => counts.transaction = n as u64,
        Some(finseg_core::record::RecordKind::DailyBalance) => counts.daily_balance = n as u64,
        _ => {}
    }
    state.metrics.count_ingested(&counts);
    Ok(json(StatusCode::OK, serde_json::json!({ "written": n })))
}

async fn post_transactions(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let _admitted = state.writes.admit(tenant.pk)?;
    require_json(&headers)?;
    // Parsed and written in turn (see `limits::WriteAdmission`).
    let _slot = state.writes.batch_slot().await?;
    let records = parse_array(&body, |f| {
        input::boxed_transaction(f).map(Record::Transaction)
    })?;
    write_batch(&state, tenant, records).await
}

async fn post_daily_balances(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let _admitted = state.writes.admit(tenant.pk)?;
    require_json(&headers)?;
    // Parsed and written in turn (see `limits::WriteAdmission`).
    let _slot = state.writes.batch_slot().await?;
    let records = parse_array(&body, |f| input::daily_balance(f).map(Record::DailyBalance))?;
    write_batch(&state, tenant, records).await
}

// ------------------------------------------------------------ bulk import

/// Runs an import on a blocking thread, fed with batches over `rx`.
fn run_import(
    store: &finseg_store::Store,
    writes: &crate::limits::WriteAdmission,
    client_pk: i64,
    today: finseg_core::Date,
    run: &ImportRun,
    mut rx: tokio::sync::mpsc::Receiver<ParsedBatch>,
    written: std::sync::mpsc::SyncSender<(ParsedBatch, BatchOutcome)>,
) -> Result<ImportSummary, (finseg_store::StoreError, u64)> {
    let before = run.first_line.saturating_sub(1);
    let mut imp = BulkImport::begin(store, client_pk, today).map_err(|e| (e, before))?;
    if let Some(id) = &run.id {
        imp = imp.named(id, run.first_line).map_err(|e| (e, before))?;
    }
    while let Some(batch) = rx.blocking_recv() {
        let through = imp.committed_through();
        let turn = writes.blocking_batch_slot();
        let outcome = imp.write_parsed(&batch).map_err(|e| (e, through))?;
        drop(turn);
        // Staged on the staging thread and freed on the parsing thread,
        // not here: the writer is the pipeline's bottleneck.
        let _ = written.send((batch, outcome));
    }
    let through = imp.committed_through();
    let _turn = writes.blocking_batch_slot();
    imp.finish().map_err(|e| (e, through))
}

/// What [`LineCutter`] found: a line's text, or why a line was refused
/// before parsing.
enum Cut<'a> {
    Line(u64, &'a str),
    Rejected(u64, &'static str),
}

/// Cuts an NDJSON body into numbered lines, whatever the boundaries of the
/// chunks it arrives in. Blank lines are skipped (but numbered), a
/// trailing `\r` is dropped, and a line longer than [`MAX_LINE`] or not in
/// UTF-8 is refused; a long line is never buffered beyond [`MAX_LINE`].
#[derive(Default)]
struct LineCutter {
    /// The start of a line whose end has not arrived yet.
    pending: Vec<u8>,
    /// The current line is too long and was refused: drop until its end.
    skipping_long_line: bool,
    /// Lines completed so far.
    line_no: u64,
}

impl LineCutter {
    fn feed(&mut self, chunk: &[u8], out: &mut dyn FnMut(Cut<'_>)) {
        let mut rest = chunk;
        // memchr scans a word at a time: this loop sees every byte of the body.
        while let Some(pos) = memchr::memchr(b'\n', rest) {
            self.line_no += 1;
            if self.skipping_long_line {
                self.skipping_long_line = false;
            } else if self.pending.is_empty() {
                // The whole line is in this chunk: no copy.
                Self::line(&rest[..pos], self.line_no, out);
            } else {
                self.pending.extend_from_slice(&rest[..pos]);
                Self::line(&self.pending, self.line_no, out);
            }
            self.pending.clear();
            rest = &rest[pos + 1..];
        }
        if !self.skipping_long_line {
            self.pending.extend_from_slice(rest);
            if self.pending.len() > MAX_LINE {
                self.pending.clear();
                self.skipping_long_line = true;
                out(Cut::Rejected(self.line_no + 1, LONG_LINE));
            }
        }
    }

    /// The last line, when the body does not end with a newline.
    fn finish(&mut self, out: &mut dyn FnMut(Cut<'_>)) {
        if !self.pending.is_empty() && !self.skipping_long_line {
            self.line_no += 1;
            Self::line(&self.pending, self.line_no, out);
        }
        self.pending.clear();
    }

    fn line(raw: &[u8], line_no: u64, out: &mut dyn FnMut(Cut<'_>)) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if raw.len() > MAX_LINE {
            out(Cut::Rejected(line_no, LONG_LINE));
            return;
        }
        match std::str::from_utf8(raw) {
            Ok(s) => out(Cut::Line(line_no, s)),
            Err(_) => out(Cut::Rejected(line_no, "the line is not valid UTF-8")),
        }
    }
}

const LONG_LINE: &str = "the line is longer than 1 MiB";

/// Whether a batch is to be sent before another line joins it.
fn batch_is_full(batch: &LineBatch) -> bool {
    batch.len() >= IMPORT_BATCH || batch.bytes() >= IMPORT_BATCH_BYTES
}

fn new_batch() -> LineBatch {
    // Room for a batch of typical lines (about 340 bytes), but not beyond
    // the size at which a batch is cut anyway.
    LineBatch::with_capacity(IMPORT_BATCH, (IMPORT_BATCH * 512).min(IMPORT_BATCH_BYTES))
}

/// Imports an NDJSON stream: its lines go to the parser in batches of
/// [`IMPORT_BATCH`] (fewer when they are long: [`batch_is_full`]), each
/// batch is written in one transaction. Lines that are too long or not
/// UTF-8 are reported as rejected without being parsed.
/// An import's name and the number of its request's first line: a client
/// that names its import can ask how far it got (`GET /api/v1/imports/{id}`)
/// and send the rest, numbered on from there.
#[derive(Debug, Clone)]
pub struct ImportRun {
    pub id: Option<String>,
    pub first_line: u64,
}

impl Default for ImportRun {
    fn default() -> Self {
        ImportRun {
            id: None,
            first_line: 1,
        }
    }
}

pub async fn import_ndjson(
    state: &AppState,
    tenant_pk: i64,
    today: finseg_core::Date,
    run: ImportRun,
    mut body: impl futures_util::Stream<Item = Result<Bytes, String>> + Unpin,
) -> Result<ImportSummary, Problem> {
    // Three stages on their own threads: cut lines (here), parse, write;
    // a fourth stages what was written for this node's segment index.
    // The parsing thread also labels, with the client's rules.
    let labeller = state
        .db(move |c| finseg_store::rules::labeller(c, tenant_pk))
        .await?;
    let (tx, mut line_rx) = tokio::sync::mpsc::channel::<LineBatch>(2);
    let (parsed_tx, parsed_rx) = tokio::sync::mpsc::channel::<ParsedBatch>(2);
    // Bounded, as the other channels: a slow stager holds the writer back
    // rather than batches piling up.
    let (written_tx, written_rx) = std::sync::mpsc::sync_channel::<(ParsedBatch, BatchOutcome)>(2);
    // A fourth thread stages the written batches for this node's segment
    // index (which then need not read them back): on the parsing thread,
    // staging made that thread the pipeline's bottleneck. Only a node that
    // keeps indexes (one with workers) stages.
    let keeps_index = state.config.segment_index && state.config.workers > 0;
    let mut stager = keeps_index.then(|| Stager::new(today));
    let indexes = state.indexes.clone();
    // Staged batches go back to the parsing thread, to be freed where they
    // were allocated.
    let (staged_tx, staged_rx) = std::sync::mpsc::channel::<ParsedBatch>();
    let staging = tokio::task::spawn_blocking(move || {
        for (batch, outcome) in written_rx.iter() {
            if let Some(stager) = &mut stager {
                indexes.stage(tenant_pk, stager.stage(&batch, &outcome));
            }
            let _ = staged_tx.send(batch);
        }
    });
    tokio::task::spawn_blocking(move || {
        let mut scratch = finseg_core::labelling::Scratch::default();
        while let Some(batch) = line_rx.blocking_recv() {
            staged_rx.try_iter().for_each(drop);
            let parsed = ParsedBatch::parse_labelled(batch, &labeller, &mut scratch);
            if parsed_tx.blocking_send(parsed).is_err() {
                break;
            }
        }
    });
    let store = state.store.clone();
    let worker_run = run.clone();
    let writes = state.writes.clone();
    let worker = tokio::task::spawn_blocking(move || {
        run_import(
            &store,
            &writes,
            tenant_pk,
            today,
            &worker_run,
            parsed_rx,
            written_tx,
        )
    });
    let mut early_rejections: Vec<finseg_store::import::Rejection> = Vec::new();
    let mut early_count = 0u64;
    let mut reject = |line: u64, reason: &str| {
        early_count += 1;
        if early_rejections.len() < finseg_store::import::MAX_REPORTED {
            early_rejections.push(finseg_store::import::Rejection {
                line,
                pointer: String::new(),
                field: String::new(),
                reason: reason.to_owned(),
            });
        }
    };
    let mut cutter = LineCutter {
        line_no: run.first_line.saturating_sub(1),
        ..LineCutter::default()
    };
    let mut batch = new_batch();
    let mut ready: Vec<LineBatch> = Vec::new();
    // The last line of the last batch handed to the parser.
    let mut sent_through = run.first_line.saturating_sub(1);
    let mut read_error = None;
    let mut worker_gone = false;
    let mut collect = |cut: Cut<'_>, batch: &mut LineBatch, ready: &mut Vec<LineBatch>| match cut {
        Cut::Line(n, text) => {
            batch.push(n, text);
            if batch_is_full(batch) {
                ready.push(std::mem::replace(batch, new_batch()));
            }
        }
        Cut::Rejected(n, reason) => reject(n, reason),
    };

    'read: while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        cutter.feed(&chunk, &mut |cut| collect(cut, &mut batch, &mut ready));
        for full in ready.drain(..) {
            let last = full.last_line();
            if tx.send(full).await.is_err() {
                worker_gone = true;
                break 'read;
            }
            sent_through = last;
        }
    }
    if !worker_gone && read_error.is_none() {
        cutter.finish(&mut |cut| collect(cut, &mut batch, &mut ready));
        ready.push(batch);
        for full in ready.drain(..).filter(|b| !b.is_empty()) {
            let _ = tx.send(full).await;
        }
    }
    drop(tx);
    let result = worker
        .await
        .map_err(|e| Problem::internal(format!("import worker failed: {e}")))?;
    // The last batch is staged before the import answers (a few
    // milliseconds): the index's next refresh then reads none of it.
    let _ = staging.await;
    if let Some(id) = run.id.clone() {
        let status = match (&read_error, &result) {
            (None, Ok(_)) => "COMPLETED",
            (Some(_), _) => "INTERRUPTED",
            (None, Err(_)) => "FAILED",
        };
        // Best effort: the progress itself is committed with each batch.
        let _ = state
            .db(move |c| finseg_store::import::progress::set_status(c, tenant_pk, &id, status))
            .await;
    }
    if let Some(e) = read_error {
        // The body broke off: what was committed stays (idempotent upserts make a resend safe).
        let through = match &result {
            // Lines cut after the last batch sent were not written.
            Ok(_) => sent_through,
            Err((_, t)) => *t,
        };
        return Err(
            Problem::bad_request(format!("the request body could not be read: {e}"))
                .with("committedThroughLine", through),
        );
    }
    match result {
        Ok(mut summary) => {
            summary.rejected_count += early_count;
            summary.lines += early_count;
            summary.rejected.extend(early_rejections);
            summary.rejected.sort_by_key(|r| r.line);
            summary
                .rejected
                .truncate(finseg_store::import::MAX_REPORTED);
            state.metrics.count_ingested(&summary.written);
            state
                .metrics
                .rejected_records
                .fetch_add(summary.rejected_count, std::sync::atomic::Ordering::Relaxed);
            Ok(summary)
        }
        Err((e, through)) => Err(Problem::from(e).with("committedThroughLine", through)),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportQuery {
    import_id: Option<String>,
    first_line: Option<String>,
}

impl ImportQuery {
    fn read(self) -> Result<ImportRun, Problem> {
        let mut errors = Vec::new();
        let id = self.import_id.filter(|id| {
            let valid = finseg_core::ExternalId::is_valid(id);
            if !valid {
                errors.push(FieldError::new(
                    "/importId",
                    format!("is not a valid identifier ({})", finseg_core::id::ID_RULE),
                ));
            }
            valid
        });
        let first_line = match self.first_line.as_deref().map(str::parse::<u64>) {
            None => 1,
            Some(Ok(n)) if (1..=MAX_FIRST_LINE).contains(&n) => n,
            Some(_) => {
                errors.push(FieldError::new(
                    "/firstLine",
                    format!("must be an integer from 1 to {MAX_FIRST_LINE}"),
                ));
                1
            }
        };
        if errors.is_empty() {
            Ok(ImportRun { id, first_line })
        } else {
            Err(Problem::validation(errors))
        }
    }
}

/// Line numbers stay exact in every database integer and JSON number.
const MAX_FIRST_LINE: u64 = 1 << 50;

async fn import(
    State(state): State<AppState>,
    tenant: Tenant,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let run = q.read()?;
    let _admitted = state.writes.admit(tenant.pk)?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.starts_with("application/x-ndjson") || ct.starts_with("application/jsonl")) {
        return Err(Problem::unsupported_media_type(
            "the bulk import takes Content-Type: application/x-ndjson (one JSON object per line)",
        ));
    }
    let Some(coding) = Coding::of(&headers) else {
        return Err(Problem::unsupported_media_type(
            "the bulk import takes Content-Encoding: zstd, identity or none",
        )
        .with("header", "Content-Encoding"));
    };
    let today = today_in(&tenant.time_zone);
    let stream = body
        .into_data_stream()
        .map(|r| r.map_err(|e| e.to_string()));
    let summary = match coding {
        Coding::Identity => import_ndjson(&state, tenant.pk, today, run, stream).await?,
        Coding::Zstd => {
            let decoded = ZstdDecoded::new(stream)
                .map_err(|e| Problem::internal(format!("no zstd decoder: {e}")))?;
            import_ndjson(&state, tenant.pk, today, run, decoded).await?
        }
    };
    if summary.lines == 0 {
        // Most often a file that was not found by the sender (curl sends
        // nothing for a missing `@file`): say so rather than answer 200.
        return Err(Problem::validation(vec![FieldError::new(
            "",
            "the body holds no lines: send one JSON object per line",
        )]));
    }
    Ok(json(StatusCode::OK, summary))
}

/// How far a named import is committed: a resend starts after
/// `committedThroughLine` with `firstLine` set to the line after it.
async fn get_import(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let lookup = id.clone();
    let found = state
        .db(move |c| finseg_store::import::progress::get(c, tenant.pk, &lookup))
        .await?;
    let Some(p) = found else {
        return Err(Problem::not_found("import", &id));
    };
    Ok(json(
        StatusCode::OK,
        serde_json::json!({
            "importId": p.import_id,
            "status": p.status,
            "committedThroughLine": p.committed_through,
            "lines": p.lines,
            "written": p.written,
            "rejectedCount": p.rejected_count,
            "startedAt": crate::time::iso(Some(p.started_at)),
            "updatedAt": crate::time::iso(Some(p.updated_at)),
        }),
    ))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports/{id}", get(get_import))
        .route(
            "/api/v1/users/{id}",
            put(put_user).get(get_user).delete(delete_user),
        )
        .route("/api/v1/users/{id}/accounts", get(user_accounts))
        .route(
            "/api/v1/accounts/{id}",
            put(put_account).get(get_account).delete(delete_account),
        )
        .route(
            "/api/v1/accounts/{id}/transactions",
            get(account_transactions),
        )
        .route(
            "/api/v1/accounts/{id}/dailyBalances",
            get(account_daily_balances),
        )
        .route(
            "/api/v1/transactions",
            post(post_transactions).layer(DefaultBodyLimit::max(MAX_JSON_BODY)),
        )
        .route(
            "/api/v1/dailyBalances",
            post(post_daily_balances).layer(DefaultBodyLimit::max(MAX_JSON_BODY)),
        )
        .route("/api/v1/import", post(import))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(cut: Cut<'_>) -> (u64, Result<String, &'static str>) {
        match cut {
            Cut::Line(n, t) => (n, Ok(t.to_owned())),
            Cut::Rejected(n, r) => (n, Err(r)),
        }
    }

    /// The cuts of `chunks` fed one after the other.
    fn cut(chunks: &[&[u8]]) -> Vec<(u64, Result<String, &'static str>)> {
        let mut out = Vec::new();
        let mut cutter = LineCutter::default();
        for c in chunks {
            cutter.feed(c, &mut |cut| out.push(owned(cut)));
        }
        cutter.finish(&mut |cut| out.push(owned(cut)));
        out
    }

    #[test]
    fn lines_are_the_same_whatever_the_chunks() {
        let mut body = Vec::new();
        body.extend_from_slice(b"{\"a\":1}\n\n  \n{\"b\":2}\r\n");
        body.extend_from_slice(&vec![b'x'; MAX_LINE + 10]); // line 5: too long
        body.extend_from_slice(b"\n{\"c\":\xff}\n"); // line 6: not UTF-8
        body.extend_from_slice(&vec![b'y'; MAX_LINE]); // line 7: just fits
        // Lines 8 and 9: past a long run of ASCII, an encoded surrogate
        // (not UTF-8) and a euro sign.
        let z = "z".repeat(100);
        body.extend_from_slice(format!("\n{{\"e\":\"{z}").as_bytes());
        body.extend_from_slice(b"\xed\xa0\x80\"}\n");
        body.extend_from_slice(format!("{{\"f\":\"{z}\u{20ac}\"}}").as_bytes());
        body.extend_from_slice(b"\n{\"d\":\"\xc3\xa4\"}"); // line 10, no newline
        let expected = vec![
            (1, Ok("{\"a\":1}".to_owned())),
            (4, Ok("{\"b\":2}".to_owned())),
            (5, Err(LONG_LINE)),
            (6, Err("the line is not valid UTF-8")),
            (7, Ok("y".repeat(MAX_LINE))),
            (8, Err("the line is not valid UTF-8")),
            (9, Ok(format!("{{\"f\":\"{z}€\"}}"))),
            (10, Ok("{\"d\":\"ä\"}".to_owned())),
        ];
        assert_eq!(cut(&[&body]), expected);
        // Chunks of pseudo-random sizes, from one byte to beyond a line's
        // limit, cutting lines, `\r\n` and UTF-8 sequences anywhere.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..40 {
            let mut chunks = Vec::new();
            let mut rest = &body[..];
            while !rest.is_empty() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let max = [7, 4096, 70_000, 2 * MAX_LINE][round % 4];
                let n = (1 + seed as usize % max).min(rest.len());
                chunks.push(&rest[..n]);
                rest = &rest[n..];
            }
            assert_eq!(cut(&chunks), expected, "round {round}");
        }
    }

    #[test]
    fn batches_are_cut_by_lines_or_by_bytes() {
        let mut batch = new_batch();
        let short = "{}";
        for n in 1..IMPORT_BATCH as u64 {
            batch.push(n, short);
        }
        assert!(!batch_is_full(&batch));
        batch.push(IMPORT_BATCH as u64, short);
        assert!(batch_is_full(&batch));
        assert_eq!(batch.last_line(), IMPORT_BATCH as u64);

        // Lines of 1 MiB: eight fill a batch.
        let long = "z".repeat(MAX_LINE);
        let mut batch = new_batch();
        for n in 1..=7 {
            batch.push(n, &long);
            assert!(!batch_is_full(&batch));
        }
        batch.push(8, &long);
        assert!(batch_is_full(&batch));
        assert_eq!(batch.len(), 8);
        assert_eq!(
            batch.iter().map(|(n, t)| (n, t.len())).last(),
            Some((8, MAX_LINE))
        );
    }
}
