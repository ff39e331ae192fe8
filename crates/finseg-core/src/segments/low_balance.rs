//! `lowBalance` (UC-01): in each of the last N complete months, at least one
//! account of the chosen types ended at least one day strictly below the
//! threshold.

use serde_json::json;

use super::{Ledger, Period, UserData, Verdict, balances};
use crate::{AccountType, Amount, Date};

pub fn evaluate(
    user: &UserData,
    threshold: Amount,
    account_types: &[AccountType],
    period: Period,
) -> Verdict {
    evaluate_accounts(&user.id, &user.accounts, threshold, account_types, period)
}

/// One month of one account.
#[derive(Clone, Copy)]
struct MonthLow {
    /// The lowest known end-of-day balance and its (first) day.
    lowest: Option<(Amount, Date)>,
    below: u32,
}

/// The verdict from precomputed monthly lows, when every account keeps
/// them and the user is not a member (a member's evidence needs the days).
fn from_month_lows<L: Ledger>(
    accounts: &[L],
    threshold: Amount,
    account_types: &[AccountType],
    months: &[crate::date::Month],
) -> Option<Verdict> {
    let mut known = vec![false; months.len()];
    let mut dipped = vec![false; months.len()];
    for account in accounts
        .iter()
        .filter(|a| account_types.contains(&a.account_type()))
    {
        for (mi, m) in months.iter().enumerate() {
            if let Some(low) = account.month_low(*m)? {
                known[mi] = true;
                dipped[mi] |= low < threshold;
            }
        }
    }
    if known.iter().any(|k| !k) {
        Some(Verdict::WithoutData)
    } else if !dipped.iter().all(|d| *d) {
        Some(Verdict::NotMember)
    } else {
        None
    }
}

/// The rule over any representation of the user's accounts.
pub fn evaluate_accounts<L: Ledger>(
    user_id: &str,
    accounts: &[L],
    threshold: Amount,
    account_types: &[AccountType],
    period: Period,
) -> Verdict {
    let months = period.months();
    if let Some(verdict) = from_month_lows(accounts, threshold, account_types, &months) {
        return verdict;
    }
    let month_ends: Vec<Date> = months.iter().map(|m| m.last_day()).collect();
    // Per month: did any account have a known day; did any dip below.
    let mut known = vec![false; months.len()];
    let mut dipped = vec![false; months.len()];
    // Per chosen account: its months. JSON is built only for members.
    let mut per_account: Vec<(&L, Vec<MonthLow>)> = Vec::new();
    for account in accounts
        .iter()
        .filter(|a| account_types.contains(&a.account_type()))
    {
        let mut stats = vec![
            MonthLow {
                lowest: None,
                below: 0
            };
            months.len()
        ];
        // One pass over the days; they are in order, so months advance.
        let mut mi = 0;
        for db in balances::daily(account, period.from, period.to) {
            while db.day > month_ends[mi] {
                mi += 1;
            }
            let Some(b) = db.balance else { continue };
            let m = &mut stats[mi];
            if m.lowest.is_none_or(|(l, _)| b < l) {
                m.lowest = Some((b, db.day));
            }
            if b < threshold {
                m.below += 1;
            }
        }
        for (mi, m) in stats.iter().enumerate() {
            if m.lowest.is_some() {
                known[mi] = true;
                dipped[mi] |= m.below > 0;
            }
        }
        per_account.push((account, stats));
    }
    if known.iter().any(|k| !k) {
        return Verdict::WithoutData;
    }
    if !dipped.iter().all(|d| *d) {
        return Verdict::NotMember;
    }
    let mut evidence = Vec::new();
    for (account, stats) in per_account {
        let Some(lowest_overall) = stats.iter().filter_map(|m| m.lowest.map(|l| l.0)).min() else {
            continue;
        };
        let month_entries: Vec<serde_json::Value> = months
            .iter()
            .zip(&stats)
            .map(|(month, m)| match m.lowest {
                None => json!({"month": month.to_string(), "lowestBalance": null, "daysBelowThreshold": 0}),
                Some((low, low_day)) => json!({
                    "month": month.to_string(),
                    "lowestBalance": low,
                    "lowestBalanceDate": low_day,
                    "daysBelowThreshold": m.below,
                }),
            })
            .collect();
        evidence.push(json!({
            "accountId": account.account_id(),
            "accountType": account.account_type(),
            "amount": lowest_overall,
            "months": month_entries,
        }));
    }
    Verdict::Member(json!({"userId": user_id, "accounts": evidence}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::{AccountData, Tx};
    use crate::{AccountType, Date};

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn account(
        id: &str,
        balance: i64,
        balance_date: &str,
        since: &str,
        txs: &[(&str, i64)],
    ) -> AccountData {
        AccountData {
            id: id.into(),
            account_type: AccountType::Checking,
            iban: None,
            balance: Amount::from_cents(balance),
            balance_date: d(balance_date),
            data_since: Some(d(since)),
            daily_balances: Vec::new(),
            transactions: txs
                .iter()
                .enumerate()
                .map(|(i, (day, c))| {
                    Tx::plain(&format!("{id}-{i}"), d(day), Amount::from_cents(*c))
                })
                .collect(),
        }
    }

    const T: Amount = Amount::from_cents(-100_00);

    fn period() -> Period {
        // Job created 2026-04-02: months 2026-01, 02, 03.
        Period::last_complete_months(d("2026-04-02"), 3)
    }

    #[test]
    fn exactly_at_the_threshold_is_not_below() {
        // Balance 0 at 2026-04-01; a day at exactly -100.00 in each month.
        let a = account(
            "a",
            0,
            "2026-04-01",
            "2025-01-01",
            &[
                ("2026-01-10", -100_00),
                ("2026-01-11", 100_00),
                ("2026-02-10", -100_00),
                ("2026-02-11", 100_00),
                ("2026-03-10", -100_01),
                ("2026-03-11", 100_01),
            ],
        );
        let u = UserData {
            id: "u".into(),
            accounts: vec![a],
        };
        assert_eq!(
            evaluate(&u, T, &[AccountType::Checking], period()),
            Verdict::NotMember
        );
    }

    #[test]
    fn two_accounts_dipping_in_different_months() {
        // Account a dips in January and March, account b in February.
        let a = account(
            "a",
            0,
            "2026-04-01",
            "2025-01-01",
            &[
                ("2026-01-31", -150_00),
                ("2026-02-01", 150_00),
                ("2026-03-01", -200_00),
                ("2026-03-03", 200_00),
            ],
        );
        let b = account(
            "b",
            50_00,
            "2026-04-01",
            "2025-01-01",
            &[("2026-02-27", -200_00), ("2026-03-01", 200_00)],
        );
        let u = UserData {
            id: "u".into(),
            accounts: vec![a, b],
        };
        let Verdict::Member(m) = evaluate(&u, T, &[AccountType::Checking], period()) else {
            panic!("not a member")
        };
        let a_months = &m["accounts"][0]["months"];
        // January: one day (the 31st) at -150.00.
        assert_eq!(a_months[0]["lowestBalance"].to_string(), "-150.00");
        assert_eq!(a_months[0]["lowestBalanceDate"], "2026-01-31");
        assert_eq!(a_months[0]["daysBelowThreshold"], 1);
        // March: the 1st and 2nd at -200.00.
        assert_eq!(a_months[2]["daysBelowThreshold"], 2);
        // b: Feb 27 and 28 at -150.00.
        assert_eq!(m["accounts"][1]["months"][1]["daysBelowThreshold"], 2);
        assert_eq!(m["accounts"][1]["amount"].to_string(), "-150.00");
        // Only checking accounts count: with savings only, the user has no data.
        assert_eq!(
            evaluate(&u, T, &[AccountType::Savings], period()),
            Verdict::WithoutData
        );
    }

    #[test]
    fn the_month_of_creation_does_not_count() {
        // Dips in Feb, Mar and in April (the creation month) but not in January.
        let a = account(
            "a",
            0,
            "2026-04-02",
            "2025-01-01",
            &[
                ("2026-02-05", -500_00),
                ("2026-02-06", 500_00),
                ("2026-03-05", -500_00),
                ("2026-03-06", 500_00),
                ("2026-04-01", -500_00),
                ("2026-04-02", 500_00),
            ],
        );
        let u = UserData {
            id: "u".into(),
            accounts: vec![a],
        };
        assert_eq!(
            evaluate(&u, T, &[AccountType::Checking], period()),
            Verdict::NotMember
        );
        let two = Period::last_complete_months(d("2026-04-02"), 2);
        assert!(matches!(
            evaluate(&u, T, &[AccountType::Checking], two),
            Verdict::Member(_)
        ));
    }

    #[test]
    fn days_before_data_since_are_unknown() {
        // History starts 2026-02-15: January has no known day → without data.
        let a = account("a", -500_00, "2026-04-01", "2026-02-15", &[]);
        let u = UserData {
            id: "u".into(),
            accounts: vec![a.clone()],
        };
        assert_eq!(
            evaluate(&u, T, &[AccountType::Checking], period()),
            Verdict::WithoutData
        );
        // A month counts on the days it has: February from the 15th.
        let mut a2 = a;
        a2.data_since = Some(d("2026-01-31"));
        let u = UserData {
            id: "u".into(),
            accounts: vec![a2],
        };
        let Verdict::Member(m) = evaluate(&u, T, &[AccountType::Checking], period()) else {
            panic!()
        };
        assert_eq!(m["accounts"][0]["months"][0]["daysBelowThreshold"], 1);
    }

    #[test]
    fn supplied_daily_balances_override_reconstruction() {
        // Reconstruction says +1000 every day; the bank says -300 on three days.
        let mut a = account("a", 1000_00, "2026-04-01", "2025-01-01", &[]);
        a.daily_balances = vec![
            (d("2026-01-20"), Amount::from_cents(-300_00)),
            (d("2026-02-20"), Amount::from_cents(-300_00)),
            (d("2026-03-20"), Amount::from_cents(-300_00)),
        ];
        let u = UserData {
            id: "u".into(),
            accounts: vec![a],
        };
        let Verdict::Member(m) = evaluate(&u, T, &[AccountType::Checking], period()) else {
            panic!()
        };
        assert_eq!(
            m["accounts"][0]["months"][1]["lowestBalanceDate"],
            "2026-02-20"
        );
        assert_eq!(m["accounts"][0]["months"][1]["daysBelowThreshold"], 1);
    }
}
