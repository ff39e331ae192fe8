//! SPEC §4 over HTTP: the label taxonomy, the client's own labelling rules
//! (which take precedence over the default rules), and re-labelling of
//! stored transactions after a rule change.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use finseg_core::FieldError;
use finseg_core::labelling::RuleSet;
use finseg_core::labels::GROUPS;
use serde_json::json;

use crate::AppState;
use crate::auth::Tenant;
use crate::problem::Problem;

type ApiResult = Result<Response, Problem>;

/// Behind a token like every `/api/v1` route, as the OpenAPI document says.
async fn taxonomy(_tenant: Tenant) -> Response {
    let default = RuleSet::default_rules();
    axum::Json(json!({
        "labelGroups": GROUPS.iter().map(|(g, ls)| json!({"labelGroup": g, "labels": ls})).collect::<Vec<_>>(),
        "defaultRules": {"version": default.version, "rules": default.len()},
    }))
    .into_response()
}

async fn get_rules(State(state): State<AppState>, tenant: Tenant) -> ApiResult {
    match state
        .db(move |c| finseg_store::rules::get(c, tenant.pk))
        .await?
    {
        Some(json) => Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response()),
        None => Err(Problem::not_found("rule set of this client", "rules")),
    }
}

async fn put_rules(State(state): State<AppState>, tenant: Tenant, body: Bytes) -> ApiResult {
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::bad_request("the body is not valid UTF-8"))?;
    let rules = RuleSet::parse("client", text)
        .map_err(|e| Problem::validation(vec![FieldError::new("", e)]))?;
    let stored = text.to_owned();
    state
        .db(move |c| finseg_store::rules::put(c, tenant.pk, &stored))
        .await?;
    Ok(axum::Json(json!({"version": rules.version, "rules": rules.len()})).into_response())
}

async fn delete_rules(State(state): State<AppState>, tenant: Tenant) -> ApiResult {
    if state
        .db(move |c| finseg_store::rules::delete(c, tenant.pk))
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found("rule set of this client", "rules"))
    }
}

/// Starts re-applying the current rules to every stored transaction of the
/// client in the background (or joins the run going): 202 with the job,
/// whose progress `GET /api/v1/jobs/{jobId}` shows.
async fn relabel(State(state): State<AppState>, tenant: Tenant) -> ApiResult {
    let job = crate::relabel_jobs::start(&state, tenant.pk).await?;
    let location = format!("/api/v1/jobs/{}", job.job_id);
    Ok((
        StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, location)],
        axum::Json(crate::relabel_jobs::json(&job)),
    )
        .into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverageQuery {
    top: Option<usize>,
}

/// The largest `top` a coverage report lists.
const MAX_TOP: usize = 100;

/// What labelling covers of the client's data, and the largest unlabelled
/// counterparts and creditor ids: what a bank corrects first.
async fn coverage(
    State(state): State<AppState>,
    tenant: Tenant,
    Query(q): Query<CoverageQuery>,
) -> ApiResult {
    let top = q.top.unwrap_or(10);
    if !(1..=MAX_TOP).contains(&top) {
        return Err(Problem::validation(vec![FieldError::new(
            "/top",
            format!("must be between 1 and {MAX_TOP}"),
        )]));
    }
    let c = state
        .db(move |c| finseg_store::coverage::of(c, tenant.pk, top))
        .await?;
    Ok(axum::Json(coverage_json(&c)).into_response())
}

/// The report as JSON: counts, amounts (sums of absolute amounts) and the
/// shares of the whole they are.
pub fn coverage_json(c: &finseg_store::coverage::Coverage) -> serde_json::Value {
    use finseg_store::coverage::{Tally, Unlabelled};
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
        }
    };
    let amount_share = |part: finseg_core::Total, whole: finseg_core::Total| {
        if whole.cents() == 0 {
            0.0
        } else {
            (part.cents() as f64 / whole.cents() as f64 * 10_000.0).round() / 10_000.0
        }
    };
    let tally = |t: Tally| {
        json!({
            "transactions": t.transactions,
            "transactionShare": share(t.transactions, c.all.transactions),
            "amount": t.amount,
            "amountShare": amount_share(t.amount, c.all.amount),
        })
    };
    let list = |field: &str, l: &[Unlabelled]| {
        l.iter()
            .map(|u| {
                let mut v = tally(u.tally);
                v[field] = u.key.clone().into();
                v
            })
            .collect::<Vec<_>>()
    };
    json!({
        "transactions": c.all.transactions,
        "amount": c.all.amount,
        "labelled": tally(c.labelled),
        "labelGroups": c.groups.iter().map(|g| {
            let mut v = tally(g.tally);
            v["labelGroup"] = g.group.into();
            v
        }).collect::<Vec<_>>(),
        "unlabelled": {
            "counterpartsByCount": list("counterpartName", &c.counterparts_by_count),
            "counterpartsByAmount": list("counterpartName", &c.counterparts_by_amount),
            "creditorIdsByCount": list("creditorId", &c.creditor_ids_by_count),
            "creditorIdsByAmount": list("creditorId", &c.creditor_ids_by_amount),
        },
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/labels", get(taxonomy))
        .route(
            "/api/v1/labels/rules",
            get(get_rules).put(put_rules).delete(delete_rules),
        )
        .route("/api/v1/labels/relabel", post(relabel))
        .route("/api/v1/labels/coverage", get(coverage))
}
