//! [`ColumnarUser`]: a user's accounts, own-account transfer marks, and the
//! segment rules evaluated on them.

use crate::labels::{Label, LabelSet};
use crate::segments::{Flows, Ledger, Period, UserData, insurance};
use crate::transfers::{self, TransferView};
use crate::{AccountType, Amount, Date};

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnarUser {
    pub id: Box<str>,
    pub accounts: Box<[ColumnarAccount]>,
}

impl ColumnarUser {
    /// Asks the CPU to start loading this user's booking columns. A job
    /// walks the users one after another, and each account's columns lie
    /// elsewhere on the heap: without the hint every account's first touch
    /// waits for memory (perf put a quarter of a `financialBreakdown` job on
    /// those loads). Call it for the next user before evaluating this one.
    pub fn prefetch_bookings(&self) {
        for a in &self.accounts {
            prefetch(&a.days);
            prefetch(&a.cents);
            prefetch(&a.tags);
        }
    }

    /// As [`ColumnarUser::prefetch_bookings`], for the balance rules: the
    /// monthly lows most users are decided from (perf put half of a
    /// `lowBalance` job's rule on their first touch). Needs the accounts
    /// in cache: see [`ColumnarUser::prefetch_accounts`].
    pub fn prefetch_lows(&self) {
        for a in &self.accounts {
            prefetch(&a.lows);
        }
    }

    /// The accounts themselves, whose fields point to the columns: call it
    /// a user ahead of the columns' prefetch.
    pub fn prefetch_accounts(&self) {
        prefetch(&self.accounts);
    }

    /// As [`ColumnarUser::prefetch_bookings`], for the insurance rule: the
    /// candidate payments' positions, facts and ids, and the day and amount
    /// columns they point into.
    pub fn prefetch_insurance(&self) {
        for a in &self.accounts {
            if let Some(ins) = &a.insurance {
                prefetch(&a.days);
                prefetch(&a.cents);
                prefetch(&ins.facts);
                prefetch(ins.text.as_bytes());
                prefetch(&ins.payments);
                prefetch(&ins.positions);
                prefetch(&ins.ids);
            }
        }
    }
}

/// Prefetches every cache line of `s` (a hint: it neither faults nor
/// changes anything, and is left out where there is no such instruction).
#[allow(unsafe_code)]
pub(super) fn prefetch<T>(s: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let start = s.as_ptr().cast::<i8>();
        for offset in (0..std::mem::size_of_val(s)).step_by(64) {
            // SAFETY: the address lies within `s`; a prefetch only hints
            // the cache and never faults.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    start.add(offset),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = s;
}

/// [`RawBooking::names_account`] of a booking whose counterpart account is
/// none of the user's.
pub const FOREIGN_ACCOUNT: u8 = 254;

/// The position of the user's account whose IBAN `counterpart` is, or
/// [`FOREIGN_ACCOUNT`]; `None` without a counterpart account. A position
/// beyond 253 is returned as 255, which no tag can hold (the user then
/// stays out of the index).
pub fn names_account(counterpart: Option<&str>, ibans: &[Option<String>]) -> Option<u8> {
    let c = counterpart?;
    let found = ibans
        .iter()
        .position(|i| i.as_deref().is_some_and(|i| transfers::iban_matches(c, i)));
    Some(match found {
        None => FOREIGN_ACCOUNT,
        Some(i) => u8::try_from(i)
            .ok()
            .filter(|&i| i < FOREIGN_ACCOUNT)
            .unwrap_or(u8::MAX),
    })
}

/// An account's bookings with the user's own-account transfer marks.
pub struct Marked<'a> {
    pub(super) account: &'a ColumnarAccount,
    pub(super) transfers: Vec<bool>,
}

impl Flows for Marked<'_> {
    fn flows(&self) -> usize {
        self.account.days.len()
    }
    fn flow_date(&self, i: usize) -> Date {
        self.account.booking_date(i)
    }
    fn flow_amount(&self, i: usize) -> Amount {
        self.account.booking_amount(i)
    }
    fn flow_labels(&self, i: usize) -> LabelSet {
        let mut set = tag_labels(self.account.tags[i]);
        if self.transfers[i] {
            set.insert(own_transfer());
        }
        set
    }
    fn flow_id(&self, _: usize) -> Option<&str> {
        None
    }
}

pub(super) fn own_transfer() -> Label {
    Label::OWN_ACCOUNT_TRANSFER
}

impl TransferView for ColumnarUser {
    fn accounts(&self) -> usize {
        self.accounts.len()
    }
    fn account_type(&self, a: usize) -> AccountType {
        self.accounts[a].account_type
    }
    fn bookings(&self, a: usize) -> usize {
        self.accounts[a].days.len()
    }
    fn amount(&self, a: usize, t: usize) -> Amount {
        self.accounts[a].booking_amount(t)
    }
    fn date(&self, a: usize, t: usize) -> Date {
        self.accounts[a].booking_date(t)
    }
    fn names_account(&self, a: usize, t: usize, other: usize) -> bool {
        tag_names(self.accounts[a].tags[t]) == Some(other)
    }
    fn has_counterpart_account(&self, a: usize, t: usize) -> bool {
        tag_names(self.accounts[a].tags[t]).is_some()
    }
    fn is_card_settlement(&self, a: usize, t: usize) -> bool {
        tag_labels(self.accounts[a].tags[t]).contains(transfers::card_settlement())
    }
    fn around(&self, a: usize, window: (Date, Date)) -> std::ops::Range<usize> {
        // Bookings are sorted by day.
        let account = &self.accounts[a];
        let (from, to) = (
            window.0.days() - account.base,
            window.1.days() - account.base,
        );
        let start = account.days.partition_point(|d| i32::from(*d) < from);
        let end = account.days.partition_point(|d| i32::from(*d) <= to);
        start..end.max(start)
    }
}

impl ColumnarUser {
    pub fn from_user(u: &UserData) -> Option<Self> {
        let ibans: Vec<Option<String>> = u
            .accounts
            .iter()
            .map(|a| a.iban.as_deref().map(transfers::normalise_iban))
            .collect();
        Some(ColumnarUser {
            id: u.id.as_str().into(),
            accounts: u
                .accounts
                .iter()
                .map(|a| ColumnarAccount::from_account(a, &ibans))
                .collect::<Option<_>>()?,
        })
    }

    /// The accounts with own-account transfers marked among the bookings
    /// around `period` (as the job engine marks them).
    pub fn marked(&self, period: Period) -> Vec<Marked<'_>> {
        let mut marked: Vec<Marked<'_>> = self
            .accounts
            .iter()
            .map(|a| Marked {
                account: a,
                transfers: vec![false; a.days.len()],
            })
            .collect();
        for (a, t, b, c) in transfers::pairs(self, transfers::window_around(period)) {
            marked[a].transfers[t] = true;
            marked[b].transfers[c] = true;
        }
        marked
    }

    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.id.len()
            + self
                .accounts
                .iter()
                .map(ColumnarAccount::size_bytes)
                .sum::<usize>()
    }

    /// The user's candidate insurance payments, per account, handed to `f`
    /// (their ids are written into a buffer that lives for the call).
    pub fn with_insurance_payments<R>(
        &self,
        f: impl FnOnce(&[insurance::AccountPayments<'_>]) -> R,
    ) -> R {
        let mut arena = String::new();
        let ids: Vec<Vec<(usize, usize)>> = self
            .accounts
            .iter()
            .map(|a| a.insurance_ids(&mut arena))
            .collect();
        let accounts: Vec<insurance::AccountPayments<'_>> = self
            .accounts
            .iter()
            .zip(&ids)
            .map(|(a, ids)| insurance::AccountPayments {
                account_id: &a.id,
                payments: a.insurance_payments(&arena, ids),
            })
            .collect();
        f(&accounts)
    }

    /// Whether any account has a booking within `period`.
    pub fn has_booking_in(&self, period: Period) -> bool {
        self.accounts
            .iter()
            .any(|a| a.has_booking_in(period.from, period.to))
    }
}
