//! What the API shows of a client's data: users, accounts, transactions
//! with their labels, daily balances.

use std::collections::HashMap;

use finseg_core::labels::{Label, LabelSet};
use finseg_core::{AccountType, Amount, Date};

use crate::StoreError;
use crate::conn::{Conn, P, Row, V};

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub id: String,
    pub account_count: i64,
}

pub fn get_user(
    c: &mut dyn Conn,
    client_pk: i64,
    id: &str,
) -> Result<Option<UserView>, StoreError> {
    let sql = format!("{USER_SELECT} WHERE u.client_pk = $1 AND u.ext_id = $2");
    Ok(c.query_one(&sql, &[P::I(client_pk), P::T(id)])?
        .as_ref()
        .map(user_view))
}

const USER_SELECT: &str =
    "SELECT u.ext_id, (SELECT COUNT(*) FROM accounts a WHERE a.user_pk = u.pk) FROM users u";

fn user_view(r: &Row) -> UserView {
    UserView {
        id: r[0].text(),
        account_count: r[1].int(),
    }
}

/// One page of a client's users in id order, and how many there are.
pub fn list_users(
    c: &mut dyn Conn,
    client_pk: i64,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<UserView>), StoreError> {
    let total = c
        .query_one(
            "SELECT COUNT(*) FROM users WHERE client_pk = $1",
            &[P::I(client_pk)],
        )?
        .map_or(0, |r| r[0].int());
    let sql = format!("{USER_SELECT} WHERE u.client_pk = $1 ORDER BY u.ext_id LIMIT $2 OFFSET $3");
    let users = c
        .query(&sql, &[P::I(client_pk), P::I(limit), P::I(offset)])?
        .iter()
        .map(user_view)
        .collect();
    Ok((total, users))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    pub id: String,
    pub user_id: String,
    pub account_type: AccountType,
    pub currency: String,
    pub balance: Amount,
    pub balance_date: Date,
    pub iban: Option<String>,
    pub name: Option<String>,
    pub overdraft_limit: Option<Amount>,
    /// The stated `dataSince`, else the earliest booking date; `None` for an
    /// account without transactions.
    pub data_since: Option<Date>,
    pub transaction_count: i64,
}

const ACCOUNT_SELECT: &str = "SELECT a.ext_id, u.ext_id, a.account_type, a.currency, a.balance, a.balance_date,
        a.iban, a.name, a.overdraft_limit,
        COALESCE(a.data_since, (SELECT MIN(t.booking_date) FROM transactions t WHERE t.account_pk = a.pk)),
        (SELECT COUNT(*) FROM transactions t WHERE t.account_pk = a.pk)
     FROM accounts a JOIN users u ON u.pk = a.user_pk";

fn account_view(r: &Row) -> AccountView {
    AccountView {
        id: r[0].text(),
        user_id: r[1].text(),
        account_type: AccountType::from_code(r[2].int() as i16).unwrap_or(AccountType::Checking),
        currency: r[3].text(),
        balance: Amount::from_cents(r[4].int()),
        balance_date: Date::from_days(r[5].int() as i32),
        iban: r[6].opt_text(),
        name: r[7].opt_text(),
        overdraft_limit: r[8].opt_int().map(Amount::from_cents),
        data_since: r[9].opt_int().map(|d| Date::from_days(d as i32)),
        transaction_count: r[10].int(),
    }
}

pub fn get_account(
    c: &mut dyn Conn,
    client_pk: i64,
    id: &str,
) -> Result<Option<AccountView>, StoreError> {
    let sql = format!("{ACCOUNT_SELECT} WHERE a.client_pk = $1 AND a.ext_id = $2");
    Ok(c.query_one(&sql, &[P::I(client_pk), P::T(id)])?
        .as_ref()
        .map(account_view))
}

/// `None` when the user does not exist.
pub fn user_accounts(
    c: &mut dyn Conn,
    client_pk: i64,
    user_id: &str,
) -> Result<Option<Vec<AccountView>>, StoreError> {
    let Some(upk) = user_pk(c, client_pk, user_id)? else {
        return Ok(None);
    };
    let sql = format!("{ACCOUNT_SELECT} WHERE a.user_pk = $1 ORDER BY a.ext_id");
    Ok(Some(
        c.query(&sql, &[P::I(upk)])?
            .iter()
            .map(account_view)
            .collect(),
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelView {
    pub label: &'static str,
    /// `CLIENT` for labels supplied at ingestion, `RULE` for labels set by a
    /// labelling rule, `DETECTED` for own-account transfers paired across the user's accounts.
    pub source: &'static str,
    /// The rule that set the label: `rule set/rule id@version`.
    pub rule: Option<String>,
    /// Set by a rule that guesses from weak evidence (a fallback): the
    /// label is likely but not certain, and an analyst may want to look.
    pub weak: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionView {
    pub id: String,
    pub account_id: String,
    pub amount: Amount,
    pub currency: String,
    pub booking_date: Date,
    pub value_date: Option<Date>,
    pub purpose: Option<String>,
    pub counterpart_name: Option<String>,
    pub counterpart_iban: Option<String>,
    pub counterpart_bic: Option<String>,
    pub creditor_id: Option<String>,
    pub mandate_reference: Option<String>,
    pub end_to_end_reference: Option<String>,
    pub bank_transaction_code: Option<String>,
    pub sepa_purpose_code: Option<String>,
    pub mcc: Option<String>,
    pub labels: Vec<LabelView>,
}

/// Shows own-account transfers on a page of transactions: the user's
/// bookings around the page's dates are paired as a job pairs them.
fn mark_detected_transfers(
    c: &mut dyn Conn,
    account_pk: i64,
    items: &mut [TransactionView],
) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (
        items.iter().map(|t| t.booking_date).min(),
        items.iter().map(|t| t.booking_date).max(),
    ) else {
        return Ok(());
    };
    let margin = finseg_core::transfers::MAX_DAYS_APART;
    let accounts = c.query(
        "SELECT a.pk, a.ext_id, a.account_type, a.iban FROM accounts a
         WHERE a.user_pk = (SELECT user_pk FROM accounts WHERE pk = $1)",
        &[P::I(account_pk)],
    )?;
    if accounts.len() < 2 {
        return Ok(());
    }
    let mut user = finseg_core::segments::UserData {
        id: String::new(),
        accounts: Vec::new(),
    };
    let mut index = HashMap::new();
    for a in &accounts {
        index.insert(a[0].int(), user.accounts.len());
        user.accounts.push(finseg_core::segments::AccountData {
            id: a[1].text(),
            account_type: AccountType::from_code(a[2].int() as i16)
                .unwrap_or(AccountType::Checking),
            iban: a[3].opt_text(),
            balance: Amount::ZERO,
            balance_date: first,
            data_since: None,
            daily_balances: Vec::new(),
            transactions: Vec::new(),
        });
    }
    let rows = c.query(
        "SELECT account_pk, ext_id, amount, booking_date, counterpart_iban FROM transactions
         WHERE account_pk IN (SELECT pk FROM accounts WHERE user_pk = (SELECT user_pk FROM accounts WHERE pk = $1))
           AND booking_date >= $2 AND booking_date <= $3",
        &[
            P::I(account_pk),
            P::I(i64::from(first.days() - margin)),
            P::I(i64::from(last.days() + margin)),
        ],
    )?;
    for r in rows {
        let Some(&ai) = index.get(&r[0].int()) else {
            continue;
        };
        user.accounts[ai]
            .transactions
            .push(finseg_core::segments::Tx {
                counterpart_iban: r[4].opt_text(),
                ..finseg_core::segments::Tx::plain(
                    &r[1].text(),
                    Date::from_days(r[3].int() as i32),
                    Amount::from_cents(r[2].int()),
                )
            });
    }
    finseg_core::transfers::mark_own_transfers(&mut user);
    let transfer = Label::parse("OWNACCOUNTTRANSFER").expect("taxonomy label");
    let own = &user.accounts[index[&account_pk]];
    for item in items.iter_mut() {
        let detected = own
            .transactions
            .iter()
            .any(|t| t.id == item.id && t.labels.contains(transfer));
        if detected && !item.labels.iter().any(|l| l.label == "OWNACCOUNTTRANSFER") {
            item.labels.push(LabelView {
                label: "OWNACCOUNTTRANSFER",
                source: "DETECTED",
                rule: None,
                weak: false,
            });
        }
    }
    Ok(())
}

/// Client labels first, then rule labels with the rule that set each.
fn label_views(client: LabelSet, rules: Option<&str>) -> Vec<LabelView> {
    let mut out: Vec<LabelView> = client
        .iter()
        .map(|l: Label| LabelView {
            label: l.name(),
            source: "CLIENT",
            rule: None,
            weak: false,
        })
        .collect();
    for entry in rules.unwrap_or("").split(';').filter(|e| !e.is_empty()) {
        let (name, rule) = entry.split_once('=').unwrap_or((entry, ""));
        if let Some(l) = Label::parse(name)
            && !client.contains(l)
        {
            out.push(LabelView {
                label: l.name(),
                source: "RULE",
                rule: Some(rule.to_owned()),
                weak: finseg_core::labelling::RuleSet::default_rules().is_weak(rule),
            });
        }
    }
    out
}

fn opt_date(v: &V) -> Option<Date> {
    v.opt_int().map(|d| Date::from_days(d as i32))
}

/// One page of an account's transactions, newest first, with the total
/// count; `None` when the account does not exist.
pub fn account_transactions(
    c: &mut dyn Conn,
    client_pk: i64,
    account_id: &str,
    offset: i64,
    limit: i64,
) -> Result<Option<(i64, Vec<TransactionView>)>, StoreError> {
    let Some(acc) = c.query_one(
        "SELECT pk FROM accounts WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(account_id)],
    )?
    else {
        return Ok(None);
    };
    let apk = acc[0].int();
    let total = c
        .query_one(
            "SELECT COUNT(*) FROM transactions WHERE account_pk = $1",
            &[P::I(apk)],
        )?
        .map_or(0, |r| r[0].int());
    let rows = c.query(
        "SELECT ext_id, amount, currency, booking_date, value_date, purpose, counterpart_name, counterpart_iban,
                counterpart_bic, creditor_id, mandate_reference, end_to_end_reference, bank_transaction_code,
                sepa_purpose_code, mcc, client_labels, p.text
         FROM transactions t LEFT JOIN label_provenance p ON p.pk = t.label_rules_pk
         WHERE t.account_pk = $1
         ORDER BY booking_date DESC, ext_id LIMIT $2 OFFSET $3",
        &[P::I(apk), P::I(limit), P::I(offset)],
    )?;
    let mut items: Vec<TransactionView> = rows
        .iter()
        .map(|r| TransactionView {
            id: r[0].text(),
            account_id: account_id.to_owned(),
            amount: Amount::from_cents(r[1].int()),
            currency: r[2].text(),
            booking_date: Date::from_days(r[3].int() as i32),
            value_date: opt_date(&r[4]),
            purpose: r[5].opt_text(),
            counterpart_name: r[6].opt_text(),
            counterpart_iban: r[7].opt_text(),
            counterpart_bic: r[8].opt_text(),
            creditor_id: r[9].opt_text(),
            mandate_reference: r[10].opt_text(),
            end_to_end_reference: r[11].opt_text(),
            bank_transaction_code: r[12].opt_text(),
            sepa_purpose_code: r[13].opt_text(),
            mcc: r[14].opt_int().map(|m| format!("{m:04}")),
            labels: label_views(LabelSet(r[15].int() as u64), r[16].opt_text().as_deref()),
        })
        .collect();
    mark_detected_transfers(c, apk, &mut items)?;
    Ok(Some((total, items)))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyBalanceView {
    pub date: Date,
    pub balance: Amount,
}

pub fn account_daily_balances(
    c: &mut dyn Conn,
    client_pk: i64,
    account_id: &str,
) -> Result<Option<Vec<DailyBalanceView>>, StoreError> {
    let Some(acc) = c.query_one(
        "SELECT pk FROM accounts WHERE client_pk = $1 AND ext_id = $2",
        &[P::I(client_pk), P::T(account_id)],
    )?
    else {
        return Ok(None);
    };
    let rows = c.query(
        "SELECT day, balance FROM daily_balances WHERE account_pk = $1 ORDER BY day",
        &[P::I(acc[0].int())],
    )?;
    Ok(Some(
        rows.iter()
            .map(|r| DailyBalanceView {
                date: Date::from_days(r[0].int() as i32),
                balance: Amount::from_cents(r[1].int()),
            })
            .collect(),
    ))
}
