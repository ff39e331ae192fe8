//! Importing a parsed bank statement file into one account: new transactions
//! are written, ones already stored (same deterministic id) are counted as
//! duplicates and left alone, closing balances become daily balances, and
//! the account's balance and `dataSince` move to what the file shows.
//! All of it in one transaction: a refused file writes nothing.

use finseg_core::record::{AccountRecord, Record};
use finseg_core::{AccountType, Amount, Currency, Date, ExternalId, Iban};
use finseg_statements::{ImportPlan, ParseError, Statement, plan};

use crate::StoreError;
use crate::conn::{Conn, P, in_transaction};
use crate::data::Writer;

/// The account a statement is imported into, as stored.
struct Target {
    user_id: ExternalId,
    account_type: AccountType,
    currency: Currency,
    balance: Amount,
    balance_date: Date,
    iban: Option<Iban>,
    name: Option<String>,
    overdraft_limit: Option<Amount>,
    /// The stated `dataSince`, else the earliest booking date stored.
    data_since: Option<Date>,
}

fn target(
    c: &mut dyn Conn,
    client_pk: i64,
    account_id: &str,
) -> Result<Option<Target>, StoreError> {
    let row = c.query_one(
        "SELECT u.ext_id, a.account_type, a.currency, a.balance, a.balance_date, a.iban, a.name, a.overdraft_limit,
            COALESCE(a.data_since, (SELECT MIN(t.booking_date) FROM transactions t WHERE t.account_pk = a.pk))
         FROM accounts a JOIN users u ON u.pk = a.user_pk WHERE a.client_pk = $1 AND a.ext_id = $2",
        &[P::I(client_pk), P::T(account_id)],
    )?;
    let Some(r) = row else { return Ok(None) };
    let bad = |what: &str| StoreError::Internal(format!("stored account has an invalid {what}"));
    Ok(Some(Target {
        user_id: ExternalId::parse(&r[0].text()).ok_or_else(|| bad("user id"))?,
        account_type: AccountType::from_code(r[1].int() as i16).ok_or_else(|| bad("type"))?,
        currency: Currency::parse(&r[2].text()).ok_or_else(|| bad("currency"))?,
        balance: Amount::from_cents(r[3].int()),
        balance_date: Date::from_days(r[4].int() as i32),
        iban: r[5].opt_text().and_then(|i| Iban::parse(&i).ok()),
        name: r[6].opt_text(),
        overdraft_limit: r[7].opt_int().map(Amount::from_cents),
        data_since: r[8].opt_int().map(|d| Date::from_days(d as i32)),
    }))
}

/// Whether the client holds an account with this id.
pub fn account_exists(c: &mut dyn Conn, client_pk: i64, id: &str) -> Result<bool, StoreError> {
    Ok(c.query_one(
        "SELECT 1 FROM accounts WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(id)],
    )?
    .is_some())
}

/// The id of the client's account with this IBAN, if any (the oldest).
pub fn account_by_iban(
    c: &mut dyn Conn,
    client_pk: i64,
    iban: &Iban,
) -> Result<Option<String>, StoreError> {
    Ok(c.query_one(
        "SELECT ext_id FROM accounts WHERE client_pk = $1 AND iban = $2 ORDER BY pk LIMIT 1",
        &[P::I(client_pk), P::T(iban.as_str())],
    )?
    .map(|r| r[0].text()))
}

/// An account a client-level import opens for statements of an account the
/// client does not hold yet: its currency, IBAN and balance come from the
/// statements.
#[derive(Debug, Clone)]
pub struct OpenAccount {
    pub user_id: ExternalId,
    pub account_type: AccountType,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub data_since: Option<Date>,
    pub balance: Option<Amount>,
    pub balance_date: Option<Date>,
    /// Deviations from the format that were read past.
    pub warnings: Vec<finseg_statements::Warning>,
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum StatementRefusal {
    UnknownAccount,
    /// The user an account was to be opened for does not exist.
    UnknownUser,
    /// The file does not fit the account (another IBAN, another currency).
    Mismatch(ParseError),
}

/// Imports parsed `statements` into the client's account `account_id`;
/// with `open`, an account that does not exist is opened first, in the
/// same transaction.
pub fn import(
    c: &mut dyn Conn,
    client_pk: i64,
    today: Date,
    account_id: &ExternalId,
    format: finseg_statements::Format,
    statements: &[Statement],
    open: Option<&OpenAccount>,
) -> Result<Result<StatementSummary, StatementRefusal>, StoreError> {
    let mut writer = Writer::new(client_pk, today);
    let outcome = in_transaction(c, |c| -> Result<_, StoreError> {
        let (t, opening) = match (target(c, client_pk, account_id.as_str())?, open) {
            (Some(t), _) => (t, false),
            (None, None) => return Ok(Err(StatementRefusal::UnknownAccount)),
            (None, Some(open)) => match opened(c, client_pk, open, statements)? {
                Ok(t) => (t, true),
                Err(refusal) => return Ok(Err(refusal)),
            },
        };
        let p: ImportPlan = match plan(account_id, t.iban.as_ref(), t.currency, statements) {
            Ok(p) => p,
            Err(e) => return Ok(Err(StatementRefusal::Mismatch(e))),
        };
        writer.begin_batch(c)?;
        let mut summary = StatementSummary {
            format: format.as_str(),
            statements: p.statements,
            entries: p.entries,
            transactions: p.transactions.len(),
            new: 0,
            duplicates: 0,
            skipped_not_booked: p.skipped_not_booked,
            daily_balances: p.daily_balances.len(),
            data_since: None,
            balance: None,
            balance_date: None,
            warnings: p.warnings.clone(),
        };
        // The account first: its new `dataSince` and balance.
        let data_since = match (t.data_since, p.data_since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (balance, balance_date) = match p.latest_balance {
            Some((d, b)) if d >= t.balance_date => (b, d),
            _ => (t.balance, t.balance_date),
        };
        // An account without an IBAN takes that of its first statement;
        // from then on a statement for another IBAN is refused (`plan`).
        let iban = t.iban.clone().or_else(|| p.iban.clone());
        let account = AccountRecord {
            id: account_id.clone(),
            user_id: t.user_id.clone(),
            account_type: t.account_type,
            currency: t.currency,
            balance,
            balance_date: Some(balance_date),
            iban: iban.clone(),
            name: t.name.clone(),
            overdraft_limit: t.overdraft_limit,
            data_since,
        };
        if opening
            || data_since != t.data_since
            || balance != t.balance
            || balance_date != t.balance_date
            || iban != t.iban
        {
            refused_internally(writer.write(c, &Record::Account(account))?)?;
        }
        summary.data_since = data_since;
        summary.balance = Some(balance);
        summary.balance_date = Some(balance_date);
        for tx in &p.transactions {
            let exists = c
                .query_one(
                    "SELECT 1 FROM transactions WHERE client_pk = $1 AND ext_id = $2",
                    &[P::I(client_pk), P::T(tx.id.as_str())],
                )?
                .is_some();
            if exists {
                summary.duplicates += 1;
                continue;
            }
            refused_internally(writer.write(c, &Record::Transaction(Box::new(tx.clone())))?)?;
            summary.new += 1;
        }
        for b in &p.daily_balances {
            refused_internally(writer.write(c, &Record::DailyBalance(b.clone()))?)?;
        }
        Ok(Ok(summary))
    })?;
    Ok(outcome)
}

/// The account `open` describes, before anything is written: held in the
/// statements' currency, with the latest closing balance they show.
fn opened(
    c: &mut dyn Conn,
    client_pk: i64,
    open: &OpenAccount,
    statements: &[Statement],
) -> Result<Result<Target, StatementRefusal>, StoreError> {
    let user = c.query_one(
        "SELECT 1 FROM users WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(open.user_id.as_str())],
    )?;
    if user.is_none() {
        return Ok(Err(StatementRefusal::UnknownUser));
    }
    let refuse = |location: &finseg_statements::Location, message: &str| {
        Ok(Err(StatementRefusal::Mismatch(ParseError::new(
            location.clone(),
            message,
        ))))
    };
    let Some(first) = statements.first() else {
        return refuse(
            &finseg_statements::Location::File,
            "the file holds no statement",
        );
    };
    let Some(currency) = statements.iter().find_map(|s| s.currency) else {
        return refuse(
            &first.location,
            "the statements name no currency to open the account in",
        );
    };
    let latest = statements
        .iter()
        .filter_map(|s| {
            s.closing
                .filter(|b| b.kind == finseg_statements::BalanceKind::Final)
        })
        .max_by_key(|b| b.date);
    let Some(latest) = latest else {
        return refuse(
            &first.location,
            "the statements show no closing balance to open the account with",
        );
    };
    Ok(Ok(Target {
        user_id: open.user_id.clone(),
        account_type: open.account_type,
        currency,
        balance: latest.amount,
        balance_date: latest.date,
        iban: None,
        name: None,
        overdraft_limit: None,
        data_since: None,
    }))
}

/// The plan was checked against the account: a refusal now is a bug.
fn refused_internally(r: Result<(), crate::data::Refusal>) -> Result<(), StoreError> {
    r.map_err(|e| {
        StoreError::Internal(format!(
            "statement import refused: {:?}",
            e.into_field_error()
        ))
    })
}
