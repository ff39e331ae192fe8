//! A client's stored data read for export (`finseg export`), a page at a
//! time in key order, as typed rows: memory does not grow with the data.
//!
//! `+client_pk` keeps the planner on the key range: with the (client, id)
//! index it sorted the whole table for every page, which made an export
//! quadratic in the client's size.

use finseg_core::labels::LabelSet;
use finseg_core::{AccountType, Amount, Date};

use crate::StoreError;
use crate::conn::{Conn, P};

/// An account as exported; `pk` is where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub pk: i64,
    pub id: String,
    pub user_id: String,
    pub account_type: AccountType,
    pub currency: String,
    pub balance: Amount,
    pub balance_date: Date,
    pub data_since: Option<Date>,
    pub iban: Option<String>,
}

/// Accounts with keys after `after`, at most `limit`.
pub fn accounts(
    c: &mut dyn Conn,
    client_pk: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<AccountRow>, StoreError> {
    let rows = c.query(
        "SELECT a.pk, a.ext_id, u.ext_id, a.account_type, a.currency, a.balance, a.balance_date, a.data_since, a.iban
         FROM accounts a JOIN users u ON u.pk = a.user_pk
         WHERE +a.client_pk = $1 AND a.pk > $2 ORDER BY a.pk LIMIT $3",
        &[P::I(client_pk), P::I(after), P::I(limit)],
    )?;
    Ok(rows
        .iter()
        .map(|r| AccountRow {
            pk: r[0].int(),
            id: r[1].text(),
            user_id: r[2].text(),
            account_type: AccountType::from_code(r[3].int() as i16)
                .unwrap_or(AccountType::Checking),
            currency: r[4].text(),
            balance: Amount::from_cents(r[5].int()),
            balance_date: Date::from_days(r[6].int() as i32),
            data_since: r[7].opt_int().map(|d| Date::from_days(d as i32)),
            iban: r[8].opt_text(),
        })
        .collect())
}

/// A transaction as exported, with its labels (the client's and the rules').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRow {
    pub pk: i64,
    pub id: String,
    pub account_id: String,
    pub amount: Amount,
    pub booking_date: Date,
    pub labels: LabelSet,
    pub purpose: Option<String>,
    pub counterpart_name: Option<String>,
    pub counterpart_iban: Option<String>,
    pub creditor_id: Option<String>,
    pub mandate_reference: Option<String>,
}

/// Transactions with keys after `after`, at most `limit`.
pub fn transactions(
    c: &mut dyn Conn,
    client_pk: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<TransactionRow>, StoreError> {
    let rows = c.query(
        "SELECT t.pk, t.ext_id, a.ext_id, t.amount, t.booking_date, (t.client_labels | t.rule_labels),
            t.purpose, t.counterpart_name, t.counterpart_iban, t.creditor_id, t.mandate_reference
         FROM transactions t JOIN accounts a ON a.pk = t.account_pk
         WHERE +t.client_pk = $1 AND t.pk > $2 ORDER BY t.pk LIMIT $3",
        &[P::I(client_pk), P::I(after), P::I(limit)],
    )?;
    Ok(rows
        .iter()
        .map(|r| TransactionRow {
            pk: r[0].int(),
            id: r[1].text(),
            account_id: r[2].text(),
            amount: Amount::from_cents(r[3].int()),
            booking_date: Date::from_days(r[4].int() as i32),
            labels: LabelSet(r[5].int() as u64),
            purpose: r[6].opt_text(),
            counterpart_name: r[7].opt_text(),
            counterpart_iban: r[8].opt_text(),
            creditor_id: r[9].opt_text(),
            mandate_reference: r[10].opt_text(),
        })
        .collect())
}

/// A supplied end-of-day balance as exported; (`account_pk`, `day`) is
/// where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBalanceRow {
    pub account_pk: i64,
    pub account_id: String,
    pub day: Date,
    pub balance: Amount,
}

/// Daily balances after (`account_pk`, `day`) of `after`, at most `limit`.
pub fn daily_balances(
    c: &mut dyn Conn,
    client_pk: i64,
    after: (i64, i64),
    limit: i64,
) -> Result<Vec<DailyBalanceRow>, StoreError> {
    let rows = c.query(
        "SELECT d.account_pk, d.day, a.ext_id, d.balance FROM daily_balances d JOIN accounts a ON a.pk = d.account_pk
         WHERE a.client_pk = $1 AND (d.account_pk > $2 OR (d.account_pk = $2 AND d.day > $3))
         ORDER BY d.account_pk, d.day LIMIT $4",
        &[P::I(client_pk), P::I(after.0), P::I(after.1), P::I(limit)],
    )?;
    Ok(rows
        .iter()
        .map(|r| DailyBalanceRow {
            account_pk: r[0].int(),
            day: Date::from_days(r[1].int() as i32),
            account_id: r[2].text(),
            balance: Amount::from_cents(r[3].int()),
        })
        .collect())
}
