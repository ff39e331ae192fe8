//! `lowBalance` (UC-01): in each of the last N complete months, at least one
//! account of the chosen types ended at least one day strictly below the
//! threshold.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{Ledger, Outside, Period, Rendered, UserData, Verdict, balances};
use crate::date::Month;
use crate::{AccountType, Amount, Date, Total};

/// A member: the chosen accounts with a known day in the period, each
/// with its lowest balance and, per month, the evidence. Fields in the
/// order of their JSON names, as [`render_accounts`] writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub accounts: Vec<AccountLows>,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountLows {
    pub account_id: String,
    pub account_type: AccountType,
    /// The lowest end-of-day balance over the period.
    pub amount: Total,
    pub months: Vec<MonthLows>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthLows {
    pub days_below_threshold: u32,
    /// `None` when no day of the month is known.
    pub lowest_balance: Option<Total>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowest_balance_date: Option<Date>,
    pub month: Month,
}

pub fn evaluate(
    user: &UserData,
    threshold: Amount,
    account_types: &[AccountType],
    period: Period,
) -> Verdict<Member> {
    evaluate_accounts(&user.id, &user.accounts, threshold, account_types, period)
}

/// One month of one account.
#[derive(Clone, Copy)]
struct MonthLow {
    /// The lowest known end-of-day balance and its (first) day.
    lowest: Option<(Total, Date)>,
    below: u32,
}

/// The verdict from precomputed monthly lows, when every account keeps
/// them and the user is not a member (a member's evidence needs the days).
fn from_month_lows<L: Ledger>(
    accounts: &[L],
    threshold: Amount,
    account_types: &[AccountType],
    period: Period,
) -> Option<Outside> {
    let (first, last) = (period.from.month(), period.to.month());
    let n = last.index() - first.index() + 1;
    if !(1..=32).contains(&n) {
        return None;
    }
    // Bit k: month `first + k`.
    let (mut known, mut dipped) = (0u32, 0u32);
    for account in accounts
        .iter()
        .filter(|a| account_types.contains(&a.account_type()))
    {
        for k in 0..n {
            if let Some(low) = account.month_low(first.plus(k))? {
                known |= 1 << k;
                if low < threshold {
                    dipped |= 1 << k;
                }
            }
        }
    }
    let all = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
    if known != all {
        Some(Outside::WithoutData)
    } else if dipped != all {
        Some(Outside::NotMember)
    } else {
        None
    }
}

/// A member's months per chosen account.
type Figures<'a, L> = (Vec<Month>, Vec<(&'a L, Vec<MonthLow>)>);

fn figures<'a, L: Ledger>(
    accounts: &'a [L],
    threshold: Amount,
    account_types: &[AccountType],
    period: Period,
) -> Result<Figures<'a, L>, Outside> {
    if let Some(verdict) = from_month_lows(accounts, threshold, account_types, period) {
        return Err(verdict);
    }
    let months = period.months();
    let first_month = period.from.month().index();
    // Per month: did any account have a known day; did any dip below.
    let mut known = vec![false; months.len()];
    let mut dipped = vec![false; months.len()];
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
        // One pass over runs of days with one balance, cut at month ends.
        balances::runs_by_month(
            account,
            period.from,
            period.to,
            |month, first, last, balance| {
                let Some(b) = balance else { return };
                let m = &mut stats[(month.index() - first_month) as usize];
                // Strictly lower: the first day of the lowest balance is kept.
                if m.lowest.is_none_or(|(l, _)| b < l) {
                    m.lowest = Some((b, first));
                }
                if b < threshold {
                    m.below += (last.days() - first.days() + 1) as u32;
                }
            },
        );
        for (mi, m) in stats.iter().enumerate() {
            if m.lowest.is_some() {
                known[mi] = true;
                dipped[mi] |= m.below > 0;
            }
        }
        per_account.push((account, stats));
    }
    if known.iter().any(|k| !k) {
        return Err(Outside::WithoutData);
    }
    if !dipped.iter().all(|d| *d) {
        return Err(Outside::NotMember);
    }
    Ok((months, per_account))
}

/// The lowest balance of the account over the period, if any day is known.
fn lowest_overall(stats: &[MonthLow]) -> Option<Total> {
    stats.iter().filter_map(|m| m.lowest.map(|l| l.0)).min()
}

/// The rule over any representation of the user's accounts.
pub fn evaluate_accounts<L: Ledger>(
    user_id: &str,
    accounts: &[L],
    threshold: Amount,
    account_types: &[AccountType],
    period: Period,
) -> Verdict<Member> {
    let (months, per_account) = match figures(accounts, threshold, account_types, period) {
        Ok(f) => f,
        Err(o) => return o.into(),
    };
    let mut evidence = Vec::new();
    for (account, stats) in per_account {
        let Some(lowest_overall) = lowest_overall(&stats) else {
            continue;
        };
        let months = months
            .iter()
            .zip(&stats)
            .map(|(month, m)| MonthLows {
                days_below_threshold: m.below,
                lowest_balance: m.lowest.map(|(low, _)| low),
                lowest_balance_date: m.lowest.map(|(_, day)| day),
                month: *month,
            })
            .collect();
        evidence.push(AccountLows {
            account_id: account.account_id().to_owned(),
            account_type: account.account_type(),
            amount: lowest_overall,
            months,
        });
    }
    Verdict::Member(Member {
        accounts: evidence,
        user_id: user_id.to_owned(),
    })
}

/// The rule with the member's JSON written directly (the document
/// [`evaluate_accounts`] builds, keys in the same order).
pub fn render_accounts<L: Ledger>(
    user_id: &str,
    accounts: &[L],
    threshold: Amount,
    account_types: &[AccountType],
    period: Period,
) -> Rendered {
    let (months, per_account) = match figures(accounts, threshold, account_types, period) {
        Ok(f) => f,
        Err(o) => return o.into(),
    };
    let mut o = String::with_capacity(64 + per_account.len() * (100 + months.len() * 110));
    o.push_str("{\"accounts\":[");
    let mut first = true;
    for (account, stats) in per_account {
        let Some(lowest_overall) = lowest_overall(&stats) else {
            continue;
        };
        if !first {
            o.push(',');
        }
        first = false;
        o.push_str("{\"accountId\":");
        crate::json::push_string(&mut o, account.account_id());
        let _ = write!(
            o,
            ",\"accountType\":\"{}\",\"amount\":{lowest_overall},\"months\":[",
            account.account_type().as_str()
        );
        for (mi, (month, m)) in months.iter().zip(&stats).enumerate() {
            if mi > 0 {
                o.push(',');
            }
            match m.lowest {
                None => {
                    let _ = write!(
                        o,
                        "{{\"daysBelowThreshold\":0,\"lowestBalance\":null,\"month\":\"{month}\"}}"
                    );
                }
                Some((low, day)) => {
                    let _ = write!(
                        o,
                        "{{\"daysBelowThreshold\":{},\"lowestBalance\":{low},\"lowestBalanceDate\":\"{day}\",\"month\":\"{month}\"}}",
                        m.below
                    );
                }
            }
        }
        o.push_str("]}");
    }
    o.push_str("],\"userId\":");
    crate::json::push_string(&mut o, user_id);
    o.push('}');
    Rendered::Member(o)
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
        let m = serde_json::to_value(&m).unwrap();
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
        let m = serde_json::to_value(&m).unwrap();
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
        let m = serde_json::to_value(&m).unwrap();
        assert_eq!(
            m["accounts"][0]["months"][1]["lowestBalanceDate"],
            "2026-02-20"
        );
        assert_eq!(m["accounts"][0]["months"][1]["daysBelowThreshold"], 1);
    }
}
