//! `incomeSpendingSummary`: counts and totals of incoming and outgoing
//! transactions in a period, own-account transfers reported separately.

use serde::{Deserialize, Serialize};

use super::{Flows, Outside, Period, Rendered, UserData, Verdict};
use crate::labels::Label;
use crate::{Amount, Total};

/// A member: its flows in and out, own-account transfers apart. Fields in
/// the order of their JSON names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub incoming_count: u64,
    pub incoming_total: Total,
    pub outgoing_count: u64,
    pub outgoing_total: Total,
    pub own_account_transfers: TransferFlows,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferFlows {
    pub incoming_count: u64,
    pub incoming_total: Total,
    pub outgoing_count: u64,
    pub outgoing_total: Total,
}

pub fn evaluate(user: &UserData, period: Period) -> Verdict<Member> {
    evaluate_accounts(&user.id, &user.accounts, period)
}

/// Counts and totals: in, out, own transfers in, own transfers out.
#[derive(Default)]
struct Figures {
    counts: [u64; 4],
    totals: [Total; 4],
}

fn figures<F: Flows>(accounts: &[F], period: Period) -> Result<Figures, Outside> {
    let transfer = Label::OWN_ACCOUNT_TRANSFER;
    let mut f = Figures::default();
    let mut listed = false;
    let mut any_transaction = false;
    for account in accounts {
        for i in account.flows_within(period) {
            any_transaction = true;
            let amount = account.flow_amount(i);
            let own = account.flow_labels(i).contains(transfer);
            listed |= !own;
            // Zero amounts count as neither incoming nor outgoing.
            let slot = match (own, amount > Amount::ZERO, amount < Amount::ZERO) {
                (false, true, _) => 0,
                (false, _, true) => 1,
                (true, true, _) => 2,
                (true, _, true) => 3,
                _ => continue,
            };
            f.counts[slot] += 1;
            f.totals[slot] += amount;
        }
    }
    if !listed {
        return Err(if any_transaction || !accounts.is_empty() {
            Outside::NotMember
        } else {
            Outside::WithoutData
        });
    }
    Ok(f)
}

/// The rule over any representation of the user's accounts.
pub fn evaluate_accounts<F: Flows>(
    user_id: &str,
    accounts: &[F],
    period: Period,
) -> Verdict<Member> {
    match figures(accounts, period) {
        Ok(f) => Verdict::Member(member(user_id, &f)),
        Err(o) => o.into(),
    }
}

fn member(user_id: &str, f: &Figures) -> Member {
    let (c, t) = (f.counts, f.totals);
    Member {
        incoming_count: c[0],
        incoming_total: t[0],
        outgoing_count: c[1],
        outgoing_total: t[1],
        own_account_transfers: TransferFlows {
            incoming_count: c[2],
            incoming_total: t[2],
            outgoing_count: c[3],
            outgoing_total: t[3],
        },
        user_id: user_id.to_owned(),
    }
}

/// How a member is stored: [`PACKED`], then the four counts and totals
/// (cents), in and out, own transfers in and out, each ended by `;`. The
/// member is read back by [`unpack`].
pub const PACKED: &str = "~S";

/// The rule, in its stored form (see [`PACKED`]).
pub fn pack_accounts<F: Flows>(accounts: &[F], period: Period) -> Rendered {
    let f = match figures(accounts, period) {
        Ok(f) => f,
        Err(o) => return o.into(),
    };
    let mut o = String::with_capacity(64);
    o.push_str(PACKED);
    for (c, t) in f.counts.iter().zip(&f.totals) {
        crate::json::push_int(&mut o, *c);
        o.push(';');
        crate::json::push_int(&mut o, t.cents());
        o.push(';');
    }
    Rendered::Member(o)
}

/// The member (as [`evaluate_accounts`] builds it) from its stored form;
/// `None` when `stored` is not one.
pub fn unpack(user_id: &str, stored: &str) -> Option<Member> {
    let mut numbers = stored.strip_prefix(PACKED)?.split_terminator(';');
    let mut f = Figures::default();
    for k in 0..4 {
        f.counts[k] = numbers.next()?.parse().ok()?;
        f.totals[k] = Total::from_cents(numbers.next()?.parse().ok()?);
    }
    if numbers.next().is_some() {
        return None;
    }
    Some(member(user_id, &f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::LabelSet;
    use crate::segments::{AccountData, Tx};
    use crate::{AccountType, Date};

    #[test]
    fn counts_totals_and_transfers() {
        let d = |s: &str| Date::parse(s).unwrap();
        let mut xfer = LabelSet::default();
        xfer.insert(Label::parse("OWNACCOUNTTRANSFER").unwrap());
        let tx = |id: &str, day: &str, c: i64, l: LabelSet| Tx {
            labels: l,
            ..Tx::plain(id, d(day), Amount::from_cents(c))
        };
        let none = LabelSet::default();
        let a = AccountData {
            id: "a".into(),
            account_type: AccountType::CreditCard,
            iban: None,
            balance: Amount::ZERO,
            balance_date: d("2026-11-01"),
            data_since: None,
            daily_balances: vec![],
            transactions: vec![
                tx("in-before", "2026-09-30", 1_000_00, none),
                tx("in", "2026-10-01", 2_000_00, none),
                tx("out1", "2026-10-15", -10_50, none),
                tx("zero", "2026-10-16", 0, none),
                tx("out2", "2026-10-31", -5_00, none),
                tx("xfer", "2026-10-20", -300_00, xfer),
                tx("after", "2026-11-01", -1_00, none),
            ],
        };
        let mut u = UserData {
            id: "u".into(),
            accounts: vec![a],
        };
        u.sort_bookings();
        let p = Period {
            from: d("2026-10-01"),
            to: d("2026-10-31"),
        };
        let Verdict::Member(m) = evaluate(&u, p) else {
            panic!()
        };
        let m = serde_json::to_value(&m).unwrap();
        assert_eq!(m["incomingCount"], 1);
        assert_eq!(m["incomingTotal"].to_string(), "2000.00");
        assert_eq!(m["outgoingCount"], 2);
        assert_eq!(m["outgoingTotal"].to_string(), "-15.50");
        assert_eq!(m["ownAccountTransfers"]["outgoingCount"], 1);
        assert_eq!(
            m["ownAccountTransfers"]["outgoingTotal"].to_string(),
            "-300.00"
        );
        // Only a transfer in the period: not listed.
        let p = Period {
            from: d("2026-10-20"),
            to: d("2026-10-20"),
        };
        assert_eq!(evaluate(&u, p), Verdict::NotMember);
        // A zero amount lists the user, counting as neither.
        let p = Period {
            from: d("2026-10-16"),
            to: d("2026-10-16"),
        };
        let Verdict::Member(m) = evaluate(&u, p) else {
            panic!()
        };
        let m = serde_json::to_value(&m).unwrap();
        assert_eq!(
            (m["incomingCount"].as_u64(), m["outgoingCount"].as_u64()),
            (Some(0), Some(0))
        );
    }
}
