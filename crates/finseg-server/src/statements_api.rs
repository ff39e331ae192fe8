//! SPEC §3: `POST /api/v1/accounts/{id}/statements`, a bank statement file
//! (CAMT.053, MT940, or CSV with a column mapping) for one account.
//!
//! The body is the file as it came from the bank. `format` is taken from the
//! query, else guessed (XML is CAMT, `:20:` is MT940); CSV needs `preset` or
//! `mapping` (JSON) in the query. Parsing runs on a blocking thread; the
//! import is one database transaction.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use finseg_core::{Date, ExternalId, id::ID_RULE};
use finseg_statements::{Format, csv::Mapping};
use finseg_store::statements::{StatementRefusal, StatementSummary};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Tenant;
use crate::problem::Problem;
use crate::time::today_in;

/// Largest statement file accepted.
pub const MAX_STATEMENT: usize = 64 * 1024 * 1024;

/// How to read the file: the query of the upload, or the CLI's flags.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct StatementOptions {
    /// `camt053` (also camt052/camt054), `mt940` (also mt942), `csv`.
    pub format: Option<String>,
    /// A built-in CSV column mapping: sparkasse, dkb, ing, commerzbank, deutsche-bank, finseg.
    pub preset: Option<String>,
    /// A CSV column mapping as JSON.
    pub mapping: Option<String>,
}

impl StatementOptions {
    fn resolve(&self, bytes: &[u8]) -> Result<(Format, Option<Mapping>), Problem> {
        let format = match &self.format {
            Some(f) => Format::parse(f).ok_or_else(|| {
                Problem::bad_request(format!(
                    "format '{f}' is not known (camt053, camt052, mt940, mt942, csv)"
                ))
                .with("parameter", "format")
            })?,
            None if self.preset.is_some() || self.mapping.is_some() => Format::Csv,
            None => Format::sniff(bytes).ok_or_else(|| {
                Problem::bad_request(
                    "the file is neither XML (CAMT) nor MT940; give format=csv with a preset or mapping",
                )
                .with("parameter", "format")
            })?,
        };
        let mapping = match (&self.preset, &self.mapping) {
            (Some(_), Some(_)) => {
                return Err(Problem::bad_request(
                    "give either preset or mapping, not both",
                ));
            }
            (Some(p), None) => Some(Mapping::preset(p).ok_or_else(|| {
                Problem::bad_request(format!(
                    "CSV preset '{p}' is not known ({})",
                    Mapping::PRESETS.join(", ")
                ))
                .with("parameter", "preset")
            })?),
            (None, Some(json)) => Some(
                Mapping::from_json(json)
                    .map_err(|m| Problem::bad_request(m).with("parameter", "mapping"))?,
            ),
            (None, None) => None,
        };
        if format == Format::Csv && mapping.is_none() {
            return Err(Problem::bad_request(format!(
                "a CSV file needs preset ({}) or mapping (JSON)",
                Mapping::PRESETS.join(", ")
            ))
            .with("parameter", "preset"));
        }
        Ok((format, mapping))
    }
}

/// Parses `bytes` and imports them into the client's account `account_id`.
pub async fn import_statement(
    state: &AppState,
    client_pk: i64,
    today: Date,
    account_id: &str,
    options: &StatementOptions,
    bytes: Bytes,
) -> Result<StatementSummary, Problem> {
    let account = ExternalId::parse(account_id).ok_or_else(|| {
        Problem::bad_request(format!(
            "the account id in the path is not valid ({ID_RULE})"
        ))
    })?;
    let (format, mapping) = options.resolve(&bytes)?;
    let statements = tokio::task::spawn_blocking(move || {
        finseg_statements::parse(format, &bytes, mapping.as_ref())
    })
    .await
    .map_err(|e| Problem::internal(format!("parser failed: {e}")))?
    .map_err(|e| Problem::invalid_statement(&e))?;
    let id = account.clone();
    let outcome = state
        .db(move |c| {
            finseg_store::statements::import(c, client_pk, today, &id, format, &statements)
        })
        .await?;
    match outcome {
        Ok(summary) => {
            state
                .metrics
                .count_ingested(&finseg_store::import::KindCounts {
                    transaction: summary.new as u64,
                    daily_balance: summary.daily_balances as u64,
                    ..Default::default()
                });
            Ok(summary)
        }
        Err(StatementRefusal::UnknownAccount) => {
            Err(Problem::not_found("account", account.as_str()))
        }
        Err(StatementRefusal::Mismatch(e)) => Err(Problem::invalid_statement(&e)),
    }
}

async fn post_statement(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    Query(options): Query<StatementOptions>,
    body: Bytes,
) -> Result<Response, Problem> {
    let _admitted = state.writes.admit(tenant.pk)?;
    // Written in turn with the JSON batches (see `limits::WriteAdmission`).
    let _slot = state.writes.batch_slot().await?;
    let today = today_in(&tenant.time_zone);
    let summary = import_statement(&state, tenant.pk, today, &id, &options, body).await?;
    Ok((
        StatusCode::OK,
        axum::Json(crate::wire::StatementSummary::from(summary)),
    )
        .into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/accounts/{id}/statements",
        post(post_statement).layer(DefaultBodyLimit::max(MAX_STATEMENT)),
    )
}
