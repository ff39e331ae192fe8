//! SPEC §4 over HTTP: the label taxonomy, the client's own labelling rules
//! (which take precedence over the default rules), and re-labelling of
//! stored transactions after a rule change.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
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

/// Re-applies the current rules to every stored transaction of the client,
/// in short batches that leave ingestion running.
async fn relabel(State(state): State<AppState>, tenant: Tenant) -> ApiResult {
    let store = state.store.clone();
    let done =
        tokio::task::spawn_blocking(move || finseg_store::rules::relabel(&store, tenant.pk, 2_000))
            .await
            .map_err(|e| Problem::internal(format!("relabelling failed: {e}")))??;
    Ok(axum::Json(done).into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/labels", get(taxonomy))
        .route(
            "/api/v1/labels/rules",
            get(get_rules).put(put_rules).delete(delete_rules),
        )
        .route("/api/v1/labels/relabel", post(relabel))
}
