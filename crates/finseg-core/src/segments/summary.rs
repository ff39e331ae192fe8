//! `incomeSpendingSummary`: counts and totals of incoming and outgoing
//! transactions in a period, own-account transfers reported separately.

use serde_json::json;

use super::{Flows, Period, UserData, Verdict};
use crate::Amount;
use crate::labels::Label;

pub fn evaluate(user: &UserData, period: Period) -> Verdict {
    evaluate_accounts(&user.id, &user.accounts, period)
}

/// The rule over any representation of the user's accounts.
pub fn evaluate_accounts<F: Flows>(user_id: &str, accounts: &[F], period: Period) -> Verdict {
    let transfer = Label::parse("OWNACCOUNTTRANSFER").expect("taxonomy label");
    let (mut in_n, mut out_n, mut xin_n, mut xout_n) = (0u64, 0u64, 0u64, 0u64);
    let (mut in_t, mut out_t, mut xin_t, mut xout_t) =
        (Amount::ZERO, Amount::ZERO, Amount::ZERO, Amount::ZERO);
    let mut listed = false;
    let mut any_transaction = false;
    for account in accounts {
        for i in account.flows_within(period) {
            any_transaction = true;
            let amount = account.flow_amount(i);
            let positive = amount > Amount::ZERO;
            let negative = amount < Amount::ZERO;
            if account.flow_labels(i).contains(transfer) {
                if positive {
                    xin_n += 1;
                    xin_t = xin_t + amount;
                } else if negative {
                    xout_n += 1;
                    xout_t = xout_t + amount;
                }
                continue;
            }
            listed = true;
            if positive {
                in_n += 1;
                in_t = in_t + amount;
            } else if negative {
                out_n += 1;
                out_t = out_t + amount;
            }
        }
    }
    if !listed {
        return if any_transaction || !accounts.is_empty() {
            Verdict::NotMember
        } else {
            Verdict::WithoutData
        };
    }
    Verdict::Member(json!({
        "userId": user_id,
        "incomingCount": in_n,
        "incomingTotal": in_t,
        "outgoingCount": out_n,
        "outgoingTotal": out_t,
        "ownAccountTransfers": {
            "incomingCount": xin_n, "incomingTotal": xin_t,
            "outgoingCount": xout_n, "outgoingTotal": xout_t,
        },
    }))
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
        assert_eq!(
            (m["incomingCount"].as_u64(), m["outgoingCount"].as_u64()),
            (Some(0), Some(0))
        );
    }
}
