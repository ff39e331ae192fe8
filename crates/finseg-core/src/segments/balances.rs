//! End-of-day balances (SPEC §6).
//!
//! The balance at the end of day d is the client-supplied daily balance of d
//! if there is one; otherwise it is reconstructed from the account's
//! reported balance B at its balance date D:
//! - for d < D: B minus the amounts booked after d up to D;
//! - for d > D: B plus the amounts booked after D up to d.
//!
//! Both formulas give EOD(d+1) = EOD(d) + net(d+1), so a range of days is
//! walked forward from one reconstructed start value. A day before the
//! account's `dataSince` has no known balance unless the client supplied one.

use super::Ledger;
use crate::date::Month;
use crate::{Date, Total};

/// The reconstructed balance at the end of `day` (ignoring supplied daily
/// balances and `dataSince`). A [`Total`]: the bookings of one account may
/// move it beyond the range of a single amount.
pub fn reconstructed<L: Ledger + ?Sized>(account: &L, day: Date) -> Total {
    let anchor = account.balance_date();
    // Bookings are sorted by date: sum the run between the two days.
    let (after, upto) = if day < anchor {
        (day, anchor)
    } else {
        (anchor, day)
    };
    let first = account.first_booking_after(after);
    let last = account.first_booking_after(upto);
    let moved: Total = (first..last).map(|i| account.booking_amount(i)).sum();
    let balance = Total::from(account.balance());
    if day < anchor {
        balance - moved
    } else {
        balance + moved
    }
}

/// One day's end-of-day balance; `None` when it is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayBalance {
    pub day: Date,
    pub balance: Option<Total>,
}

/// The end-of-day balances of `account` for every day from `from` to `to`
/// inclusive, in order.
pub fn daily<L: Ledger + ?Sized>(account: &L, from: Date, to: Date) -> Vec<DayBalance> {
    let mut out = Vec::with_capacity((to.days() - from.days() + 1).max(0) as usize);
    runs(account, from, to, |first, last, balance| {
        let mut day = first;
        while day <= last {
            out.push(DayBalance { day, balance });
            day = day.add_days(1);
        }
    });
    out
}

/// The end-of-day balances from `from` to `to` as runs of days with one
/// balance: `f(first, last, balance)` in order, covering every day once.
/// A run ends before a booking day, a supplied balance and `dataSince`, so
/// the segment rules visit about a quarter as many runs as days.
pub fn runs<L: Ledger + ?Sized>(
    account: &L,
    from: Date,
    to: Date,
    mut f: impl FnMut(Date, Date, Option<Total>),
) {
    if to < from {
        return;
    }
    let known_from = account.effective_data_since();
    // The reconstructed balance at the end of `day`: the bookings up to it
    // are in, `next` is the first one after it.
    let mut running = reconstructed(account, from);
    let bookings = account.bookings();
    let mut next = account.first_booking_after(from);
    let supplied = account.daily_balances();
    let mut si = supplied.partition_point(|(d, _)| *d < from);
    let mut day = from;
    loop {
        let last = if si < supplied.len() && supplied[si].0 == day {
            // A supplied balance holds for its day only.
            f(day, day, Some(supplied[si].1.into()));
            si += 1;
            day
        } else {
            let mut last = to;
            if next < bookings {
                last = last.min(account.booking_date(next).add_days(-1));
            }
            if si < supplied.len() {
                last = last.min(supplied[si].0.add_days(-1));
            }
            if day < known_from {
                last = last.min(known_from.add_days(-1));
            }
            f(day, last, (day >= known_from).then_some(running));
            last
        };
        if last >= to {
            break;
        }
        day = last.add_days(1);
        while next < bookings && account.booking_date(next) == day {
            running += account.booking_amount(next);
            next += 1;
        }
    }
}

/// [`runs`] cut at month ends: `f(month, first, last, balance)`.
pub fn runs_by_month<L: Ledger + ?Sized>(
    account: &L,
    from: Date,
    to: Date,
    mut f: impl FnMut(Month, Date, Date, Option<Total>),
) {
    runs(account, from, to, |first, last, balance| {
        let mut start = first;
        loop {
            let month = start.month();
            let end = last.min(month.last_day());
            f(month, start, end, balance);
            if end == last {
                break;
            }
            start = end.add_days(1);
        }
    });
}

/// The end-of-day balance of one day, if known.
pub fn on<L: Ledger + ?Sized>(account: &L, day: Date) -> Option<Total> {
    daily(account, day, day)[0].balance
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountType;
    use crate::Amount;
    use crate::segments::{AccountData, Tx};
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn account(balance: i64, balance_date: &str, txs: &[(&str, i64)]) -> AccountData {
        let mut transactions: Vec<Tx> = txs
            .iter()
            .enumerate()
            .map(|(i, (day, c))| Tx::plain(&format!("t{i}"), d(day), Amount::from_cents(*c)))
            .collect();
        transactions.sort_by_key(|t| t.booking_date);
        AccountData {
            id: "a".into(),
            account_type: AccountType::Checking,
            iban: None,
            balance: Amount::from_cents(balance),
            balance_date: d(balance_date),
            data_since: None,
            daily_balances: Vec::new(),
            transactions,
        }
    }

    #[test]
    fn backwards_and_forwards_from_the_anchor() {
        // Balance 100.00 at the end of 2026-01-10.
        let a = account(
            100_00,
            "2026-01-10",
            &[
                ("2026-01-05", -30_00),
                ("2026-01-10", 20_00),
                ("2026-01-12", -50_00),
            ],
        );
        // Before 01-05 nothing of the three has happened: 100 - 20 + 30 = 110.
        assert_eq!(
            reconstructed(&a, d("2026-01-04")),
            Amount::from_cents(110_00)
        );
        assert_eq!(
            reconstructed(&a, d("2026-01-05")),
            Amount::from_cents(80_00)
        );
        assert_eq!(
            reconstructed(&a, d("2026-01-09")),
            Amount::from_cents(80_00)
        );
        assert_eq!(
            reconstructed(&a, d("2026-01-10")),
            Amount::from_cents(100_00)
        );
        assert_eq!(
            reconstructed(&a, d("2026-01-12")),
            Amount::from_cents(50_00)
        );
        // dataSince defaults to the first booking: 01-04 is unknown.
        let days = daily(&a, d("2026-01-04"), d("2026-01-06"));
        assert_eq!(days[0].balance, None);
        assert_eq!(days[1].balance, Some(Total::from_cents(80_00)));
    }

    #[test]
    fn balances_beyond_the_range_of_one_amount() {
        // 10,000 of the largest accepted amount after the anchor, and the
        // same before it: each balance is exact, none wraps.
        let max = 999_999_999_999_999;
        let mut txs = vec![("2026-01-05", -max); 10_000];
        txs.extend(vec![("2026-01-20", max); 10_000]);
        let a = account(max, "2026-01-10", &txs);
        let expected_before = i128::from(max) * 10_001;
        let expected_after = i128::from(max) * 10_001;
        assert_eq!(reconstructed(&a, d("2026-01-04")).cents(), expected_before);
        assert_eq!(reconstructed(&a, d("2026-01-20")).cents(), expected_after);
        assert_eq!(
            on(&a, d("2026-01-31")).unwrap().to_string(),
            "100009999999999899.99"
        );
    }

    #[test]
    fn supplied_daily_balances_win() {
        let mut a = account(100_00, "2026-01-10", &[("2026-01-05", -30_00)]);
        a.daily_balances = vec![
            (d("2026-01-06"), Amount::from_cents(-5_00)),
            (d("2026-01-01"), Amount::from_cents(7_00)),
        ];
        a.daily_balances.sort();
        let days = daily(&a, d("2026-01-01"), d("2026-01-07"));
        // Before dataSince, but supplied: known.
        assert_eq!(days[0].balance, Some(Total::from_cents(7_00)));
        assert_eq!(days[1].balance, None);
        assert_eq!(days[5].balance, Some(Total::from_cents(-5_00)));
        // The supplied value holds for its day only.
        assert_eq!(days[6].balance, Some(Total::from_cents(100_00)));
    }

    /// The day-by-day walk the runs replace: the reference they are tested
    /// against.
    fn day_by_day(account: &AccountData, from: Date, to: Date) -> Vec<DayBalance> {
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            let supplied = account.daily_balances.iter().find(|(d, _)| *d == day);
            let balance = match supplied {
                Some((_, b)) => Some(Total::from(*b)),
                None => {
                    (day >= account.effective_data_since()).then(|| reconstructed(account, day))
                }
            };
            out.push(DayBalance { day, balance });
            day = day.add_days(1);
        }
        out
    }

    proptest! {
        /// Runs give every day's balance as the day-by-day definition does,
        /// with supplied balances, `dataSince` and bookings on any day; and
        /// cut at month ends they tile the same days.
        #[test]
        fn runs_agree_with_the_day_by_day_walk(
            balance in -1_000_000i64..1_000_000,
            txs in proptest::collection::vec((0i32..120, -500_000i64..500_000), 0..40),
            supplied in proptest::collection::btree_map(0i32..120, -500_000i64..500_000, 0..8),
            anchor in 0i32..120,
            since in proptest::option::of(0i32..120),
            from in -5i32..120,
            len in -2i32..90,
        ) {
            let base = Date::parse("2025-11-01").unwrap();
            let mut transactions: Vec<Tx> = txs.iter().enumerate()
                .map(|(i, (day, c))| Tx::plain(&format!("t{i}"), base.add_days(*day), Amount::from_cents(*c)))
                .collect();
            transactions.sort_by_key(|t| t.booking_date);
            let account = AccountData {
                id: "a".into(),
                account_type: crate::AccountType::Checking,
                iban: None,
                balance: Amount::from_cents(balance),
                balance_date: base.add_days(anchor),
                data_since: since.map(|d| base.add_days(d)),
                daily_balances: supplied.iter().map(|(d, b)| (base.add_days(*d), Amount::from_cents(*b))).collect(),
                transactions,
            };
            let (from_day, to_day) = (base.add_days(from), base.add_days(from + len));
            prop_assert_eq!(daily(&account, from_day, to_day), day_by_day(&account, from_day, to_day));
            let mut tiled = Vec::new();
            runs_by_month(&account, from_day, to_day, |month, first, last, balance| {
                assert!(first <= last && first.month() == month && last.month() == month);
                let mut day = first;
                while day <= last {
                    tiled.push(DayBalance { day, balance });
                    day = day.add_days(1);
                }
            });
            prop_assert_eq!(tiled, day_by_day(&account, from_day, to_day));
        }

        /// Reconstruction agrees with a naive forward replay from an opening
        /// balance, whatever the anchor day.
        #[test]
        fn agrees_with_forward_replay(
            opening in -1_000_000i64..1_000_000,
            txs in proptest::collection::vec((0i32..120, -500_000i64..500_000), 0..60),
            anchor in 0i32..120,
            from in 0i32..120,
            len in 0i32..60,
        ) {
            let base = Date::parse("2025-11-01").unwrap();
            let mut transactions: Vec<Tx> = txs.iter().enumerate()
                .map(|(i, (day, c))| Tx::plain(&format!("t{i}"), base.add_days(*day), Amount::from_cents(*c)))
                .collect();
            transactions.sort_by_key(|t| t.booking_date);
            let replay = |day: Date| -> Amount {
                Amount::from_cents(opening) + transactions.iter().filter(|t| t.booking_date <= day).map(|t| t.amount).sum()
            };
            let anchor_day = base.add_days(anchor);
            let account = AccountData {
                id: "a".into(),
                account_type: crate::AccountType::Checking,
                iban: None,
                balance: replay(anchor_day),
                balance_date: anchor_day,
                data_since: Some(base.add_days(-400)),
                daily_balances: Vec::new(),
                transactions: transactions.clone(),
            };
            let from_day = base.add_days(from);
            let to_day = from_day.add_days(len);
            let walked = daily(&account, from_day, to_day);
            prop_assert_eq!(walked.len() as i32, len + 1);
            for db in walked {
                prop_assert_eq!(db.balance, Some(replay(db.day).into()));
                prop_assert_eq!(reconstructed(&account, db.day), replay(db.day));
            }
        }
    }
}
