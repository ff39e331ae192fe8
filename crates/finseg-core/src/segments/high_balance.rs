//! `highBalance` (UC-02): at least one account of the chosen types has a
//! current balance strictly above the threshold. The current balance is the
//! latest known end-of-day balance up to the job's creation date.

use serde::{Deserialize, Serialize};

use super::{Ledger, UserData, Verdict, balances};
use crate::{AccountType, Amount, Date, Total};

/// A member: the current balances of the chosen accounts and their total.
/// Fields in the order of their JSON names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub accounts: Vec<CurrentBalance>,
    pub total: Total,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentBalance {
    pub above_threshold: bool,
    pub account_id: String,
    pub account_type: AccountType,
    /// The latest known end-of-day balance up to the creation date.
    pub amount: Total,
    pub balance_date: Date,
}

/// The latest known end-of-day balance on or before `day`, with its date.
pub fn current<L: Ledger + ?Sized>(account: &L, day: Date) -> Option<(Total, Date)> {
    if let Some(b) = balances::on(account, day) {
        return Some((b, day));
    }
    // Before the account's history starts only supplied balances are known.
    account
        .daily_balances()
        .iter()
        .rev()
        .find(|(d, _)| *d <= day)
        .map(|(d, b)| (Total::from(*b), *d))
}

pub fn evaluate(
    user: &UserData,
    threshold: Amount,
    account_types: &[AccountType],
    creation_date: Date,
) -> Verdict<Member> {
    evaluate_accounts(
        &user.id,
        &user.accounts,
        threshold,
        account_types,
        creation_date,
    )
}

/// The rule over any representation of the user's accounts.
pub fn evaluate_accounts<L: Ledger>(
    user_id: &str,
    accounts: &[L],
    threshold: Amount,
    account_types: &[AccountType],
    creation_date: Date,
) -> Verdict<Member> {
    let mut current_balances = Vec::new();
    let mut total = Total::ZERO;
    let mut above = false;
    for account in accounts
        .iter()
        .filter(|a| account_types.contains(&a.account_type()))
    {
        let Some((balance, date)) = current(account, creation_date) else {
            continue;
        };
        total = total + balance;
        above |= balance > threshold;
        current_balances.push((account, balance, date));
    }
    if current_balances.is_empty() {
        return Verdict::WithoutData;
    }
    if !above {
        return Verdict::NotMember;
    }
    let accounts = current_balances
        .into_iter()
        .map(|(account, balance, date)| CurrentBalance {
            above_threshold: balance > threshold,
            account_id: account.account_id().to_owned(),
            account_type: account.account_type(),
            amount: balance,
            balance_date: date,
        })
        .collect();
    Verdict::Member(Member {
        accounts,
        total,
        user_id: user_id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::{AccountData, Tx};

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn savings(id: &str, balance: i64, balance_date: &str, txs: &[(&str, i64)]) -> AccountData {
        AccountData {
            id: id.into(),
            account_type: AccountType::Savings,
            iban: None,
            balance: Amount::from_cents(balance),
            balance_date: d(balance_date),
            data_since: Some(d("2025-01-01")),
            daily_balances: Vec::new(),
            transactions: txs
                .iter()
                .enumerate()
                .map(|(i, (day, c))| Tx::plain(&format!("t{i}"), d(day), Amount::from_cents(*c)))
                .collect(),
        }
    }

    #[test]
    fn strictly_above_with_total() {
        let u = UserData {
            id: "u".into(),
            accounts: vec![
                savings("s1", 10_000_00, "2026-11-20", &[]),
                savings("s2", 2_500_50, "2026-11-20", &[]),
            ],
        };
        let t = Amount::from_cents(10_000_00);
        assert_eq!(
            evaluate(&u, t, &[AccountType::Savings], d("2026-11-25")),
            Verdict::NotMember
        );
        let t = Amount::from_cents(9_999_99);
        let Verdict::Member(m) = evaluate(&u, t, &[AccountType::Savings], d("2026-11-25")) else {
            panic!()
        };
        let m = serde_json::to_value(&m).unwrap();
        assert_eq!(m["total"].to_string(), "12500.50");
        assert_eq!(m["accounts"][0]["aboveThreshold"], true);
        assert_eq!(m["accounts"][1]["aboveThreshold"], false);
        assert_eq!(
            evaluate(&u, t, &[AccountType::Checking], d("2026-11-25")),
            Verdict::WithoutData
        );
    }

    #[test]
    fn balance_as_of_the_creation_date() {
        // Reported 20,000 on 11-30, after a deposit of 15,000 on 11-28: on 11-25 it was 5,000.
        let u = UserData {
            id: "u".into(),
            accounts: vec![savings(
                "s",
                20_000_00,
                "2026-11-30",
                &[("2026-11-28", 15_000_00)],
            )],
        };
        let t = Amount::from_cents(10_000_00);
        assert_eq!(
            evaluate(&u, t, &[AccountType::Savings], d("2026-11-25")),
            Verdict::NotMember
        );
        assert!(matches!(
            evaluate(&u, t, &[AccountType::Savings], d("2026-11-29")),
            Verdict::Member(_)
        ));
    }
}
