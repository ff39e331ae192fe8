//! [`ColumnarAccount`]: an account's bookings as columns, read by the balance rules.

use crate::segments::{AccountData, Ledger, balances, insurance};
use crate::{AccountType, Amount, Date, Text};

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnarAccount {
    pub(super) id: Box<str>,
    pub(super) account_type: AccountType,
    pub(super) balance: Amount,
    pub(super) balance_date: Date,
    pub(super) data_since: Option<Date>,
    /// The day `days` count from (the first booking's).
    pub(super) base: i32,
    pub(super) days: Box<[u16]>,
    pub(super) cents: Box<[i32]>,
    /// Tag numbers: labels and the own account the counterpart names.
    pub(super) tags: Box<[u16]>,
    pub(super) daily_balances: Box<[(Date, Amount)]>,
    /// The candidate insurance payments' facts and ids.
    pub(super) insurance: Option<Box<AccountInsurance>>,
    /// The lowest known end-of-day balance (cents) of each of the last
    /// months up to the last one with an event, from `lows_from` on
    /// (`NO_LOW`: no known day): `lowBalance` rejects non-members from
    /// these without walking days.
    pub(super) lows_from: i32,
    pub(super) lows: Box<[i32]>,
    /// The low of every month after those (the balance no longer moves), if
    /// every day of them is known.
    pub(super) tail_low: Option<i32>,
}

/// A month without a known day in `lows`.
pub(super) const NO_LOW: i32 = i32::MAX;
/// Months of lows kept: a year of `lowBalance` and the month being booked.
pub(super) const LOW_MONTHS: i32 = 14;

/// An account as stored, before it is packed.
#[derive(Debug, Clone)]
pub struct AccountParts<'a> {
    pub id: &'a str,
    pub account_type: AccountType,
    pub balance: Amount,
    pub balance_date: Date,
    pub data_since: Option<Date>,
}

impl ColumnarAccount {
    /// Packs an account; `bookings` are sorted here. `None` when a booking
    /// does not fit the columns (the account is then left to the database).
    pub fn pack(
        parts: AccountParts<'_>,
        bookings: &mut [RawBooking],
        mut daily_balances: Vec<(Date, Amount)>,
        numbers: &mut TagNumbers,
    ) -> Option<Self> {
        bookings.sort_unstable_by(|a, b| a.date.cmp(&b.date).then_with(|| a.id.cmp(&b.id)));
        daily_balances.sort_unstable_by_key(|b| b.0);
        let base = bookings.first().map_or(0, |b| b.date.days());
        let days = bookings
            .iter()
            .map(|b| u16::try_from(b.date.days() - base).ok())
            .collect::<Option<Box<[u16]>>>()?;
        let cents = bookings
            .iter()
            .map(|b| i32::try_from(b.amount.cents()).ok())
            .collect::<Option<Box<[i32]>>>()?;
        let tags = bookings
            .iter()
            .map(|b| numbers.number(b.labels, b.names_account))
            .collect::<Option<Box<[u16]>>>()?;
        let insurance = AccountInsurance::pack(bookings).ok()?;
        let mut account = ColumnarAccount {
            id: parts.id.into(),
            account_type: parts.account_type,
            balance: parts.balance,
            balance_date: parts.balance_date,
            data_since: parts.data_since,
            base,
            days,
            cents,
            tags,
            daily_balances: daily_balances.into_boxed_slice(),
            insurance,
            lows_from: 0,
            lows: Box::new([]),
            tail_low: None,
        };
        account.precompute_lows();
        Some(account)
    }

    /// Fills `lows` and `tail_low` from the account's own end-of-day
    /// balances (the same function the rule uses). Values beyond `i32`
    /// leave them empty: the rule then walks the days.
    pub(super) fn precompute_lows(&mut self) {
        let last_event = [
            (self.bookings() > 0).then(|| self.booking_date(self.bookings() - 1)),
            Some(self.balance_date),
            self.daily_balances.last().map(|b| b.0),
        ]
        .into_iter()
        .flatten()
        .max()
        .expect("the balance date is always there");
        let last = last_event.month();
        let known_from = self
            .daily_balances
            .first()
            .map_or(self.effective_data_since(), |b| {
                b.0.min(self.effective_data_since())
            });
        let first = known_from
            .month()
            .index()
            .max(last.index() - LOW_MONTHS + 1);
        if first > last.index() {
            return;
        }
        let from = crate::date::Month::from_ym(0, 1).plus(first).first_day();
        let mut lows = vec![NO_LOW; (last.index() - first + 1) as usize];
        let mut fits = true;
        balances::runs_by_month(&*self, from, last.last_day(), |month, _, _, balance| {
            let Some(b) = balance else { return };
            let Ok(cents) = i32::try_from(b.cents()) else {
                fits = false;
                return;
            };
            let slot = &mut lows[(month.index() - first) as usize];
            *slot = (*slot).min(cents);
        });
        if !fits {
            return;
        }
        let after = last.succ().first_day();
        let tail = (after >= self.effective_data_since())
            .then(|| balances::reconstructed(&*self, after))
            .and_then(|b| i32::try_from(b.cents()).ok());
        self.lows_from = first;
        self.lows = lows.into_boxed_slice();
        self.tail_low = tail;
    }

    /// The columnar form of an account loaded the usual way; `ibans` are
    /// the normalised IBANs of the user's accounts, in order.
    pub fn from_account(a: &AccountData, ibans: &[Option<String>]) -> Option<Self> {
        let mut bookings: Vec<RawBooking> = a
            .transactions
            .iter()
            .map(|t| RawBooking {
                date: t.booking_date,
                amount: t.amount,
                labels: t.labels,
                id: t.id.as_str().into(),
                names_account: names_account(t.counterpart_iban.as_deref(), ibans),
                texts: insurance::payment_type(t.amount, t.labels).map(|_| {
                    Box::new(PaymentTexts {
                        purpose: t.purpose.as_deref().map(Text::from),
                        counterpart_name: t.counterpart_name.as_deref().map(Text::from),
                        creditor_id: t.creditor_id.as_deref().map(Text::from),
                        mandate_reference: t.mandate_reference.as_deref().map(Text::from),
                    })
                }),
            })
            .collect();
        Self::pack(
            AccountParts {
                id: &a.id,
                account_type: a.account_type,
                balance: a.balance,
                balance_date: a.balance_date,
                data_since: a.data_since,
            },
            &mut bookings,
            a.daily_balances.clone(),
            &mut TagNumbers::default(),
        )
    }

    /// Bytes held on the heap and inline, for the index's memory figure.
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.id.len()
            + self.days.len() * 2
            + self.cents.len() * 4
            + self.tags.len() * 2
            + self.lows.len() * 4
            + self.daily_balances.len() * std::mem::size_of::<(Date, Amount)>()
            + self.insurance.as_ref().map_or(0, |i| i.size_bytes())
    }

    /// The candidate insurance payments, for the rule; their ids decoded
    /// into `arena` (which must not move until the payments are dropped:
    /// they are built in two steps for that reason).
    pub(super) fn insurance_ids(&self, arena: &mut String) -> Vec<(usize, usize)> {
        self.insurance
            .as_ref()
            .map_or_else(Vec::new, |i| i.decode_ids(arena))
    }

    pub(super) fn insurance_payments<'a>(
        &'a self,
        arena: &'a str,
        ids: &[(usize, usize)],
    ) -> Vec<insurance::Payment<'a>> {
        let Some(ins) = &self.insurance else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(ins.payments.len());
        let (mut at, mut i) = (0, 0);
        while at < ins.positions.len() {
            i += read_varint(&ins.positions, &mut at);
            let amount = self.booking_amount(i);
            let k = out.len();
            let (from, to) = ids[k];
            out.push(insurance::Payment {
                date: self.booking_date(i),
                amount,
                id: &arena[from..to],
                facts: ins.facts(ins.payments[k]),
                fact: ins.payments[k].into(),
            });
        }
        out
    }

    /// Whether the account has a booking in `from..=to`.
    pub(super) fn has_booking_in(&self, from: Date, to: Date) -> bool {
        let (from, to) = (from.days() - self.base, to.days() - self.base);
        if to < 0 || from > i32::from(u16::MAX) {
            return false;
        }
        let from = from.max(0) as u16;
        let i = self.days.partition_point(|d| *d < from);
        i < self.days.len() && i32::from(self.days[i]) <= to
    }
}

impl Ledger for ColumnarAccount {
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
        self.days.len()
    }
    fn booking_date(&self, i: usize) -> Date {
        Date::from_days(self.base + i32::from(self.days[i]))
    }
    fn booking_amount(&self, i: usize) -> Amount {
        Amount::from_cents(self.cents[i].into())
    }
    fn month_low(&self, month: crate::date::Month) -> Option<Option<Amount>> {
        let k = month.index() - self.lows_from;
        if self.lows.is_empty() || k < 0 {
            return None;
        }
        let low = match self.lows.get(k as usize) {
            Some(&l) => l,
            None => self.tail_low?,
        };
        Some((low != NO_LOW).then(|| Amount::from_cents(low.into())))
    }
}
