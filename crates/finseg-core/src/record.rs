//! Validated ingestion records: what a client's input means once every field
//! has been checked (parse, don't validate).

use crate::labels::Label;
use crate::{AccountType, Amount, Currency, Date, ExternalId, Iban, Text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: ExternalId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: ExternalId,
    pub user_id: ExternalId,
    pub account_type: AccountType,
    pub currency: Currency,
    /// Booked balance at the end of `balance_date`.
    pub balance: Amount,
    /// `None`: the day of ingestion (filled in by the caller, who knows the date).
    pub balance_date: Option<Date>,
    pub iban: Option<Iban>,
    pub name: Option<String>,
    pub overdraft_limit: Option<Amount>,
    /// First day of complete history; `None`: the earliest booking date received.
    pub data_since: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBalanceRecord {
    pub account_id: ExternalId,
    pub date: Date,
    pub balance: Amount,
}

/// One record of the bulk format, tagged by its `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    User(UserRecord),
    Account(AccountRecord),
    Transaction(Box<TransactionRecord>),
    DailyBalance(DailyBalanceRecord),
}

/// A transaction; its labels are the ones the client supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    pub id: ExternalId,
    pub account_id: ExternalId,
    pub amount: Amount,
    pub currency: Currency,
    pub booking_date: Date,
    pub value_date: Option<Date>,
    pub purpose: Option<Text>,
    pub counterpart_name: Option<Text>,
    pub counterpart_iban: Option<Iban>,
    pub counterpart_bic: Option<Text>,
    pub creditor_id: Option<Text>,
    pub mandate_reference: Option<Text>,
    pub end_to_end_reference: Option<Text>,
    pub bank_transaction_code: Option<Text>,
    pub sepa_purpose_code: Option<Text>,
    pub mcc: Option<u16>,
    pub labels: Vec<Label>,
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::User(_) => RecordKind::User,
            Record::Account(_) => RecordKind::Account,
            Record::Transaction(_) => RecordKind::Transaction,
            Record::DailyBalance(_) => RecordKind::DailyBalance,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    User,
    Account,
    Transaction,
    DailyBalance,
}

impl RecordKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => RecordKind::User,
            "account" => RecordKind::Account,
            "transaction" => RecordKind::Transaction,
            "dailyBalance" => RecordKind::DailyBalance,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::User => "user",
            RecordKind::Account => "account",
            RecordKind::Transaction => "transaction",
            RecordKind::DailyBalance => "dailyBalance",
        }
    }
}
