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

/// Whether `normalise_iban(raw) == normalised`, without allocating: the
/// segment index asks it for every booking with a counterpart IBAN.
pub fn iban_matches(raw: &str, normalised: &str) -> bool {
    // Stored IBANs are mostly in electronic format already.
    if raw == normalised {
        return normalised
            .chars()
            .all(|c| !c.is_whitespace() && c == c.to_ascii_uppercase());
    }
    let mut expected = normalised.chars();
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| expected.next() == Some(c.to_ascii_uppercase()))
        && expected.next().is_none()
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
    /// Whether the booking has a counterpart account at all (a cash
    /// withdrawal, a card payment or a bank fee has none).
    fn has_counterpart_account(&self, account: usize, booking: usize) -> bool;
    /// Whether the booking settles a credit card (labelled `CARDSETTLEMENT`).
    fn is_card_settlement(&self, account: usize, booking: usize) -> bool;
    /// The bookings dated within `window`, among others perhaps (a view
    /// whose bookings are sorted by date narrows the range).
    fn around(&self, account: usize, _window: (Date, Date)) -> std::ops::Range<usize> {
        0..self.bookings(account)
    }
}

/// The own-account transfer pairs `(account, booking, account, booking)`:
/// debit first. Only bookings dated within `window` take part, so that the
/// answer does not depend on how much history was read.
///
/// Debits are matched in account and booking order, each with the closest
/// credit of the same amount (within [`MAX_DAYS_APART`], with evidence) not
/// taken yet; among equally close credits the first by account and booking.
/// A segment job calls this for every user, so it is built for the common
/// case, a debit no credit of the window matches: one bit test.
pub fn pairs<V: TransferView + ?Sized>(
    view: &V,
    window: (Date, Date),
) -> Vec<(usize, usize, usize, usize)> {
    let n = view.accounts();
    if n < 2 {
        return Vec::new();
    }
    // The credits in the window, by amount, then account and booking (the
    // order they are found in); and a 64-bit filter of their amounts.
    let mut credits: Vec<Credit> = Vec::new();
    let mut filter = 0u64;
    for a in 0..n {
        for t in view.around(a, window) {
            let amount = view.amount(a, t);
            if amount <= Amount::ZERO {
                continue;
            }
            let d = view.date(a, t);
            if d < window.0 || d > window.1 {
                continue;
            }
            filter |= amount_bit(amount);
            credits.push(Credit {
                amount,
                account: a,
                booking: t,
                day: d.days(),
                taken: false,
            });
        }
    }
    if credits.is_empty() {
        return Vec::new();
    }
    credits.sort_unstable_by_key(|c| (c.amount, c.account, c.booking));
    let only_own = |a: usize| {
        matches!(
            view.account_type(a),
            AccountType::CreditCard | AccountType::Savings | AccountType::Pocket
        )
    };
    let mut out = Vec::new();
    for a in 0..n {
        for t in view.around(a, window) {
            let amount = view.amount(a, t);
            if amount >= Amount::ZERO {
                continue;
            }
            let paid = -amount;
            if filter & amount_bit(paid) == 0 {
                continue;
            }
            let named = view.has_counterpart_account(a, t);
            if !named && !view.is_card_settlement(a, t) {
                continue;
            }
            let d = view.date(a, t);
            if d < window.0 || d > window.1 {
                continue;
            }
            let day = d.days();
            let first = credits.partition_point(|c| c.amount < paid);
            let mut best: Option<(i32, usize)> = None;
            for (k, c) in credits[first..].iter().enumerate() {
                if c.amount != paid {
                    break;
                }
                if c.account == a || c.taken {
                    continue;
                }
                let gap = (c.day - day).abs();
                if gap > MAX_DAYS_APART || best.is_some_and(|(g, _)| gap >= g) {
                    continue;
                }
                // Evidence that the two belong together beyond the amount:
                // an IBAN that names the other account, or an account kind
                // that is only ever fed from the user's own accounts.
                let (b, c_booking) = (c.account, c.booking);
                if (view.names_account(a, t, b)
                    || view.names_account(b, c_booking, a)
                    || only_own(b)
                    || only_own(a))
                    && sides_can_pair(view, (a, t), (b, c_booking))
                {
                    best = Some((gap, first + k));
                }
            }
            if let Some((_, k)) = best {
                credits[k].taken = true;
                out.push((a, t, credits[k].account, credits[k].booking));
            }
        }
    }
    out
}

/// Whether a debit and a credit can be the two sides of one transfer:
/// money moved between accounts names a counterpart account, so a cash
/// withdrawal, a card payment or a bank fee (which name none) never is,
/// whatever a booking of the same amount elsewhere. The exception is a
/// credit card's settlement: banks book the debit without the card
/// account, and issuers the credit without the paying account; it pairs
/// with a credit on a credit-card account only. A credit without a
/// counterpart account otherwise pairs only with a debit that names its
/// account.
fn sides_can_pair<V: TransferView + ?Sized>(
    view: &V,
    (a, t): (usize, usize),
    (b, c): (usize, usize),
) -> bool {
    let card_credit = view.account_type(b) == AccountType::CreditCard;
    let debit_ok =
        view.has_counterpart_account(a, t) || (view.is_card_settlement(a, t) && card_credit);
    let credit_ok =
        view.has_counterpart_account(b, c) || card_credit || view.names_account(a, t, b);
    debit_ok && credit_ok
}

/// A credit that pairing may match with a debit.
struct Credit {
    amount: Amount,
    account: usize,
    booking: usize,
    day: i32,
    taken: bool,
}

/// One of 64 bits for an amount (a multiplicative hash: round amounts differ
/// in their high bits as much as in their low ones).
fn amount_bit(amount: Amount) -> u64 {
    1 << ((amount.cents() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
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
            (Some(x), Some(y)) => iban_matches(x, y),
            _ => false,
        }
    }
    fn has_counterpart_account(&self, a: usize, t: usize) -> bool {
        self.user.accounts[a].transactions[t]
            .counterpart_iban
            .is_some()
    }
    fn is_card_settlement(&self, a: usize, t: usize) -> bool {
        self.user.accounts[a].transactions[t]
            .labels
            .contains(card_settlement())
    }
}

/// The label of a credit card's settlement.
pub fn card_settlement() -> Label {
    static LABEL: std::sync::OnceLock<Label> = std::sync::OnceLock::new();
    *LABEL.get_or_init(|| Label::parse("CARDSETTLEMENT").expect("taxonomy label"))
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
    use proptest::prelude::*;

    proptest! {
        /// The comparison without allocation says what comparing the
        /// normalised text says, for any text on either side.
        #[test]
        fn iban_matches_is_normalise_and_compare(
            raw in "[dDeE0-9 \t]{0,8}",
            other in "[dDeE0-9 \t]{0,8}",
        ) {
            prop_assert_eq!(iban_matches(&raw, &other), normalise_iban(&raw) == other);
            let normalised = normalise_iban(&other);
            prop_assert_eq!(
                iban_matches(&raw, &normalised),
                normalise_iban(&raw) == normalised
            );
            prop_assert!(iban_matches(&other, &normalised));
        }
    }

    /// The first implementation, kept as the reference: the same pairs `(account, booking, account, booking)`:
    /// debit first. Only bookings dated within `window` take part, so that the
    /// answer does not depend on how much history was read.
    fn pairs_reference<V: TransferView + ?Sized>(
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
                let evidence = (view.names_account(a, t, b)
                    || view.names_account(b, c, a)
                    || only_own(b)
                    || only_own(a))
                    && sides_can_pair(view, (a, t), (b, c));
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

    /// A user's bookings as plain columns: (amount in cents, day, the
    /// account the counterpart IBAN names: `Some(99)` for a foreign
    /// account), sorted by day per account.
    type PlainBooking = (i64, i32, Option<usize>);

    #[derive(Debug, Clone)]
    struct Plain(Vec<(AccountType, Vec<PlainBooking>)>);

    impl TransferView for Plain {
        fn accounts(&self) -> usize {
            self.0.len()
        }
        fn account_type(&self, a: usize) -> AccountType {
            self.0[a].0
        }
        fn bookings(&self, a: usize) -> usize {
            self.0[a].1.len()
        }
        fn amount(&self, a: usize, t: usize) -> Amount {
            Amount::from_cents(self.0[a].1[t].0)
        }
        fn date(&self, a: usize, t: usize) -> Date {
            Date::from_days(self.0[a].1[t].1)
        }
        fn names_account(&self, a: usize, t: usize, other: usize) -> bool {
            self.0[a].1[t].2 == Some(other)
        }
        fn has_counterpart_account(&self, a: usize, t: usize) -> bool {
            self.0[a].1[t].2.is_some()
        }
        fn is_card_settlement(&self, a: usize, t: usize) -> bool {
            // Some bookings without a counterpart settle a card.
            self.0[a].1[t].0 % 3 == 0
        }
        fn around(&self, a: usize, window: (Date, Date)) -> std::ops::Range<usize> {
            let days = &self.0[a].1;
            let start = days.partition_point(|b| b.1 < window.0.days());
            let end = days.partition_point(|b| b.1 <= window.1.days());
            start..end.max(start)
        }
    }

    fn plain_user() -> impl Strategy<Value = Plain> {
        let kind = prop_oneof![
            Just(AccountType::Checking),
            Just(AccountType::Savings),
            Just(AccountType::CreditCard),
        ];
        // Few amounts and days, so that candidates collide and tie.
        let booking = (
            prop_oneof![(-6i64..=6).prop_map(|k| k * 50_00), -3_000_00i64..3_000_00],
            0i32..40,
            prop::option::of(prop_oneof![0usize..4, Just(99)]),
        );
        let account = (kind, prop::collection::vec(booking, 0..25)).prop_map(|(k, mut b)| {
            b.sort_by_key(|x| x.1);
            (k, b)
        });
        prop::collection::vec(account, 0..5).prop_map(Plain)
    }

    proptest! {
        #[test]
        fn pairs_equal_the_reference(u in plain_user(), from in 0i32..20, len in 0i32..30) {
            let window = (Date::from_days(from), Date::from_days(from + len));
            prop_assert_eq!(pairs(&u, window), pairs_reference(&u, window));
        }
    }

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
                        // Banks book a card's settlement without the card account.
                        Tx {
                            labels: [card_settlement()].into_iter().collect(),
                            ..tx("card-settlement", "2026-10-03", -512_40, None)
                        },
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

    /// Money that names no counterpart account (a cash withdrawal, a card
    /// payment) is never an own-account transfer, whatever a booking of
    /// the same amount on the user's savings, pocket or card account.
    #[test]
    fn a_booking_without_a_counterpart_account_is_no_transfer() {
        let savings = "DE75100200370000000011";
        for kind in [
            AccountType::Savings,
            AccountType::Pocket,
            AccountType::CreditCard,
        ] {
            let mut u = UserData {
                id: "u".into(),
                accounts: vec![
                    account(
                        "c",
                        AccountType::Checking,
                        "DE02100200300000000010",
                        vec![
                            tx("atm", "2026-10-01", -200_00, None),
                            tx("card-payment", "2026-10-05", -35_50, None),
                        ],
                    ),
                    account(
                        "s",
                        kind,
                        savings,
                        vec![
                            tx(
                                "deposit",
                                "2026-10-02",
                                200_00,
                                Some("DE21100200510000000013"),
                            ),
                            tx("top-up", "2026-10-05", 35_50, None),
                        ],
                    ),
                ],
            };
            assert_eq!(mark_own_transfers(&mut u), 0, "{kind:?}");
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
                        tx("out1", "2026-10-01", -100_00, Some(savings)),
                        tx("out2", "2026-10-03", -100_00, Some(savings)),
                        tx("out3", "2026-10-04", -100_00, Some(savings)),
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
