//! The API's wire types: the JSON shapes of the store's rows and
//! summaries. The store returns typed rows and knows no JSON; the server
//! owns every shape a client sees (names, which fields are left out when
//! empty).

use finseg_core::{AccountType, Amount, Date};
use finseg_store as store;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub account_count: i64,
}

impl From<store::data::UserView> for User {
    fn from(v: store::data::UserView) -> Self {
        User {
            id: v.id,
            account_count: v.account_count,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub user_id: String,
    #[serde(rename = "type")]
    pub account_type: AccountType,
    pub currency: String,
    pub balance: Amount,
    pub balance_date: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdraft_limit: Option<Amount>,
    /// The stated `dataSince`, else the earliest booking date; `None` for an
    /// account without transactions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_since: Option<Date>,
    pub transaction_count: i64,
}

impl From<store::data::AccountView> for Account {
    fn from(v: store::data::AccountView) -> Self {
        Account {
            id: v.id,
            user_id: v.user_id,
            account_type: v.account_type,
            currency: v.currency,
            balance: v.balance,
            balance_date: v.balance_date,
            iban: v.iban,
            name: v.name,
            overdraft_limit: v.overdraft_limit,
            data_since: v.data_since,
            transaction_count: v.transaction_count,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    pub label: &'static str,
    /// `CLIENT` for labels supplied at ingestion, `RULE` for labels set by a
    /// labelling rule, `DETECTED` for own-account transfers paired across the user's accounts.
    pub source: &'static str,
    /// The rule that set the label: `rule set/rule id@version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Set by a rule that guesses from weak evidence (a fallback): the
    /// label is likely but not certain, and an analyst may want to look.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub weak: bool,
}

impl From<store::data::LabelView> for Label {
    fn from(v: store::data::LabelView) -> Self {
        Label {
            label: v.label,
            source: v.source,
            rule: v.rule,
            weak: v.weak,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    pub account_id: String,
    pub amount: Amount,
    pub currency: String,
    pub booking_date: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterpart_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterpart_iban: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterpart_bic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creditor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mandate_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_transaction_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sepa_purpose_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcc: Option<String>,
    pub labels: Vec<Label>,
}

impl From<store::data::TransactionView> for Transaction {
    fn from(v: store::data::TransactionView) -> Self {
        Transaction {
            id: v.id,
            account_id: v.account_id,
            amount: v.amount,
            currency: v.currency,
            booking_date: v.booking_date,
            value_date: v.value_date,
            purpose: v.purpose,
            counterpart_name: v.counterpart_name,
            counterpart_iban: v.counterpart_iban,
            counterpart_bic: v.counterpart_bic,
            creditor_id: v.creditor_id,
            mandate_reference: v.mandate_reference,
            end_to_end_reference: v.end_to_end_reference,
            bank_transaction_code: v.bank_transaction_code,
            sepa_purpose_code: v.sepa_purpose_code,
            mcc: v.mcc,
            labels: v.labels.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DailyBalance {
    pub date: Date,
    pub balance: Amount,
}

impl From<store::data::DailyBalanceView> for DailyBalance {
    fn from(v: store::data::DailyBalanceView) -> Self {
        DailyBalance {
            date: v.date,
            balance: v.balance,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Relabelled {
    pub examined: u64,
    pub changed: u64,
}

impl From<store::relabel::Relabelled> for Relabelled {
    fn from(v: store::relabel::Relabelled) -> Self {
        Relabelled {
            examined: v.examined,
            changed: v.changed,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatementSummary {
    pub format: &'static str,
    pub statements: usize,
    /// Every entry in the file.
    pub entries: usize,
    /// Booked transactions (after splitting batched entries).
    pub transactions: usize,
    pub new: usize,
    /// Already stored (an overlapping statement imported before).
    pub duplicates: usize,
    pub skipped_not_booked: usize,
    /// Days with a closing balance written as daily balance.
    pub daily_balances: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_since: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_date: Option<Date>,
    pub warnings: Vec<StatementWarning>,
}

/// The answer of a client-level statement import: per account the file
/// names, what became of its statements.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClientStatementImport {
    pub format: &'static str,
    pub accounts: Vec<StatementAccount>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatementAccount {
    /// The account's identification as the file writes it.
    pub identification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    pub statements: usize,
    /// IMPORTED, CREATED, NO_SUCH_ACCOUNT or REFUSED.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<StatementSummary>,
}

impl ClientStatementImport {
    pub fn new(
        format: finseg_statements::Format,
        accounts: Vec<crate::statements_api::AccountOutcome>,
    ) -> Self {
        ClientStatementImport {
            format: format.as_str(),
            accounts: accounts
                .into_iter()
                .map(|a| StatementAccount {
                    identification: a.identification,
                    iban: a.iban.map(|i| i.as_str().to_owned()),
                    statements: a.statements,
                    status: a.status.as_str(),
                    account_id: a.account_id,
                    detail: a.detail,
                    summary: a.summary.map(Into::into),
                })
                .collect(),
        }
    }
}

/// A deviation from the format that the import read past.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatementWarning {
    /// `line N` or an XML path.
    pub location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl From<finseg_statements::Warning> for StatementWarning {
    fn from(w: finseg_statements::Warning) -> Self {
        StatementWarning {
            location: w.location.to_string(),
            line: match w.location {
                finseg_statements::Location::Line(n) => Some(n),
                _ => None,
            },
            message: w.message,
        }
    }
}

impl From<store::statements::StatementSummary> for StatementSummary {
    fn from(v: store::statements::StatementSummary) -> Self {
        StatementSummary {
            format: v.format,
            statements: v.statements,
            entries: v.entries,
            transactions: v.transactions,
            new: v.new,
            duplicates: v.duplicates,
            skipped_not_booked: v.skipped_not_booked,
            daily_balances: v.daily_balances,
            data_since: v.data_since,
            balance: v.balance,
            balance_date: v.balance_date,
            warnings: v.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KindCounts {
    pub user: u64,
    pub account: u64,
    pub transaction: u64,
    pub daily_balance: u64,
}

impl From<store::import::KindCounts> for KindCounts {
    fn from(v: store::import::KindCounts) -> Self {
        KindCounts {
            user: v.user,
            account: v.account,
            transaction: v.transaction,
            daily_balance: v.daily_balance,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// 1-based line number in the request body.
    pub line: u64,
    /// JSON pointer of the offending field within that line's object.
    pub pointer: String,
    /// The field's name (the pointer's last segment), for readers of CSV reports.
    pub field: String,
    pub reason: String,
}

impl From<store::import::Rejection> for Rejection {
    fn from(v: store::import::Rejection) -> Self {
        Rejection {
            line: v.line,
            pointer: v.pointer,
            field: v.field,
            reason: v.reason,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub lines: u64,
    /// Records written (created or replaced), per kind.
    pub written: KindCounts,
    /// Lines rejected (a line with several bad fields counts once).
    pub rejected_count: u64,
    /// The first [`MAX_REPORTED`] problems in line order, one per bad field.
    pub rejected: Vec<Rejection>,
}

impl From<store::import::ImportSummary> for ImportSummary {
    fn from(v: store::import::ImportSummary) -> Self {
        ImportSummary {
            lines: v.lines,
            written: v.written.into(),
            rejected_count: v.rejected_count,
            rejected: v.rejected.into_iter().map(Into::into).collect(),
        }
    }
}
