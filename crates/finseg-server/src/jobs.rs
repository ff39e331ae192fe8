//! SPEC §5: segment jobs over HTTP, with finAPI's contract: POST creates a
//! job (202, `jobId`), GET polls the result (404 with the state while not
//! done, 400 for unknown ids, 500 when failed), and the same paths without
//! the `/api/v1` prefix. Plus finseg's job resources under `/api/v1/jobs`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use finseg_core::segment_types::{Member, Params, SegmentType};
use finseg_core::{Date, FieldError};
use finseg_store::jobs::{self, Created, JobRow, NewJob};
use finseg_store::relabel;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Tenant;
use crate::page_cache::PageKey;
use crate::paging::PageQuery;
use crate::problem::Problem;
use crate::time::iso;
use crate::time::today_in;

type ApiResult = Result<Response, Problem>;

/// Members fetched per database round trip when a result is sent.
const PAGE_FETCH: i64 = 5_000;

/// Pages of at most this many members are kept in the node's page cache.
const MAX_CACHED_PAGE: i64 = 1_000;

/// How many times larger the partitions of index-evaluated jobs are.
const INDEX_PARTITION_FACTOR: usize = 10;

fn segment_type(name: &str) -> Result<SegmentType, Problem> {
    SegmentType::parse(name).ok_or_else(|| {
        Problem::not_found("segment type", name).with(
            "segmentTypes",
            SegmentType::ALL
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        )
    })
}

pub(crate) fn new_job_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    b[6] = (b[6] & 0x0f) | 0x40; // UUID version 4
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A job request as read from its body and headers.
struct JobRequest {
    params: Params,
    callback_url: Option<String>,
    idempotency_key: Option<String>,
}

/// Reads a job request: the body's parameters and callback URL (every bad
/// field named), and the `Idempotency-Key` header.
async fn read_request(
    state: &AppState,
    segment: SegmentType,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<JobRequest, Problem> {
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && !(ct.starts_with("application/json") || ct.contains("+json"))
    {
        return Err(Problem::unsupported_media_type(format!(
            "expected application/json, got {ct}"
        )));
    }
    let doc: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| {
            Problem::validation(vec![FieldError::new("", format!("not valid JSON: {e}"))])
        })?
    };
    let mut errors = Vec::new();
    let params = match Params::parse(segment, &doc) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let (callback_field, callback_url) = match (doc.get("callbackURL"), doc.get("callbackUrl")) {
        (Some(v), _) if !v.is_null() => ("callbackURL", Some(v)),
        (_, Some(v)) if !v.is_null() => ("callbackUrl", Some(v)),
        _ => ("callbackURL", None),
    };
    let callback_url = match callback_url {
        None => None,
        Some(Value::String(u)) => {
            match crate::callbacks::check_url(u, state.config.allow_private_callbacks).await {
                Ok(_) => Some(u.clone()),
                Err(refusal) => {
                    errors.push(FieldError::new(
                        format!("/{callback_field}"),
                        refusal.to_string(),
                    ));
                    None
                }
            }
        }
        Some(_) => {
            errors.push(FieldError::new(
                format!("/{callback_field}"),
                "must be a URL string",
            ));
            None
        }
    };
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 255 => Some(k.to_owned()),
            _ => {
                return Err(Problem::bad_request(
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                ));
            }
        },
    };
    let Some(params) = params.filter(|_| errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    Ok(JobRequest {
        params,
        callback_url,
        idempotency_key,
    })
}

/// How a new job's users are cut into partitions: their size, and the cut
/// itself when this node's segment index holds the client.
async fn partition_plan(
    state: &AppState,
    tenant_pk: i64,
    params: &Params,
) -> Result<(usize, Option<finseg_store::jobs::UserCut>), Problem> {
    // A partition the index evaluates takes milliseconds: larger ones save
    // the claim and completion of each (leases still spread them over nodes).
    let from_index = crate::segment_index::serves(state, params);
    let partition_size = if from_index {
        state
            .config
            .partition_size
            .saturating_mul(INDEX_PARTITION_FACTOR)
    } else {
        state.config.partition_size
    };
    // The index cuts the users when it holds them; without it (or when it is
    // off) the job's creation reads the keys from the database.
    let cut = if state.config.segment_index {
        let s = state.clone();
        tokio::task::spawn_blocking(move || s.indexes.cut(&s.store, tenant_pk, partition_size))
            .await
            .map_err(|e| Problem::internal(format!("worker failed: {e}")))?
            .map_err(Problem::from)?
    } else {
        None
    };
    Ok((partition_size, cut))
}

async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(type_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let segment = segment_type(&type_name)?;
    let JobRequest {
        params,
        callback_url,
        idempotency_key,
    } = read_request(&state, segment, &headers, &body).await?;
    // (A retry with an Idempotency-Key may name a job accepted before.)
    if idempotency_key.is_none()
        && let Some(limit) = state.job_refusals.get(tenant.pk)
    {
        return Err(limit_problem(limit));
    }
    let stored_params = params.to_json().to_string();
    let job_id = new_job_id();
    let creation_date = today_in(&tenant.time_zone);
    let (partition_size, cut) = partition_plan(&state, tenant.pk, &params).await?;
    let state_limits = state.config.job_limits;
    let (sp, cb, key, jid) = (
        stored_params.clone(),
        callback_url.clone(),
        idempotency_key.clone(),
        job_id.clone(),
    );
    let (created, cut) = state
        .db(move |c| {
            let created = jobs::create(
                c,
                &NewJob {
                    job_id: &jid,
                    client_pk: tenant.pk,
                    segment_type: segment.as_str(),
                    params: &sp,
                    callback_url: cb.as_deref(),
                    idempotency_key: key.as_deref(),
                    creation_date: creation_date.days().into(),
                    partition_size,
                    cut: cut.as_ref(),
                    limits: state_limits,
                },
            )?;
            Ok((created, cut))
        })
        .await?;
    let job = match created {
        Created::New(job) => {
            let cuts = if cut.as_ref().is_some_and(|c| c.is_as_of(job.snapshot_seq)) {
                &state.metrics.job_cuts_from_index
            } else {
                &state.metrics.job_cuts_from_database
            };
            cuts.inc();
            state.work_available.notify_waiters();
            if job.status == jobs::COMPLETED {
                state.callbacks_due.notify_one();
            }
            job
        }
        Created::Refused(limit) => {
            state.job_refusals.remember(tenant.pk, limit);
            return Err(limit_problem(limit));
        }
        Created::Existing(job) => {
            if job.segment_type != segment.as_str()
                || job.params != stored_params
                || job.callback_url != callback_url
            {
                return Err(Problem::conflict(
                    "this Idempotency-Key was used for a different request; use a new key for new parameters",
                )
                .with("jobId", job.job_id));
            }
            job
        }
    };
    let location = format!("/api/v1/segments/{}/{}", segment.as_str(), job.job_id);
    let mut res = (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "jobId": job.job_id })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// 429: the client holds as many jobs or results as it may.
fn limit_problem(limit: jobs::LimitReached) -> Problem {
    let (detail, retry_after) = match limit {
        jobs::LimitReached::Active(n) => (
            format!(
                "this client has {n} jobs queued or running, as many as it may; wait for one to finish"
            ),
            5,
        ),
        jobs::LimitReached::Stored(n) => (
            format!(
                "this client keeps {n} finished results, as many as it may; delete results it no longer needs (DELETE /api/v1/jobs/{{jobId}}) or wait until they expire"
            ),
            3600,
        ),
        jobs::LimitReached::StoredMembers(n) => (
            format!(
                "this client's kept results hold {n} members, as many as they may; delete results it no longer needs (DELETE /api/v1/jobs/{{jobId}}) or wait until they expire"
            ),
            3600,
        ),
    };
    Problem::too_many_requests(detail, retry_after)
}

/// The result document without `users` (which is streamed after it).
fn result_head(job: &JobRow, paging: Option<(i64, i64)>) -> Value {
    let segment = SegmentType::parse(&job.segment_type).expect("stored segment type");
    let stored: Value = serde_json::from_str(&job.params).unwrap_or(Value::Null);
    let creation_date = Date::from_days(job.creation_date as i32);
    let period = Params::from_stored(segment, &stored)
        .map(|p| p.period(creation_date))
        .ok();
    let mut head = json!({
        "jobId": job.job_id,
        "segmentType": job.segment_type,
        "status": job.status,
        "creationDate": creation_date,
        "parameters": stored,
        "periodFrom": period.map(|p| p.from),
        "periodTo": period.map(|p| p.to),
        "usersEvaluated": job.users_evaluated,
        "usersMatched": job.users_matched,
        "usersWithoutData": job.users_without_data,
        "expiresAt": iso(job.expires_at),
    });
    if let Some((page, per_page)) = paging {
        head["paging"] = crate::paging::paging_json(page, per_page, job.users_matched);
    }
    head
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Ndjson,
    Csv,
}

/// Appends one member's CSV rows (the columns of
/// `SegmentType::csv_header`, `userId` first in each).
fn push_csv_rows(user_id: &str, member: &Member, out: &mut String) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for cells in member.csv_rows() {
        // Writing into memory fails only if a record is malformed, and
        // every record here has the header's number of cells.
        let _ = w.write_record(std::iter::once(user_id).chain(cells.iter().map(String::as_str)));
    }
    if let Ok(bytes) = w.into_inner() {
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
}

fn push_json(member: &Member, out: &mut String) {
    // A member is plain data: serialising it into memory cannot fail.
    let json = serde_json::to_string(member).expect("a member is written as JSON");
    out.push_str(&json);
}

/// Streams the members `offset .. offset + limit` in the requested format,
/// fetching them page by page, so a large result never sits in memory whole.
/// `prefetched` are the first of them, read with the job.
fn member_stream(
    state: AppState,
    job: JobRow,
    offset: i64,
    limit: i64,
    format: Format,
    head: Option<Value>,
    prefetched: Option<Vec<(String, String)>>,
) -> Body {
    let segment = SegmentType::parse(&job.segment_type).expect("stored segment type");
    struct Cursor {
        next: i64,
        end: i64,
        /// The last user id sent: later pages continue after it (keyset paging).
        after: Option<String>,
        first: bool,
        opened: bool,
        done: bool,
        prefetched: Option<Vec<(String, String)>>,
    }
    let cursor = Cursor {
        next: offset,
        end: offset.saturating_add(limit),
        after: None,
        first: true,
        opened: false,
        done: false,
        prefetched,
    };
    let stream = futures_util::stream::unfold(cursor, move |mut cur| {
        let state = state.clone();
        let head = head.clone();
        let job_pk = job.pk;
        async move {
            if cur.done {
                return None;
            }
            let mut chunk = String::new();
            if !cur.opened {
                cur.opened = true;
                match (format, &head) {
                    (Format::Json, Some(h)) => {
                        let h = h.to_string();
                        chunk.push_str(&h[..h.len() - 1]);
                        chunk.push_str(",\"users\":[");
                    }
                    (Format::Csv, _) => {
                        chunk.push_str(segment.csv_header());
                        chunk.push('\n');
                    }
                    _ => {}
                }
            }
            let want = (cur.end - cur.next).min(PAGE_FETCH);
            let members = if let Some(m) = cur.prefetched.take() {
                m
            } else if want > 0 {
                let from = cur.next;
                let after = cur.after.clone();
                match state
                    .db(move |c| match after {
                        Some(a) => jobs::members_after(c, job_pk, &a, want),
                        None => jobs::members(c, job_pk, from, want),
                    })
                    .await
                {
                    Ok(m) => m,
                    Err(e) => {
                        return Some((
                            Err(std::io::Error::other(e.detail)),
                            Cursor { done: true, ..cur },
                        ));
                    }
                }
            } else {
                Vec::new()
            };
            cur.next += members.len() as i64;
            cur.after = members.last().map(|(id, _)| id.clone()).or(cur.after);
            for (id, stored) in &members {
                let Some(m) = segment.decode(id, stored) else {
                    let e = format!("the stored result of user {id} cannot be read");
                    return Some((Err(std::io::Error::other(e)), Cursor { done: true, ..cur }));
                };
                match format {
                    Format::Json => {
                        if !cur.first {
                            chunk.push(',');
                        }
                        push_json(&m, &mut chunk);
                    }
                    Format::Ndjson => {
                        push_json(&m, &mut chunk);
                        chunk.push('\n');
                    }
                    Format::Csv => push_csv_rows(id, &m, &mut chunk),
                }
                cur.first = false;
            }
            if (members.len() as i64) < want || want == 0 || cur.next >= cur.end {
                cur.done = true;
                if format == Format::Json {
                    chunk.push_str("]}");
                }
            }
            Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), cur))
        }
    });
    Body::from_stream(stream)
}

/// finAPI's answers for a job that has no result (yet).
fn not_ready(job: &JobRow) -> Option<Problem> {
    match job.status.as_str() {
        jobs::QUEUED | jobs::RUNNING => Some(
            Problem::job_pending(
                &job.status,
                format!("the job is {}; poll again later", job.status.to_lowercase()),
            )
            .with("jobId", job.job_id.clone())
            .with("progress", progress(job)),
        ),
        jobs::FAILED => Some(
            Problem::internal(format!(
                "the job failed: {}",
                job.error.as_deref().unwrap_or("unknown reason")
            ))
            .with("jobId", job.job_id.clone())
            .with("jobStatus", "FAILED"),
        ),
        _ => None,
    }
}

fn progress(job: &JobRow) -> Value {
    json!({
        "usersDone": job.users_done,
        "usersTotal": job.users_total,
        "partitionsDone": job.partitions_done,
        "partitionsTotal": job.partitions_total,
    })
}

async fn result(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((type_name, job_id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> ApiResult {
    let segment = segment_type(&type_name)?;
    // Without page or perPage: the whole result, as finAPI answers.
    let paging = if q.is_given() {
        Some(q.read(100, 100_000)?)
    } else {
        None
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = if accept.contains("application/x-ndjson") {
        Format::Ndjson
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    };
    let (offset, limit) = match paging {
        Some((page, per_page)) => ((page - 1).saturating_mul(per_page), per_page),
        None => (0, i64::MAX / 2),
    };
    // Pages of a bounded size are kept by this node (`page_cache`).
    let page_key = paging
        .filter(|_| limit <= MAX_CACHED_PAGE)
        .map(|_| PageKey {
            client_pk: tenant.pk,
            job_id: job_id.clone(),
            offset,
            limit,
            format: format as u8,
        });
    let cached = page_key.as_ref().is_some_and(|k| state.pages.has(k));
    // The job and the first members in one trip to the database.
    let lookup = job_id.clone();
    let client_pk = tenant.pk;
    let (job, first) = state
        .db(move |c| {
            let job = jobs::get(c, client_pk, &lookup)?;
            let first = match &job {
                Some(j)
                    if !cached
                        && j.status == jobs::COMPLETED
                        && j.segment_type == segment.as_str() =>
                {
                    Some(jobs::members(c, j.pk, offset, limit.min(PAGE_FETCH))?)
                }
                _ => None,
            };
            Ok((job, first))
        })
        .await?;
    let job = job
        .filter(|j| j.segment_type == segment.as_str())
        // finAPI answers unknown, expired and foreign job ids with 400.
        .ok_or_else(|| {
            Problem::bad_request(format!(
                "no {} job '{job_id}' (unknown or expired)",
                segment.as_str()
            ))
        })?;
    if let Some(p) = not_ready(&job) {
        return Err(p);
    }
    let head = (format == Format::Json).then(|| result_head(&job, paging));
    let content_type = match format {
        Format::Json => "application/json",
        Format::Ndjson => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let Some(key) = page_key else {
        let body = member_stream(state, job, offset, limit, format, head, first);
        return Ok(([(header::CONTENT_TYPE, content_type)], body).into_response());
    };
    let matched = job.users_matched;
    if let Some(page) = state.pages.get(&key, matched) {
        return Ok(([(header::CONTENT_TYPE, content_type)], page).into_response());
    }
    let body = member_stream(state.clone(), job, offset, limit, format, head, first);
    let page = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| Problem::internal(format!("reading the result failed: {e}")))?;
    state.pages.put(key, matched, page.clone());
    Ok(([(header::CONTENT_TYPE, content_type)], page).into_response())
}

fn status_resource(job: &JobRow, callback: Option<(String, i64)>) -> Value {
    json!({
        "jobId": job.job_id,
        "kind": "segment",
        "segmentType": job.segment_type,
        "status": job.status,
        "parameters": serde_json::from_str::<Value>(&job.params).unwrap_or(Value::Null),
        "callbackURL": job.callback_url,
        "creationDate": Date::from_days(job.creation_date as i32),
        "createdAt": iso(Some(job.created_at)),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "expiresAt": iso(job.expires_at),
        "progress": progress(job),
        "resultSize": job.users_matched,
        "usersEvaluated": job.users_evaluated,
        "usersWithoutData": job.users_without_data,
        "error": job.error,
        "callback": callback.map(|(status, attempts)| json!({"status": status, "attempts": attempts})),
        "resultUrl": format!("/api/v1/segments/{}/{}", job.segment_type, job.job_id),
    })
}

async fn job_status(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(job_id): Path<String>,
) -> ApiResult {
    let lookup = job_id.clone();
    let found = state
        .db(move |c| {
            if let Some(job) = jobs::get(c, tenant.pk, &lookup)? {
                let cb = jobs::callback_state(c, job.pk)?;
                return Ok(Some(status_resource(&job, cb)));
            }
            Ok(relabel::jobs::get(c, tenant.pk, &lookup)?
                .as_ref()
                .map(crate::relabel_jobs::json))
        })
        .await?;
    match found {
        Some(resource) => Ok((StatusCode::OK, axum::Json(resource)).into_response()),
        None => Err(Problem::not_found("job", &job_id)),
    }
}

/// `?kind=`, `?status=` and `?segmentType=` of the job list.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobFilterQuery {
    kind: Option<String>,
    status: Option<String>,
    segment_type: Option<String>,
}

/// What the job list lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobKind {
    Segment,
    Relabel,
}

impl JobFilterQuery {
    fn kind(&self) -> Result<JobKind, Problem> {
        match self.kind.as_deref() {
            None | Some("segment") => Ok(JobKind::Segment),
            Some("relabel") if self.status.is_none() && self.segment_type.is_none() => {
                Ok(JobKind::Relabel)
            }
            Some("relabel") => Err(Problem::validation(vec![FieldError::new(
                "/kind",
                "relabel jobs are listed without status or segmentType",
            )])),
            Some(_) => Err(Problem::validation(vec![FieldError::new(
                "/kind",
                "must be segment or relabel",
            )])),
        }
    }
}

impl JobFilterQuery {
    fn read(&self) -> Result<jobs::JobFilter<'static>, Problem> {
        let mut errors = Vec::new();
        let status = self.status.as_deref().and_then(|s| {
            let found = [jobs::QUEUED, jobs::RUNNING, jobs::COMPLETED, jobs::FAILED]
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(s));
            if found.is_none() {
                errors.push(FieldError::new(
                    "/status",
                    "must be QUEUED, RUNNING, COMPLETED or FAILED",
                ));
            }
            found
        });
        let segment_type = self.segment_type.as_deref().and_then(|s| {
            let found = SegmentType::parse(s).map(SegmentType::as_str);
            if found.is_none() {
                let names: Vec<&str> = SegmentType::ALL.iter().map(|t| t.as_str()).collect();
                errors.push(FieldError::new(
                    "/segmentType",
                    format!("must be one of {}", names.join(", ")),
                ));
            }
            found
        });
        if errors.is_empty() {
            Ok(jobs::JobFilter {
                status,
                segment_type,
            })
        } else {
            Err(Problem::validation(errors))
        }
    }
}

async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    Query(q): Query<PageQuery>,
    Query(f): Query<JobFilterQuery>,
) -> ApiResult {
    let (page, per_page) = q.read(100, 1000)?;
    if f.kind()? == JobKind::Relabel {
        let (total, rows) = state
            .db(move |c| relabel::jobs::list(c, tenant.pk, (page - 1) * per_page, per_page))
            .await?;
        return Ok(axum::Json(json!({
            "jobs": rows.iter().map(crate::relabel_jobs::json).collect::<Vec<_>>(),
            "paging": crate::paging::paging_json(page, per_page, total),
        }))
        .into_response());
    }
    let filter = f.read()?;
    let (total, rows) = state
        .db(move |c| jobs::list(c, tenant.pk, filter, (page - 1) * per_page, per_page))
        .await?;
    Ok(axum::Json(json!({
        "jobs": rows.iter().map(|j| status_resource(j, None)).collect::<Vec<_>>(),
        "paging": crate::paging::paging_json(page, per_page, total),
    }))
    .into_response())
}

async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(job_id): Path<String>,
) -> ApiResult {
    let lookup = job_id.clone();
    let deleted = state
        .db(move |c| {
            if jobs::delete(c, tenant.pk, &lookup)? {
                return Ok(Some(true));
            }
            relabel::jobs::delete(c, tenant.pk, &lookup)
        })
        .await?;
    match deleted {
        Some(true) => {
            state.job_refusals.forget(tenant.pk);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Some(false) => Err(Problem::conflict(
            "the relabelling job is running; it can be deleted once it has ended",
        )),
        None => Err(Problem::not_found("job", &job_id)),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/segments/{segment}", axum::routing::post(create))
        .route("/segments/{segment}", axum::routing::post(create))
        .route("/api/v1/segments/{segment}/{job_id}", get(result))
        .route("/segments/{segment}/{job_id}", get(result))
        .route("/api/v1/jobs", get(list))
        .route("/api/v1/jobs/{job_id}", get(job_status).delete(delete))
}
