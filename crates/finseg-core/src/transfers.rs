//! Own-account transfers (SPEC §4): a debit on one of a user's accounts
//! and a credit of the same amount on another of the user's accounts,
//! booked within a few days, are labelled `OWNACCOUNTTRANSFER` so that
//! they count in no income or spending figure. A credit-card settlement
//! is such a transfer when the card account is one of the user's accounts.

use std::collections::HashMap;

use crate::labels::Label;
use crate::segments::UserData;
use crate::{AccountType, Amount};

/// Days apart the two bookings of one transfer may be (weekends, cut-offs).
pub const MAX_DAYS_APART: i32 = 4;

fn normalise_iban(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Marks matching pairs in place; returns how many pairs were found.
pub fn mark_own_transfers(user: &mut UserData) -> usize {
    let label = Label::parse("OWNACCOUNTTRANSFER").expect("taxonomy label");
    let ibans: Vec<Option<String>> = user
        .accounts
        .iter()
        .map(|a| a.iban.as_deref().map(normalise_iban))
        .collect();
    // Credits by amount: (account, transaction).
    let mut credits: HashMap<Amount, Vec<(usize, usize)>> = HashMap::new();
    for (ai, a) in user.accounts.iter().enumerate() {
        for (ti, t) in a.transactions.iter().enumerate() {
            if t.amount > Amount::ZERO {
                credits.entry(t.amount).or_default().push((ai, ti));
            }
        }
    }
    if credits.is_empty() || user.accounts.len() < 2 {
        return 0;
    }
    let mut taken = vec![Vec::<bool>::new(); user.accounts.len()];
    for (ai, a) in user.accounts.iter().enumerate() {
        taken[ai] = vec![false; a.transactions.len()];
    }
    let mut pairs = Vec::new();
    for (ai, a) in user.accounts.iter().enumerate() {
        for (ti, t) in a.transactions.iter().enumerate() {
            if t.amount >= Amount::ZERO {
                continue;
            }
            let Some(candidates) = credits.get(&-t.amount) else {
                continue;
            };
            let mut best: Option<(i32, usize, usize)> = None;
            for &(bi, ci) in candidates {
                if bi == ai || taken[bi][ci] {
                    continue;
                }
                let c = &user.accounts[bi].transactions[ci];
                let gap = (c.booking_date.days() - t.booking_date.days()).abs();
                if gap > MAX_DAYS_APART {
                    continue;
                }
                // Evidence that the two belong together beyond the amount:
                // an IBAN that names the other account, or an account kind
                // that is only ever fed from the user's own accounts.
                let names_other = |iban: &Option<String>, other: &Option<String>| matches!((iban, other), (Some(x), Some(y)) if normalise_iban(x) == *y);
                let evidence = names_other(&t.counterpart_iban, &ibans[bi])
                    || names_other(&c.counterpart_iban, &ibans[ai])
                    || matches!(
                        user.accounts[bi].account_type,
                        AccountType::CreditCard | AccountType::Savings | AccountType::Pocket
                    )
                    || matches!(
                        user.accounts[ai].account_type,
                        AccountType::CreditCard | AccountType::Savings | AccountType::Pocket
                    );
                if evidence && best.is_none_or(|(g, _, _)| gap < g) {
                    best = Some((gap, bi, ci));
                }
            }
            if let Some((_, bi, ci)) = best {
                taken[bi][ci] = true;
                taken[ai][ti] = true;
                pairs.push((ai, ti, bi, ci));
            }
        }
    }
    for &(ai, ti, bi, ci) in &pairs {
        user.accounts[ai].transactions[ti].labels.insert(label);
        user.accounts[bi].transactions[ci].labels.insert(label);
    }
    pairs.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Date;
    use crate::segments::{AccountData, Tx};

    fn account(id: &str, kind: AccountType, iban: &str, txs: Vec<Tx>) -> AccountData {
        AccountData {
            id: id.into(),
            account_type: kind,
            iban: Some(iban.into()),
            balance: Amount::ZERO,
            balance_date: Date::parse("2026-11-01").unwrap(),
            data_since: None,
            daily_balances: vec![],
            transactions: txs,
        }
    }

    fn tx(id: &str, day: &str, cents: i64, iban: Option<&str>) -> Tx {
        Tx {
            counterpart_iban: iban.map(str::to_owned),
            ..Tx::plain(id, Date::parse(day).unwrap(), Amount::from_cents(cents))
        }
    }

    fn is_transfer(u: &UserData, id: &str) -> bool {
        let l = Label::parse("OWNACCOUNTTRANSFER").unwrap();
        u.accounts
            .iter()
            .flat_map(|a| &a.transactions)
            .any(|t| t.id == id && t.labels.contains(l))
    }

    #[test]
    fn pairs_between_own_accounts() {
        let mut u = UserData {
            id: "u".into(),
            accounts: vec![
                account(
                    "c",
                    AccountType::Checking,
                    "DE02100200300000000010",
                    vec![
                        tx(
                            "to-savings",
                            "2026-10-28",
                            -200_00,
                            Some("DE75100200370000000011"),
                        ),
                        tx("card-settlement", "2026-10-03", -512_40, None),
                        tx("rent", "2026-10-01", -900_00, None),
                        tx("refund", "2026-10-10", 50_00, None),
                    ],
                ),
                account(
                    "s",
                    AccountType::Savings,
                    "DE75100200370000000011",
                    vec![tx("from-checking", "2026-10-29", 200_00, None)],
                ),
                account(
                    "k",
                    AccountType::CreditCard,
                    "DE48100200440000000012",
                    vec![tx("card-credit", "2026-10-03", 512_40, None)],
                ),
                account(
                    "c2",
                    AccountType::Checking,
                    "DE21100200510000000013",
                    vec![
                        // Same amount as the rent, but nothing says it is the user's own money.
                        tx("gift", "2026-10-02", 900_00, None),
                        tx("to-other-checking", "2026-10-12", -50_00, None),
                    ],
                ),
            ],
        };
        assert_eq!(mark_own_transfers(&mut u), 2);
        for id in [
            "to-savings",
            "from-checking",
            "card-settlement",
            "card-credit",
        ] {
            assert!(is_transfer(&u, id), "{id}");
        }
        for id in ["rent", "gift", "refund", "to-other-checking"] {
            assert!(!is_transfer(&u, id), "{id}");
        }
    }

    #[test]
    fn too_far_apart_is_not_a_transfer() {
        let mut u = UserData {
            id: "u".into(),
            accounts: vec![
                account(
                    "c",
                    AccountType::Checking,
                    "DE02100200300000000010",
                    vec![tx(
                        "out",
                        "2026-10-01",
                        -100_00,
                        Some("DE75100200370000000011"),
                    )],
                ),
                account(
                    "s",
                    AccountType::Savings,
                    "DE75100200370000000011",
                    vec![tx("in", "2026-10-06", 100_00, None)],
                ),
            ],
        };
        assert_eq!(mark_own_transfers(&mut u), 0);
    }
}
