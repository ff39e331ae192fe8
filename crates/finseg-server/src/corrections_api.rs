//! An analyst's corrections over HTTP: correct a transaction's labels, list
//! the corrections in force, withdraw one. A correction becomes a rule keyed
//! by the transaction's strongest stable signal (`finseg_core::corrections`)
//! and is applied to the stored transactions in the background and to every
//! transaction ingested after it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use finseg_core::FieldError;
use finseg_core::labels::{Label, LabelSet};
use finseg_store::corrections::{self, CorrectionRow};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Tenant;
use crate::problem::Problem;

type ApiResult = Result<Response, Problem>;

fn correction_json(c: &CorrectionRow) -> Value {
    json!({
        "correctionId": c.id,
        "transactionId": c.transaction_id,
        "labels": c.labels,
        "key": {
            "kind": c.key_kind,
            "value": c.key_value,
            "direction": if c.incoming { "in" } else { "out" },
        },
        "createdAt": crate::time::iso(Some(c.created_at)),
    })
}

/// `{"labels": [...]}`: known label names, each once (an empty list says
/// the transaction has no label).
fn labels_of(body: &Bytes) -> Result<LabelSet, Problem> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        Problem::validation(vec![FieldError::new("", format!("not valid JSON: {e}"))])
    })?;
    let Some(items) = doc.get("labels").and_then(Value::as_array) else {
        return Err(Problem::validation(vec![FieldError::new(
            "/labels",
            "is required: an array of label names (GET /api/v1/labels lists them)",
        )]));
    };
    let mut set = LabelSet::default();
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().and_then(Label::parse) {
            Some(l) => set.insert(l),
            None => errors.push(FieldError::new(
                format!("/labels/{i}"),
                "is not a label of the taxonomy (GET /api/v1/labels lists them)",
            )),
        }
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(Problem::validation(errors))
    }
}

async fn correct(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let labels = labels_of(&body)?;
    let lookup = id.clone();
    let stored = state
        .db(move |c| {
            finseg_store::conn::in_transaction(c, |c| {
                let Some(signals) = corrections::transaction_signals(c, tenant.pk, &lookup)? else {
                    return Ok(Err(Problem::not_found("transaction", &lookup)));
                };
                let Some(key) = finseg_core::corrections::key_of(&signals.signals()) else {
                    return Ok(Err(Problem::validation(vec![FieldError::new(
                        "",
                        "the transaction has no creditor id, counterpart or purpose words to recognise its kind by",
                    )])));
                };
                corrections::insert(c, tenant.pk, &lookup, &key, labels).map(Ok)
            })
        })
        .await??;
    // The stored transactions take the corrections in a background job.
    crate::relabel_jobs::start(&state, tenant.pk).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(correction_json(&stored))).into_response())
}

async fn list(State(state): State<AppState>, tenant: Tenant) -> ApiResult {
    let rows = state.db(move |c| corrections::list(c, tenant.pk)).await?;
    Ok(axum::Json(json!({
        "corrections": rows.iter().map(correction_json).collect::<Vec<_>>()
    }))
    .into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> ApiResult {
    let Some(pk) = id.parse::<i64>().ok() else {
        return Err(Problem::not_found("correction", &id));
    };
    if !state
        .db(move |c| corrections::withdraw(c, tenant.pk, pk))
        .await?
    {
        return Err(Problem::not_found("correction", &id));
    }
    // The stored transactions take the corrections in a background job.
    crate::relabel_jobs::start(&state, tenant.pk).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/transactions/{id}/labels", put(correct))
        .route("/api/v1/corrections", get(list))
        .route("/api/v1/corrections/{id}", delete(withdraw))
}
