//! SPEC §3: `POST /api/v1/accounts/{id}/statements`, a bank statement file
//! (CAMT.053, MT940, or CSV with a column mapping) for one account, and
//! `POST /api/v1/statements`, a file of any number of accounts, each
//! statement routed to the client's account it names.
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
use finseg_core::{Date, ExternalId, Iban, id::ID_RULE};
use finseg_statements::{Format, Statement, csv::Mapping};
use finseg_store::statements::{OpenAccount, StatementRefusal, StatementSummary};
use serde::Deserialize;

use std::sync::Arc;

use finseg_store::Store;

use crate::AppState;
use crate::auth::Tenant;
use crate::problem::Problem;
use crate::state::on_store;
use crate::time::today_in;

/// Largest statement file accepted.
pub const MAX_STATEMENT: usize = 64 * 1024 * 1024;

/// How to read the file: the query of the upload, or the CLI's flags.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct StatementOptions {
    /// `camt053` (also camt052/camt054), `mt940` (also mt942), `csv`.
    pub format: Option<String>,
    /// A built-in CSV column mapping (`Mapping::PRESETS`).
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
    store: &Arc<Store>,
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
    let (format, statements) = parse_file(options, bytes).await?;
    match import_into(store, client_pk, today, &account, format, statements, None).await? {
        Ok(summary) => Ok(summary),
        Err(StatementRefusal::UnknownAccount | StatementRefusal::UnknownUser) => {
            Err(Problem::not_found("account", account.as_str()))
        }
        Err(StatementRefusal::Mismatch(e)) => Err(Problem::invalid_statement(&e)),
    }
}

/// Reads the file's format from `options` (or the file) and parses it.
async fn parse_file(
    options: &StatementOptions,
    bytes: Bytes,
) -> Result<(Format, Vec<Statement>), Problem> {
    let (format, mapping) = options.resolve(&bytes)?;
    let statements = tokio::task::spawn_blocking(move || {
        finseg_statements::parse(format, &bytes, mapping.as_ref())
    })
    .await
    .map_err(|e| Problem::internal(format!("parser failed: {e}")))?
    .map_err(|e| Problem::invalid_statement(&e))?;
    Ok((format, statements))
}

/// Imports statements of one account (opening it with `open` if it does
/// not exist), in one transaction.
async fn import_into(
    store: &Arc<Store>,
    client_pk: i64,
    today: Date,
    account: &ExternalId,
    format: Format,
    statements: Vec<Statement>,
    open: Option<OpenAccount>,
) -> Result<Result<StatementSummary, StatementRefusal>, Problem> {
    let id = account.clone();
    on_store(store, move |c| {
        finseg_store::statements::import(
            c,
            client_pk,
            today,
            &id,
            format,
            &statements,
            open.as_ref(),
        )
    })
    .await
}

/// Counts what a statement import wrote in the service's metrics.
fn count(state: &AppState, summary: &StatementSummary) {
    state
        .metrics
        .count_ingested(&finseg_store::import::KindCounts {
            transaction: summary.new as u64,
            daily_balance: summary.daily_balances as u64,
            ..Default::default()
        });
}

/// The query of a client-level statement import.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientStatementQuery {
    pub format: Option<String>,
    pub preset: Option<String>,
    pub mapping: Option<String>,
    /// The user accounts are opened for (with `createAccounts=true`).
    pub user_id: Option<String>,
    pub create_accounts: Option<String>,
}

/// What a client-level import did with the statements of one account.
#[derive(Debug)]
pub struct AccountOutcome {
    /// The account's identification as the file writes it.
    pub identification: String,
    pub iban: Option<Iban>,
    pub statements: usize,
    pub status: AccountStatus,
    pub account_id: Option<String>,
    pub summary: Option<StatementSummary>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Imported into the client's account of that identification.
    Imported,
    /// Imported into an account opened for it (`createAccounts=true`).
    Created,
    /// The client has no account of that identification: nothing written.
    NoSuchAccount,
    /// The statements do not fit the account (currency): nothing written.
    Refused,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Imported => "IMPORTED",
            AccountStatus::Created => "CREATED",
            AccountStatus::NoSuchAccount => "NO_SUCH_ACCOUNT",
            AccountStatus::Refused => "REFUSED",
        }
    }
}

/// The statements of a file grouped by the account they name, in the
/// order the file first names each: (identification, IBAN, statements).
type AccountGroup = (String, Option<Iban>, Vec<Statement>);

fn by_account(statements: Vec<Statement>) -> Vec<AccountGroup> {
    let mut groups: Vec<AccountGroup> = Vec::new();
    for s in statements {
        let iban = s.account.iban_or_german();
        let key = |g: &AccountGroup| match (&g.1, &iban) {
            (Some(a), Some(b)) => a == b,
            (None, None) => g.0 == s.account.raw,
            _ => false,
        };
        match groups.iter().position(key) {
            Some(i) => groups[i].2.push(s),
            None => groups.push((s.account.raw.clone(), iban, vec![s])),
        }
    }
    groups
}

/// The account id an identification without IBAN stands for: the
/// identification as written, with each character an id cannot hold
/// (`BIC/account`, spaces) written as `-`.
fn account_id_of(identification: &str) -> Option<ExternalId> {
    let id: String = identification
        .trim()
        .chars()
        .map(|c| {
            if ExternalId::is_valid(c.encode_utf8(&mut [0; 4])) {
                c
            } else {
                '-'
            }
        })
        .collect();
    ExternalId::parse(&id)
}

/// Parses a file of any number of accounts and imports each account's
/// statements into the client's account of that identification: the IBAN
/// (also built from a German bank code and account number), else an
/// account whose id is the identification as written. With `open_for`,
/// an account the client does not hold is opened for that user.
pub async fn import_client_statements(
    store: &Arc<Store>,
    client_pk: i64,
    today: Date,
    options: &StatementOptions,
    open_for: Option<ExternalId>,
    bytes: Bytes,
) -> Result<(Format, Vec<AccountOutcome>), Problem> {
    let (format, statements) = parse_file(options, bytes).await?;
    let mut out = Vec::new();
    for (identification, iban, statements) in by_account(statements) {
        let mut outcome = AccountOutcome {
            identification: identification.clone(),
            iban: iban.clone(),
            statements: statements.len(),
            status: AccountStatus::NoSuchAccount,
            account_id: None,
            summary: None,
            detail: None,
        };
        let lookup = iban.clone();
        let by_id = iban
            .is_none()
            .then(|| account_id_of(&identification))
            .flatten();
        let id = by_id.clone();
        // The IBAN names the account; without one, the identification as the
        // account's id.
        let found = on_store(store, move |c| match (lookup, id) {
            (Some(iban), _) => finseg_store::statements::account_by_iban(c, client_pk, &iban),
            (None, Some(id)) => {
                Ok(
                    finseg_store::statements::account_exists(c, client_pk, id.as_str())?
                        .then(|| id.as_str().to_owned()),
                )
            }
            (None, None) => Ok(None),
        })
        .await?;
        let new_id = match &iban {
            Some(i) => ExternalId::parse(i.as_str()),
            None => by_id,
        };
        let (account, open) = match (found, &open_for) {
            (Some(id), _) => (ExternalId::parse(&id), None),
            (None, Some(user)) => (
                new_id,
                Some(OpenAccount {
                    user_id: user.clone(),
                    account_type: finseg_core::AccountType::Checking,
                }),
            ),
            (None, None) => (None, None),
        };
        let Some(account) = account else {
            outcome.detail = Some(if identification.is_empty() {
                "the statement names no account".to_owned()
            } else {
                format!("this client has no account '{identification}'")
            });
            out.push(outcome);
            continue;
        };
        let opening = open.is_some();
        match import_into(store, client_pk, today, &account, format, statements, open).await? {
            Ok(summary) => {
                outcome.status = if opening {
                    AccountStatus::Created
                } else {
                    AccountStatus::Imported
                };
                outcome.account_id = Some(account.as_str().to_owned());
                outcome.summary = Some(summary);
            }
            Err(StatementRefusal::UnknownAccount) => {
                outcome.detail = Some(format!("this client has no account '{identification}'"));
            }
            Err(StatementRefusal::UnknownUser) => {
                return Err(Problem::bad_request("userId names no user of this client")
                    .with("parameter", "userId"));
            }
            Err(StatementRefusal::Mismatch(e)) => {
                outcome.status = AccountStatus::Refused;
                outcome.account_id = Some(account.as_str().to_owned());
                outcome.detail = Some(e.to_string());
            }
        }
        out.push(outcome);
    }
    Ok((format, out))
}

async fn post_client_statements(
    State(state): State<AppState>,
    tenant: Tenant,
    Query(q): Query<ClientStatementQuery>,
    body: Bytes,
) -> Result<Response, Problem> {
    let create = match q.create_accounts.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(Problem::bad_request("createAccounts must be true or false")
                .with("parameter", "createAccounts"));
        }
    };
    let open_for = match (create, q.user_id.as_deref()) {
        (false, _) => None,
        (true, None) => {
            return Err(Problem::bad_request(
                "createAccounts=true needs userId: the user the new accounts belong to",
            )
            .with("parameter", "userId"));
        }
        (true, Some(u)) => Some(ExternalId::parse(u).ok_or_else(|| {
            Problem::bad_request(format!("userId is not a valid id ({ID_RULE})"))
                .with("parameter", "userId")
        })?),
    };
    let options = StatementOptions {
        format: q.format,
        preset: q.preset,
        mapping: q.mapping,
    };
    let _admitted = state.writes.admit(tenant.pk)?;
    let _slot = state.writes.batch_slot().await?;
    let today = today_in(&tenant.time_zone);
    let (format, accounts) =
        import_client_statements(&state.store, tenant.pk, today, &options, open_for, body).await?;
    for summary in accounts.iter().filter_map(|a| a.summary.as_ref()) {
        count(&state, summary);
    }
    Ok((
        StatusCode::OK,
        axum::Json(crate::wire::ClientStatementImport::new(format, accounts)),
    )
        .into_response())
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
    let summary = import_statement(&state.store, tenant.pk, today, &id, &options, body).await?;
    count(&state, &summary);
    Ok((
        StatusCode::OK,
        axum::Json(crate::wire::StatementSummary::from(summary)),
    )
        .into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/accounts/{id}/statements",
            post(post_statement).layer(DefaultBodyLimit::max(MAX_STATEMENT)),
        )
        .route(
            "/api/v1/statements",
            post(post_client_statements).layer(DefaultBodyLimit::max(MAX_STATEMENT)),
        )
}
