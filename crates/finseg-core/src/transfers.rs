//! Own-account transfers (SPEC §4): a debit on one of a user's accounts
//! and a credit of the same amount on another of the user's accounts,
//! booked within a few days, are labelled `OWNACCOUNTTRANSFER` so that
//! they count in no income or spending figure. A credit-card settlement
//! is such a transfer when the card account is one of the user's accounts.

use crate::labels::Label;
use crate::segments::{Period, UserData};
use crate::{AccountType, Amount, Date};

/// Days apart the two bookings of one transfer may be (weekends, cut-offs).
pub const MAX_DAYS_APART: i32 = 4;

pub fn normalise_iban(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// What pairing reads of a user's accounts, whatever their representation.
/// Bookings of an account are in the order the rules see them (by date,
/// then id).
pub trait TransferView {
    fn accounts(&self) -> usize;
    fn account_type(&self, account: usize) -> AccountType;
    fn bookings(&self, account: usize) -> usize;
    fn amount(&self, account: usize, booking: usize) -> Amount;
    fn date(&self, account: usize, booking: usize) -> Date;
    /// Whether the booking's counterpart IBAN is the IBAN of `other`.
    fn names_account(&self, account: usize, booking: usize, other: usize) -> bool;
    /// The bookings dated within `window`, among others perhaps (a view
    /// whose bookings are sorted by date narrows the range).
    fn around(&self, account: usize, _window: (Date, Date)) -> std::ops::Range<usize> {
        0..self.bookings(account)
    }
}

/// The own-account transfer pairs `(account, booking, account, booking)`:
/// debit first. Only bookings dated within `window` take part, so that the
/// answer does not depend on how much history was read.
pub fn pairs<V: TransferView + ?Sized>(
    view: &V,
    window: (Date, Date),
) -> Vec<(usize, usize, usize, usize)> {
    let n = view.accounts();
    if n < 2 {
        return Vec::new();
    }
    // One pass over the bookings in the window: credits by amount, then
    // account and booking (the order they were found in), and debits in
    // account and booking order; each with its day.
    let (mut credits, mut debits) = (Vec::new(), Vec::new());
    for a in 0..n {
        for t in view.around(a, window) {
            let amount = view.amount(a, t);
            if amount == Amount::ZERO {
                continue;
            }
            let d = view.date(a, t);
            if d < window.0 || d > window.1 {
                continue;
            }
            if amount > Amount::ZERO {
                credits.push((amount, a, t, d.days()));
            } else {
                debits.push((-amount, a, t, d.days()));
            }
        }
    }
    if credits.is_empty() || debits.is_empty() {
        return Vec::new();
    }
    credits.sort_unstable();
    // Only credits can be taken twice (each debit is looked at once).
    let mut taken = vec![false; credits.len()];
    let only_own = |a: usize| {
        matches!(
            view.account_type(a),
            AccountType::CreditCard | AccountType::Savings | AccountType::Pocket
        )
    };
    let mut out = Vec::new();
    for (paid, a, t, day) in debits {
        let first = credits.partition_point(|c| c.0 < paid);
        let candidates = credits[first..]
            .iter()
            .enumerate()
            .take_while(|(_, c)| c.0 == paid);
        let mut best: Option<(i32, usize)> = None;
        for (k, &(_, b, c, credit_day)) in candidates {
            if b == a || taken[first + k] {
                continue;
            }
            let gap = (credit_day - day).abs();
            if gap > MAX_DAYS_APART {
                continue;
            }
            // Evidence that the two belong together beyond the amount:
            // an IBAN that names the other account, or an account kind
            // that is only ever fed from the user's own accounts.
            let evidence = view.names_account(a, t, b)
                || view.names_account(b, c, a)
                || only_own(b)
                || only_own(a);
            if evidence && best.is_none_or(|(g, _)| gap < g) {
                best = Some((gap, first + k));
            }
        }
        if let Some((_, k)) = best {
            taken[k] = true;
            out.push((a, t, credits[k].1, credits[k].2));
        }
    }
    out
}

struct Rows<'a> {
    user: &'a UserData,
    ibans: Vec<Option<String>>,
}

impl TransferView for Rows<'_> {
    fn accounts(&self) -> usize {
        self.user.accounts.len()
    }
    fn account_type(&self, a: usize) -> AccountType {
        self.user.accounts[a].account_type
    }
    fn bookings(&self, a: usize) -> usize {
        self.user.accounts[a].transactions.len()
    }
    fn amount(&self, a: usize, t: usize) -> Amount {
        self.user.accounts[a].transactions[t].amount
    }
    fn date(&self, a: usize, t: usize) -> Date {
        self.user.accounts[a].transactions[t].booking_date
    }
    fn names_account(&self, a: usize, t: usize, other: usize) -> bool {
        match (
            &self.user.accounts[a].transactions[t].counterpart_iban,
            &self.ibans[other],
        ) {
            (Some(x), Some(y)) => normalise_iban(x) == *y,
            _ => false,
        }
    }
}

/// Marks matching pairs in place; returns how many pairs were found.
pub fn mark_own_transfers(user: &mut UserData) -> usize {
    mark_own_transfers_within(user, (Date::from_days(i32::MIN), Date::from_days(i32::MAX)))
}

/// The days whose bookings take part in pairing for a job over `period`:
/// the period and `MAX_DAYS_APART` days on either side, so that both halves
/// of a transfer at its edges are seen, and no answer depends on how much
/// history was read.
pub fn window_around(period: Period) -> (Date, Date) {
    (
        period.from.add_days(-MAX_DAYS_APART),
        period.to.add_days(MAX_DAYS_APART),
    )
}

/// Marks the pairs among the bookings around `period` (`window_around`).
pub fn mark_own_transfers_around(user: &mut UserData, period: Period) -> usize {
    mark_own_transfers_within(user, window_around(period))
}

/// Marks the pairs among the bookings dated within `window`.
fn mark_own_transfers_within(user: &mut UserData, window: (Date, Date)) -> usize {
    let label = Label::OWN_ACCOUNT_TRANSFER;
    let rows = Rows {
        ibans: user
            .accounts
            .iter()
            .map(|a| a.iban.as_deref().map(normalise_iban))
            .collect(),
        user,
    };
    let found = pairs(&rows, window);
    for &(a, t, b, c) in &found {
        user.accounts[a].transactions[t].labels.insert(label);
        user.accounts[b].transactions[c].labels.insert(label);
    }
    found.len()
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
    fn the_closest_credit_wins_and_pairs_once() {
        let savings = "DE75100200370000000011";
        let mut u = UserData {
            id: "u".into(),
            accounts: vec![
                account(
                    "c",
                    AccountType::Checking,
                    "DE02100200300000000010",
                    vec![
                        tx("out1", "2026-10-01", -100_00, None),
                        tx("out2", "2026-10-03", -100_00, None),
                        tx("out3", "2026-10-04", -100_00, None),
                    ],
                ),
                account(
                    "s",
                    AccountType::Savings,
                    savings,
                    vec![
                        tx("in-far", "2026-10-05", 100_00, None),
                        tx("in-near", "2026-10-02", 100_00, None),
                    ],
                ),
            ],
        };
        u.sort_bookings();
        let window = (
            Date::parse("2026-09-01").unwrap(),
            Date::parse("2026-10-31").unwrap(),
        );
        // Debits in booking order, each with the closest credit not yet taken.
        let rows = Rows {
            user: &u,
            ibans: vec![None, Some(savings.to_owned())],
        };
        assert_eq!(pairs(&rows, window), [(0, 0, 1, 0), (0, 1, 1, 1)]);
        // Outside the window nothing pairs.
        let october_3 = Date::parse("2026-10-03").unwrap();
        assert_eq!(pairs(&rows, (october_3, october_3)), []);
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
