//! `financialBreakdown` (UC-03): per label group, monthly totals and counts
//! over the last N complete months and statistics over them, months without
//! transactions counting as 0. Own-account transfers count in no group.

use serde::{Deserialize, Serialize};

use super::{Flows, Outside, Period, Rendered, UserData, Verdict, stats};
use crate::Total;
use crate::date::Month;
use crate::labels::{Label, LabelSet};

/// A member: per requested group, the monthly figures and statistics.
/// Fields in the order of their JSON names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub label_groups: Vec<GroupFigures>,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupFigures {
    pub average: Total,
    /// Transactions over all months.
    pub count: u64,
    pub label_group: String,
    pub maximum: Total,
    pub median: Total,
    pub minimum: Total,
    pub monthly: Vec<MonthFigures>,
    pub standard_deviation: Total,
    pub total: Total,
    /// Listed only when the job asks for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthFigures {
    pub count: u64,
    pub month: Month,
    pub total: Total,
}

/// The rule with transaction ids as evidence.
pub fn evaluate(
    user: &UserData,
    groups: &[(&'static str, LabelSet)],
    period: Period,
) -> Verdict<Member> {
    evaluate_accounts(&user.id, &user.accounts, groups, period, true)
}

/// One group's figures.
struct Group<'a> {
    name: &'a str,
    totals: Vec<Total>,
    counts: Vec<u64>,
    ids: Vec<String>,
    stats: stats::Stats,
}

/// The figures of a member; `Err` when the user is none.
fn figures<F: Flows>(
    accounts: &[F],
    groups: &[(&'static str, LabelSet)],
    period: Period,
    with_ids: bool,
) -> Result<(Vec<Month>, Vec<Group<'static>>), Outside> {
    let transfer = Label::OWN_ACCOUNT_TRANSFER;
    let months = period.months();
    // The last day of each month: flows come in date order, so a cursor
    // finds a flow's month without a calendar conversion per flow.
    let month_ends: Vec<i32> = months.iter().map(|m| m.last_day().days()).collect();
    let mut any = false;
    let any_transaction = accounts.iter().any(|a| !a.flows_within(period).is_empty());
    let (n, m) = (groups.len(), months.len());
    let mut totals = vec![Total::ZERO; n * m];
    let mut counts = vec![0u64; n * m];
    let mut ids: Vec<Vec<String>> = vec![Vec::new(); n];
    // One pass over the flows: a flow's labels and month are read once,
    // whatever the number of groups.
    for account in accounts {
        let mut mi = 0;
        for i in account.flows_within(period) {
            let day = account.flow_date(i).days();
            while day > month_ends[mi] {
                mi += 1;
            }
            let labels = account.flow_labels(i);
            if labels.contains(transfer) {
                continue;
            }
            for (g, (_, set)) in groups.iter().enumerate() {
                // Counts once per group, however many of its labels it carries.
                if !labels.intersects(*set) {
                    continue;
                }
                totals[g * m + mi] += account.flow_amount(i);
                counts[g * m + mi] += 1;
                if with_ids && let Some(id) = account.flow_id(i) {
                    ids[g].push(id.to_owned());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    for (g, ((name, _), ids)) in groups.iter().zip(ids).enumerate() {
        let totals = totals[g * m..(g + 1) * m].to_vec();
        let counts = counts[g * m..(g + 1) * m].to_vec();
        any |= counts.iter().any(|c| *c > 0);
        let stats = stats::of(&totals).expect("at least one month");
        out.push(Group {
            name,
            totals,
            counts,
            ids,
            stats,
        });
    }
    if any {
        Ok((months, out))
    } else if any_transaction {
        Err(Outside::NotMember)
    } else {
        Err(Outside::WithoutData)
    }
}

/// The rule over any representation of the user's accounts; ids are
/// listed when asked for (and kept by the representation).
pub fn evaluate_accounts<F: Flows>(
    user_id: &str,
    accounts: &[F],
    groups: &[(&'static str, LabelSet)],
    period: Period,
    with_ids: bool,
) -> Verdict<Member> {
    match figures(accounts, groups, period, with_ids) {
        Ok((months, groups)) => Verdict::Member(member(user_id, &months, groups, with_ids)),
        Err(o) => o.into(),
    }
}

fn member(user_id: &str, months: &[Month], groups: Vec<Group<'_>>, with_ids: bool) -> Member {
    let label_groups = groups
        .into_iter()
        .map(|g| {
            let s = g.stats;
            GroupFigures {
                average: s.average,
                count: g.counts.iter().sum(),
                label_group: g.name.to_owned(),
                maximum: s.maximum,
                median: s.median,
                minimum: s.minimum,
                monthly: months
                    .iter()
                    .zip(g.totals.iter().zip(&g.counts))
                    .map(|(m, (t, c))| MonthFigures {
                        count: *c,
                        month: *m,
                        total: *t,
                    })
                    .collect(),
                standard_deviation: s.standard_deviation,
                total: s.total,
                transaction_ids: with_ids.then_some(g.ids),
            }
        })
        .collect();
    Member {
        label_groups,
        user_id: user_id.to_owned(),
    }
}

/// How a member without transaction ids is stored: [`PACKED`], the first
/// month's index, then per group `|NAME` and per month `,count:cents`.
/// Everything else (months, statistics, the JSON) follows from these and
/// is computed on read by [`unpack`]: a sixth of the JSON's bytes, and no
/// JSON written per member while a job runs.
pub const PACKED: &str = "~B";

/// The rule without transaction ids, in its stored form (see [`PACKED`]).
pub fn pack_accounts<F: Flows>(
    accounts: &[F],
    groups: &[(&'static str, LabelSet)],
    period: Period,
) -> Rendered {
    let (months, groups) = match figures(accounts, groups, period, false) {
        Ok(f) => f,
        Err(o) => return o.into(),
    };
    let mut o = String::with_capacity(16 + groups.len() * (16 + months.len() * 12));
    o.push_str(PACKED);
    crate::json::push_int(&mut o, months[0].index());
    for g in &groups {
        o.push('|');
        o.push_str(g.name);
        for (c, t) in g.counts.iter().zip(&g.totals) {
            o.push(',');
            crate::json::push_int(&mut o, *c);
            o.push(':');
            crate::json::push_int(&mut o, t.cents());
        }
    }
    Rendered::Member(o)
}

/// The member (as [`evaluate_accounts`] builds it without ids) from its
/// stored form; `None` when `stored` is not one.
pub fn unpack(user_id: &str, stored: &str) -> Option<Member> {
    let mut parts = stored.strip_prefix(PACKED)?.split('|');
    let first: i32 = parts.next()?.parse().ok()?;
    let mut groups = Vec::new();
    for part in parts {
        let mut fields = part.split(',');
        let name = fields.next()?;
        let (mut totals, mut counts) = (Vec::new(), Vec::new());
        for f in fields {
            let (c, t) = f.split_once(':')?;
            counts.push(c.parse().ok()?);
            totals.push(Total::from_cents(t.parse().ok()?));
        }
        let stats = stats::of(&totals)?;
        groups.push(Group {
            name,
            totals,
            counts,
            ids: Vec::new(),
            stats,
        });
    }
    let n = groups.first().map_or(0, |g| g.totals.len());
    if groups.iter().any(|g| g.totals.len() != n) {
        return None;
    }
    let start = Month::from_ym(0, 1).plus(first);
    let months: Vec<Month> = (0..n as i32).map(|k| start.plus(k)).collect();
    Some(member(user_id, &months, groups, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Amount;
    use crate::labels::group;
    use crate::segments::{AccountData, Tx};
    use crate::{AccountType, Date};

    fn labels(names: &[&str]) -> LabelSet {
        let mut s = LabelSet::default();
        for n in names {
            s.insert(Label::parse(n).unwrap());
        }
        s
    }

    fn user() -> UserData {
        let d = |s: &str| Date::parse(s).unwrap();
        let tx = |id: &str, day: &str, c: i64, l: &[&str]| Tx {
            labels: labels(l),
            ..Tx::plain(id, d(day), Amount::from_cents(c))
        };
        let checking = AccountData {
            id: "c".into(),
            account_type: AccountType::Checking,
            iban: None,
            balance: Amount::ZERO,
            balance_date: d("2026-11-25"),
            data_since: None,
            daily_balances: vec![],
            transactions: vec![
                tx("sal-jul", "2026-07-31", 3_000_00, &["SALARY"]),
                tx("sal-aug", "2026-08-31", 3_000_00, &["SALARY"]),
                tx("sal-sep", "2026-09-30", 3_100_00, &["SALARY"]),
                tx("kg-sep", "2026-09-05", 255_00, &["CHILDBENEFIT"]),
                // No income in October.
                tx("sal-nov", "2026-11-03", 3_000_00, &["SALARY"]), // creation month: not counted
                tx(
                    "ins",
                    "2026-06-01",
                    -50_00,
                    &["CARINSURANCE", "LIABILITYINSURANCE"],
                ),
                tx(
                    "xfer",
                    "2026-08-15",
                    500_00,
                    &["OWNACCOUNTTRANSFER", "OTHERINCOME"],
                ),
            ],
        };
        let card = AccountData {
            id: "k".into(),
            account_type: AccountType::CreditCard,
            iban: None,
            transactions: vec![tx("groc", "2026-10-02", -80_00, &["GROCERIES"])],
            ..checking.clone()
        };
        let mut u = UserData {
            id: "u".into(),
            accounts: vec![checking, card],
        };
        u.sort_bookings();
        u
    }

    #[test]
    fn salary_counts_in_salary_and_income_with_zero_months() {
        // Created 2026-11-25: months 2026-05 … 2026-10 (six, an even count).
        let p = Period::last_complete_months(Date::parse("2026-11-25").unwrap(), 6);
        let groups = [
            group("INCOME").unwrap(),
            group("SALARY").unwrap(),
            group("INSURANCE").unwrap(),
            group("LIVING").unwrap(),
        ];
        let Verdict::Member(m) = evaluate(&user(), &groups, p) else {
            panic!()
        };
        let m = serde_json::to_value(&m).unwrap();
        let income = &m["labelGroups"][0];
        let totals: Vec<String> = income["monthly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["total"].to_string())
            .collect();
        assert_eq!(
            totals,
            vec!["0.00", "0.00", "3000.00", "3000.00", "3355.00", "0.00"]
        );
        assert_eq!(income["total"].to_string(), "9355.00");
        assert_eq!(income["count"], 4);
        // Average 9355/6 = 1559.1666… → 1559.17; median of 0,0,0,3000,3000,3355 = 1500.00.
        assert_eq!(income["average"].to_string(), "1559.17");
        assert_eq!(income["median"].to_string(), "1500.00");
        assert_eq!(income["minimum"].to_string(), "0.00");
        assert_eq!(income["maximum"].to_string(), "3355.00");
        // Population σ = sqrt((3·μ² + 2·(3000-μ)² + (3355-μ)²) / 6) with μ = 1559.1666… is 1563.6507…
        assert_eq!(income["standardDeviation"].to_string(), "1563.65");
        let salary = &m["labelGroups"][1];
        assert_eq!(salary["total"].to_string(), "9100.00");
        // Two insurance labels on one debit: counted once.
        let insurance = &m["labelGroups"][2];
        assert_eq!(insurance["count"], 1);
        assert_eq!(insurance["total"].to_string(), "-50.00");
        // Credit-card purchases count like any account's.
        assert_eq!(
            m["labelGroups"][3]["monthly"][5]["total"].to_string(),
            "-80.00"
        );
        // The own-account transfer carrying OTHERINCOME counts nowhere.
        assert!(
            !income["transactionIds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i == "xfer")
        );
    }
}
