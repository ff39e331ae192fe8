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
use finseg_import::{Hooks, ImportError, ImportRun};
use finseg_store::data::{self, Writer};
use finseg_store::import::{ImportSummary, write_all};
use futures_util::StreamExt as _;
use serde_json::value::RawValue;

use crate::auth::Tenant;
use crate::content_coding::{Coding, ZstdDecoded};
use crate::paging::PageQuery;
use crate::problem::Problem;
use crate::time::today_in;
use crate::{AppState, wire};

type ApiResult = Result<Response, Problem>;

/// Largest JSON request body (batches of transactions).
const MAX_JSON_BODY: usize = 64 * 1024 * 1024;
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
            .count_ingested(&finseg_store::import::KindCounts {
                user: 1,
                ..Default::default()
            });
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, view.map(wire::User::from)))
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
            .await?
            .map(wire::User::from),
    )
}

async fn list_users(
    State(state): State<AppState>,
    tenant: Tenant,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    let (page, per_page) = q.read(100, 1000)?;
    let (total, users) = state
        .db(move |c| data::list_users(c, tenant.pk, (page - 1) * per_page, per_page))
        .await?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({
            "users": users.into_iter().map(wire::User::from).collect::<Vec<_>>(),
            "paging": crate::paging::paging_json(page, per_page, total)
        }),
    ))
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
            serde_json::json!({
                "accounts": accounts.into_iter().map(wire::Account::from).collect::<Vec<_>>()
            }),
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
            .count_ingested(&finseg_store::import::KindCounts {
                account: 1,
                ..Default::default()
            });
    }
    Ok(json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        view.map(wire::Account::from),
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
            .await?
            .map(wire::Account::from),
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
            "transactions": items.into_iter().map(wire::Transaction::from).collect::<Vec<_>>(),
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
            serde_json::json!({
                "dailyBalances": b.into_iter().map(wire::DailyBalance::from).collect::<Vec<_>>()
            }),
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

/// Runs a bulk import for a client of this node ([`finseg_import`]): its
/// batches take turns with the node's other large writes, what they write
/// is staged for this node's segment index when the node keeps one, and
/// the outcome is counted and answered as a problem document on failure.
pub async fn import_ndjson(
    state: &AppState,
    tenant_pk: i64,
    today: finseg_core::Date,
    run: ImportRun,
    body: impl futures_util::Stream<Item = Result<Bytes, String>> + Unpin,
) -> Result<ImportSummary, Problem> {
    let keeps_index = state.config.segment_index && state.config.workers > 0;
    let indexes = state.indexes.clone();
    let hooks = Hooks {
        write_turns: Some(state.writes.turns()),
        stage: keeps_index
            .then(|| Box::new(move |users| indexes.stage(tenant_pk, users)) as Box<_>),
        progress: None,
    };
    match finseg_import::import_stream(state.store.clone(), tenant_pk, today, run, hooks, body)
        .await
    {
        Ok(summary) => {
            state.metrics.count_ingested(&summary.written);
            state
                .metrics
                .rejected_records
                .inc_by(summary.rejected_count);
            Ok(summary)
        }
        Err(ImportError::Read {
            error,
            committed_through,
        }) => Err(
            Problem::bad_request(format!("the request body could not be read: {error}"))
                .with("committedThroughLine", committed_through),
        ),
        Err(ImportError::Store {
            error,
            committed_through,
        }) => Err(Problem::from(error).with("committedThroughLine", committed_through)),
        Err(ImportError::Internal(e)) => Err(Problem::internal(e)),
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
    Ok(json(StatusCode::OK, wire::ImportSummary::from(summary)))
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
            "written": wire::KindCounts::from(p.written),
            "rejectedCount": p.rejected_count,
            "startedAt": crate::time::iso(Some(p.started_at)),
            "updatedAt": crate::time::iso(Some(p.updated_at)),
        }),
    ))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports/{id}", get(get_import))
        .route("/api/v1/users", get(list_users))
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
