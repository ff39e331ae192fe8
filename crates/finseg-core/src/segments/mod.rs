//! Segment rules (docs/segments.md) as pure functions over one user's data,
//! and the data they read.
//!
//! The rules are written against the [`Ledger`] and [`Flows`] traits, so
//! that rows loaded from the database ([`UserData`]) and the segment index
//! give the same answers. Each segment type ([`crate::segment_types`])
//! calls its rule here. Nothing here knows about storage, HTTP or the
//! clock: the job's creation date is an argument.

pub mod balances;
pub mod breakdown;
pub mod high_balance;
pub mod insurance;
pub mod low_balance;
pub mod stats;
pub mod summary;
mod window;

pub use window::{LoadSpec, Window};

use crate::date::Month;
use crate::labels::LabelSet;
use crate::{AccountType, Amount, Date};

/// One transaction as the segment rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    pub id: String,
    pub amount: Amount,
    pub booking_date: Date,
    pub labels: LabelSet,
    pub purpose: Option<String>,
    pub counterpart_name: Option<String>,
    pub counterpart_iban: Option<String>,
    pub creditor_id: Option<String>,
    pub mandate_reference: Option<String>,
}

impl Tx {
    /// A transaction with only the fields balances need.
    pub fn plain(id: &str, booking_date: Date, amount: Amount) -> Self {
        Tx {
            id: id.to_owned(),
            amount,
            booking_date,
            labels: LabelSet::default(),
            purpose: None,
            counterpart_name: None,
            counterpart_iban: None,
            creditor_id: None,
            mandate_reference: None,
        }
    }
}

/// One account with everything the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountData {
    pub id: String,
    pub account_type: AccountType,
    pub iban: Option<String>,
    /// Booked balance at the end of `balance_date`.
    pub balance: Amount,
    pub balance_date: Date,
    /// The stated first day of complete history, if the client gave one.
    pub data_since: Option<Date>,
    /// Client-supplied end-of-day balances, sorted by date.
    pub daily_balances: Vec<(Date, Amount)>,
    /// Sorted by booking date.
    pub transactions: Vec<Tx>,
}

impl AccountData {
    /// SPEC §3: the stated `dataSince`, else the earliest booking date; an
    /// account without any transaction is known from its balance date on.
    pub fn effective_data_since(&self) -> Date {
        Ledger::effective_data_since(self)
    }
}

/// What the balance rules read of an account, whatever its representation:
/// the job engine's rows ([`AccountData`]) or the columnar segment index
/// ([`crate::segment_index`]). The rules are written once against this trait, so
/// both representations give the same answers by construction.
pub trait Ledger {
    fn account_id(&self) -> &str;
    fn account_type(&self) -> AccountType;
    /// Booked balance at the end of `balance_date`.
    fn balance(&self) -> Amount;
    fn balance_date(&self) -> Date;
    /// The stated first day of complete history, if the client gave one.
    fn data_since(&self) -> Option<Date>;
    /// Client-supplied end-of-day balances, sorted by date.
    fn daily_balances(&self) -> &[(Date, Amount)];
    /// The number of bookings; they are sorted by booking date.
    fn bookings(&self) -> usize;
    fn booking_date(&self, i: usize) -> Date;
    fn booking_amount(&self, i: usize) -> Amount;

    /// The index of the first booking dated after `day`.
    fn first_booking_after(&self, day: Date) -> usize {
        let (mut lo, mut hi) = (0, self.bookings());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.booking_date(mid) <= day {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The lowest known end-of-day balance of `month` where the
    /// representation keeps it precomputed: `Some(None)` when no day of the
    /// month has a known balance; `None` when it must be computed.
    fn month_low(&self, _month: Month) -> Option<Option<Amount>> {
        None
    }

    /// SPEC §3: the stated `dataSince`, else the earliest booking date; an
    /// account without any transaction is known from its balance date on.
    fn effective_data_since(&self) -> Date {
        self.data_since().unwrap_or_else(|| {
            if self.bookings() == 0 {
                self.balance_date()
            } else {
                self.booking_date(0).min(self.balance_date())
            }
        })
    }
}

/// What the money-flow rules (breakdown, summary) read of an account's
/// bookings, whatever its representation. Bookings are sorted by date.
pub trait Flows {
    fn flows(&self) -> usize;
    fn flow_date(&self, i: usize) -> Date;
    fn flow_amount(&self, i: usize) -> Amount;
    /// The booking's labels, own-account transfer marks included.
    fn flow_labels(&self, i: usize) -> LabelSet;
    /// The booking's id, where the representation keeps ids.
    fn flow_id(&self, i: usize) -> Option<&str>;

    /// The indexes of the bookings dated within `period`.
    fn flows_within(&self, period: Period) -> std::ops::Range<usize> {
        let first_from = |day: Date| {
            let (mut lo, mut hi) = (0, self.flows());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.flow_date(mid) < day {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        first_from(period.from)..first_from(period.to.add_days(1))
    }
}

impl Flows for AccountData {
    fn flows(&self) -> usize {
        self.transactions.len()
    }
    fn flow_date(&self, i: usize) -> Date {
        self.transactions[i].booking_date
    }
    fn flow_amount(&self, i: usize) -> Amount {
        self.transactions[i].amount
    }
    fn flow_labels(&self, i: usize) -> LabelSet {
        self.transactions[i].labels
    }
    fn flow_id(&self, i: usize) -> Option<&str> {
        Some(&self.transactions[i].id)
    }
}

impl Ledger for AccountData {
    fn account_id(&self) -> &str {
        &self.id
    }
    fn account_type(&self) -> AccountType {
        self.account_type
    }
    fn balance(&self) -> Amount {
        self.balance
    }
    fn balance_date(&self) -> Date {
        self.balance_date
    }
    fn data_since(&self) -> Option<Date> {
        self.data_since
    }
    fn daily_balances(&self) -> &[(Date, Amount)] {
        &self.daily_balances
    }
    fn bookings(&self) -> usize {
        self.transactions.len()
    }
    fn booking_date(&self, i: usize) -> Date {
        self.transactions[i].booking_date
    }
    fn booking_amount(&self, i: usize) -> Amount {
        self.transactions[i].amount
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserData {
    pub id: String,
    pub accounts: Vec<AccountData>,
}

impl UserData {
    /// Puts every account's bookings in the order the rules expect: by
    /// booking date, then id.
    pub fn sort_bookings(&mut self) {
        for a in &mut self.accounts {
            a.transactions.sort_by(|x, y| {
                x.booking_date
                    .cmp(&y.booking_date)
                    .then_with(|| x.id.cmp(&y.id))
            });
        }
    }
}

/// The months a job evaluates and their first and last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// SPEC §5: the last `n` complete months are the `n` calendar months
    /// before the month that contains `creation_date`.
    pub fn last_complete_months(creation_date: Date, n: u32) -> Period {
        let current = creation_date.month();
        Period {
            from: current.plus(-(n as i32)).first_day(),
            to: current.plus(-1).last_day(),
        }
    }

    pub fn months(&self) -> Vec<Month> {
        let mut out = Vec::new();
        let mut m = self.from.month();
        while m <= self.to.month() {
            out.push(m);
            m = m.succ();
        }
        out
    }

    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }
}

/// What a rule says about one user: `M` is the segment type's member.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<M> {
    /// In the segment; the value is the user's entry with its evidence.
    Member(M),
    /// Evaluated and not in the segment.
    NotMember,
    /// Not enough data to decide (counted in `usersWithoutData`).
    WithoutData,
}

impl<M> Verdict<M> {
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Verdict<N> {
        match self {
            Verdict::Member(m) => Verdict::Member(f(m)),
            Verdict::NotMember => Verdict::NotMember,
            Verdict::WithoutData => Verdict::WithoutData,
        }
    }
}

/// Why a user is not in a segment: a rule's figures stop early with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    NotMember,
    WithoutData,
}

impl<M> From<Outside> for Verdict<M> {
    fn from(o: Outside) -> Self {
        match o {
            Outside::NotMember => Verdict::NotMember,
            Outside::WithoutData => Verdict::WithoutData,
        }
    }
}

/// A verdict with the member in its stored form: JSON text, or a type's
/// packed text (what the job engine stores; the type decodes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    Member(String),
    NotMember,
    WithoutData,
}

impl From<Outside> for Rendered {
    fn from(o: Outside) -> Self {
        match o {
            Outside::NotMember => Rendered::NotMember,
            Outside::WithoutData => Rendered::WithoutData,
        }
    }
}

impl<M: serde::Serialize> From<Verdict<M>> for Rendered {
    fn from(v: Verdict<M>) -> Self {
        match v {
            Verdict::Member(m) => Rendered::Member(
                serde_json::to_string(&m).expect("a member is written as JSON without fail"),
            ),
            Verdict::NotMember => Rendered::NotMember,
            Verdict::WithoutData => Rendered::WithoutData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_months_before_the_creation_month() {
        let p = Period::last_complete_months(Date::parse("2026-03-01").unwrap(), 3);
        assert_eq!(p.from.to_string(), "2025-12-01");
        assert_eq!(p.to.to_string(), "2026-02-28");
        let p = Period::last_complete_months(Date::parse("2026-03-31").unwrap(), 1);
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2026-02-01".into(), "2026-02-28".into())
        );
        assert_eq!(p.months().len(), 1);
    }
}
