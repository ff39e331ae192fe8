//! The segment index: a client's users held in memory in a compact,
//! columnar form, so that a segment job reads memory instead of rows.
//!
//! An account keeps its bookings as three columns, the day as a `u16`
//! offset from the account's first booking, the amount as `i32` cents and a
//! `u16` number of a process-wide table of "tags": the label set together
//! with which other account of the user, if any, the counterpart IBAN names
//! (evidence of an own-account transfer). That is 8 bytes a booking instead
//! of a database row. Accounts whose bookings do not fit (more than 179
//! years apart, one amount beyond ±21,474,836.47, more than 65,535 distinct
//! tags) are not indexed; their users are evaluated from the database, as
//! before.
//!
//! The rules do not know which form they read: [`ColumnarAccount`]
//! implements [`Ledger`] and (with the user's own-account transfer marks)
//! [`Flows`], the traits the rules are written against.
//!
//! [`ClientIndex`] adds what keeps the index honest about time: the
//! ingestion sequence number it reflects, and per user the sequence number
//! of the user's latest change. A job whose snapshot is older than a user's
//! latest change reads that user's partition from the database, whose
//! history tables still hold the snapshot's versions.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

use crate::labels::{Label, LabelSet};
use crate::segments::params::Params;
use crate::segments::{
    AccountData, Flows, Ledger, Period, Rendered, UserData, balances, breakdown, high_balance,
    insurance, low_balance, summary,
};
use crate::transfers::{self, TransferView};
use crate::{AccountType, Amount, Date, Text};

/// The tags bookings carry, numbered in order of first sight: the label
/// set, and the position of the user's account the counterpart IBAN names
/// (`NAMES_NONE` for none). Number 0 is the empty set naming none.
/// Append-only, so a number never changes meaning.
static TAG_LABELS: [AtomicU64; 1 << 16] = [const { AtomicU64::new(0) }; 1 << 16];
static TAG_NAMES: [AtomicU8; 1 << 16] = [const { AtomicU8::new(NAMES_NONE) }; 1 << 16];
static TAGS_USED: AtomicUsize = AtomicUsize::new(1);
static TAG_NUMBERS: Mutex<Option<HashMap<(u64, u8), u16>>> = Mutex::new(None);
const NAMES_NONE: u8 = u8::MAX;

/// A booking's tag: its labels and the account its counterpart names.
type Tag = (u64, u8);

/// The number of a tag; `None` once 65,536 tags are numbered.
fn tag_number(tag: Tag) -> Option<u16> {
    if tag == (0, NAMES_NONE) {
        return Some(0);
    }
    let mut numbers = TAG_NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
    let numbers = numbers.get_or_insert_with(HashMap::new);
    if let Some(n) = numbers.get(&tag) {
        return Some(*n);
    }
    let n = TAGS_USED.load(Ordering::Relaxed);
    let number = u16::try_from(n).ok()?;
    TAG_LABELS[n].store(tag.0, Ordering::Release);
    TAG_NAMES[n].store(tag.1, Ordering::Release);
    TAGS_USED.store(n + 1, Ordering::Release);
    numbers.insert(tag, number);
    Some(number)
}

fn tag_labels(number: u16) -> LabelSet {
    LabelSet(TAG_LABELS[usize::from(number)].load(Ordering::Acquire))
}

fn tag_names(number: u16) -> Option<usize> {
    let n = TAG_NAMES[usize::from(number)].load(Ordering::Acquire);
    (n != NAMES_NONE).then_some(usize::from(n))
}

/// Numbers tags, with a local cache in front of the shared table.
#[derive(Default)]
pub struct TagNumbers {
    cache: HashMap<Tag, u16>,
}

impl TagNumbers {
    fn number(&mut self, labels: LabelSet, names: Option<u8>) -> Option<u16> {
        // Position 255 cannot be told from "none": such a user stays unindexed.
        let tag = (
            labels.0,
            names.map_or(Some(NAMES_NONE), |n| (n != NAMES_NONE).then_some(n))?,
        );
        if let Some(n) = self.cache.get(&tag) {
            return Some(*n);
        }
        let n = tag_number(tag)?;
        self.cache.insert(tag, n);
        Some(n)
    }
}

/// One booking as the index loader reads it.
#[derive(Debug, Clone)]
pub struct RawBooking {
    pub date: Date,
    pub amount: Amount,
    pub labels: LabelSet,
    /// The client's id: bookings of a day are ordered by it, as the rules
    /// see them. A `Text`, so that loading or staging a user allocates
    /// nothing per booking for it.
    pub id: Text,
    /// The position (among the user's accounts, by id) of the account the
    /// counterpart IBAN names; [`FOREIGN_ACCOUNT`] when the booking has a
    /// counterpart account that is none of the user's; `None` when it has
    /// no counterpart account (cash, card payments, bank fees).
    pub names_account: Option<u8>,
    /// The texts of a candidate insurance payment (see
    /// [`insurance::payment_type`]); `None` for every other booking.
    pub texts: Option<Box<PaymentTexts>>,
}

/// What the insurance rule reads of a payment's texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentTexts {
    pub purpose: Option<Text>,
    pub counterpart_name: Option<Text>,
    pub creditor_id: Option<Text>,
    pub mandate_reference: Option<Text>,
}

/// A stretch of [`AccountInsurance::text`]; `NONE` for an absent text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    const NONE: Span = Span {
        start: 0,
        len: u32::MAX,
    };
}

/// The facts of one or more payments: the shared class and the two texts
/// that are the contract's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StoredFacts {
    class: &'static insurance::ContractClass,
    mandate: Span,
    number: Span,
}

/// An account's candidate insurance payments as the rule needs them:
/// facts derived from their texts (not the texts) and their ids.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AccountInsurance {
    facts: Box<[StoredFacts]>,
    /// The mandate references and contract numbers `facts` point into.
    text: Box<str>,
    /// Per candidate payment, in booking order: its facts.
    payments: Box<[u8]>,
    /// Where the candidates are among the bookings: the gap from the
    /// previous one (LEB128), so a job does not scan every booking.
    positions: Box<[u8]>,
    /// Their ids, front-coded: per id the number of bytes it shares with
    /// the previous one and the length of the rest (LEB128), then the
    /// rest. Ids of one account usually share most of their bytes.
    ids: Box<[u8]>,
}

fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> usize {
    let (mut n, mut shift) = (0usize, 0);
    loop {
        let b = bytes[*at];
        *at += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            return n;
        }
        shift += 7;
    }
}

impl AccountInsurance {
    /// From the account's sorted bookings; `None` when it has no candidate
    /// payment, `Err` when it does not fit (more than 256 distinct facts).
    fn pack(bookings: &[RawBooking]) -> Result<Option<Box<Self>>, ()> {
        let mut facts: Vec<StoredFacts> = Vec::new();
        let mut text = String::new();
        let mut payments = Vec::new();
        let mut positions = Vec::new();
        let mut last = 0;
        let mut ids = Vec::new();
        let mut previous: &str = "";
        let span = |text: &mut String, s: Option<&str>| match s {
            None => Span::NONE,
            Some(s) => {
                // Payments of one contract repeat their texts.
                let start = text.find(s).unwrap_or_else(|| {
                    text.push_str(s);
                    text.len() - s.len()
                });
                Span {
                    start: start as u32,
                    len: s.len() as u32,
                }
            }
        };
        for (i, b) in bookings.iter().enumerate() {
            let Some(itype) = insurance::payment_type(b.amount, b.labels) else {
                continue;
            };
            push_varint(&mut positions, i - last);
            last = i;
            let none = PaymentTexts::default();
            let t = b.texts.as_deref().unwrap_or(&none);
            let owned = insurance::facts_of(
                itype,
                t.purpose.as_deref(),
                t.counterpart_name.as_deref(),
                t.creditor_id.as_deref(),
                t.mandate_reference.as_deref(),
            );
            let stored = StoredFacts {
                class: insurance::intern(owned.class),
                mandate: span(&mut text, owned.mandate_reference.as_deref()),
                number: span(&mut text, owned.contract_number.as_deref()),
            };
            let k = match facts.iter().position(|f| *f == stored) {
                Some(k) => k,
                None => {
                    facts.push(stored);
                    facts.len() - 1
                }
            };
            payments.push(u8::try_from(k).map_err(|_| ())?);
            let shared = insurance::shared_prefix(previous, &b.id);
            push_varint(&mut ids, shared);
            push_varint(&mut ids, b.id.len() - shared);
            ids.extend_from_slice(&b.id.as_bytes()[shared..]);
            previous = &b.id;
        }
        if u32::try_from(text.len()).is_err() {
            return Err(());
        }
        Ok((!payments.is_empty()).then(|| {
            Box::new(AccountInsurance {
                facts: facts.into_boxed_slice(),
                text: text.into_boxed_str(),
                payments: payments.into_boxed_slice(),
                positions: positions.into_boxed_slice(),
                ids: ids.into_boxed_slice(),
            })
        }))
    }

    fn text(&self, span: Span) -> Option<&str> {
        (span.len != u32::MAX)
            .then(|| &self.text[span.start as usize..(span.start + span.len) as usize])
    }

    fn facts(&self, k: u8) -> insurance::Facts<'_> {
        let f = &self.facts[usize::from(k)];
        insurance::Facts {
            class: f.class,
            mandate_reference: self.text(f.mandate),
            contract_number: self.text(f.number),
        }
    }

    /// The ids, decoded into `arena`; their ranges in order.
    fn decode_ids(&self, arena: &mut String) -> Vec<(usize, usize)> {
        let mut ranges = Vec::with_capacity(self.payments.len());
        let mut at = 0;
        let mut previous = (0, 0);
        while at < self.ids.len() {
            let shared = read_varint(&self.ids, &mut at);
            let rest = read_varint(&self.ids, &mut at);
            let start = arena.len();
            arena.extend_from_within(previous.0..previous.0 + shared);
            let bytes = &self.ids[at..at + rest];
            arena.push_str(std::str::from_utf8(bytes).expect("ids are stored as text"));
            at += rest;
            previous = (start, arena.len());
            ranges.push(previous);
        }
        ranges
    }

    fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.facts.len() * std::mem::size_of::<StoredFacts>()
            + self.text.len()
            + self.payments.len()
            + self.positions.len()
            + self.ids.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnarAccount {
    id: Box<str>,
    account_type: AccountType,
    balance: Amount,
    balance_date: Date,
    data_since: Option<Date>,
    /// The day `days` count from (the first booking's).
    base: i32,
    days: Box<[u16]>,
    cents: Box<[i32]>,
    /// Tag numbers: labels and the own account the counterpart names.
    tags: Box<[u16]>,
    daily_balances: Box<[(Date, Amount)]>,
    /// The candidate insurance payments' facts and ids.
    insurance: Option<Box<AccountInsurance>>,
    /// The lowest known end-of-day balance (cents) of each of the last
    /// months up to the last one with an event, from `lows_from` on
    /// (`NO_LOW`: no known day): `lowBalance` rejects non-members from
    /// these without walking days.
    lows_from: i32,
    lows: Box<[i32]>,
    /// The low of every month after those (the balance no longer moves), if
    /// every day of them is known.
    tail_low: Option<i32>,
}

/// A month without a known day in `lows`.
const NO_LOW: i32 = i32::MAX;
/// Months of lows kept: a year of `lowBalance` and the month being booked.
const LOW_MONTHS: i32 = 14;

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
    fn precompute_lows(&mut self) {
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
    fn insurance_ids(&self, arena: &mut String) -> Vec<(usize, usize)> {
        self.insurance
            .as_ref()
            .map_or_else(Vec::new, |i| i.decode_ids(arena))
    }

    fn insurance_payments<'a>(
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
    fn has_booking_in(&self, from: Date, to: Date) -> bool {
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
fn prefetch<T>(s: &[T]) {
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
struct Marked<'a> {
    account: &'a ColumnarAccount,
    transfers: Vec<bool>,
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

fn own_transfer() -> Label {
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
    fn marked(&self, period: Period) -> Vec<Marked<'_>> {
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

    /// The rule of a job, when it can be evaluated from the index; `None`
    /// for segment types that need more than balances (they read the
    /// database).
    pub fn evaluate(&self, params: &Params, creation_date: Date) -> Option<Rendered> {
        let period = params.period(creation_date);
        Some(match params {
            Params::LowBalance {
                threshold,
                account_types,
                ..
            } => low_balance::render_accounts(
                &self.id,
                &self.accounts,
                *threshold,
                account_types,
                period,
            ),
            Params::HighBalance {
                threshold,
                account_types,
            } => high_balance::evaluate_accounts(
                &self.id,
                &self.accounts,
                *threshold,
                account_types,
                creation_date,
            )
            .into(),
            Params::FinancialBreakdown {
                label_groups,
                include_transaction_ids: false,
                ..
            } => breakdown::pack_accounts(&self.marked(period), label_groups, period),
            Params::IncomeSpendingSummary { .. } => {
                summary::pack_accounts(&self.marked(period), period)
            }
            Params::Insurance {
                insurance_types,
                include_users_without_contracts,
                ..
            } => {
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
                let any_in_period = self
                    .accounts
                    .iter()
                    .any(|a| a.has_booking_in(period.from, period.to));
                insurance::render_payments(
                    &self.id,
                    &accounts,
                    any_in_period,
                    period,
                    insurance_types.as_deref(),
                    *include_users_without_contracts,
                )
            }
            Params::FinancialBreakdown { .. } => return None,
        })
    }
}

/// Whether a job is evaluated from the index: every segment type, but
/// breakdowns only without transaction ids (the index keeps the ids of
/// candidate insurance payments only).
pub fn serves(params: &Params) -> bool {
    match params {
        Params::LowBalance { .. }
        | Params::HighBalance { .. }
        | Params::IncomeSpendingSummary { .. }
        | Params::Insurance { .. } => true,
        Params::FinancialBreakdown {
            include_transaction_ids,
            ..
        } => !include_transaction_ids,
    }
}

/// A user's data as a bulk import wrote it, for the index to take
/// instead of reading it back: the import's parsed records already hold
/// every value the database would return (see `finseg_store::import::Stager`).
#[derive(Debug, Clone)]
pub struct StagedUser {
    /// The sequence number of the write that left the user this way.
    pub data_seq: i64,
    pub id: String,
    /// In the order written; packed in id order.
    pub accounts: Vec<StagedAccount>,
}

/// An account of a [`StagedUser`] with its bookings and supplied balances.
#[derive(Debug, Clone)]
pub struct StagedAccount {
    pub id: String,
    pub account_type: AccountType,
    pub balance: Amount,
    pub balance_date: Date,
    pub data_since: Option<Date>,
    /// The IBAN as stored.
    pub iban: Option<String>,
    pub bookings: Vec<StagedBooking>,
    pub daily_balances: Vec<(Date, Amount)>,
}

/// A booking of a [`StagedAccount`]: `booking.names_account` is left to
/// [`StagedUser::pack`], which knows all of the user's IBANs.
#[derive(Debug, Clone)]
pub struct StagedBooking {
    pub booking: RawBooking,
    /// The counterpart IBAN as stored.
    pub counterpart_iban: Option<String>,
}

impl StagedUser {
    /// The index's form of the user, as the loader builds it from the
    /// database: accounts in id order, the counterpart IBANs matched
    /// against the user's own.
    pub fn pack(self, numbers: &mut TagNumbers) -> IndexedUser {
        let mut accounts = self.accounts;
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        let ibans: Vec<Option<String>> = accounts
            .iter()
            .map(|a| a.iban.as_deref().map(transfers::normalise_iban))
            .collect();
        let packed: Option<Vec<ColumnarAccount>> = accounts
            .into_iter()
            .map(|a| {
                let mut bookings: Vec<RawBooking> = a
                    .bookings
                    .into_iter()
                    .map(|b| RawBooking {
                        names_account: names_account(b.counterpart_iban.as_deref(), &ibans),
                        ..b.booking
                    })
                    .collect();
                ColumnarAccount::pack(
                    AccountParts {
                        id: &a.id,
                        account_type: a.account_type,
                        balance: a.balance,
                        balance_date: a.balance_date,
                        data_since: a.data_since,
                    },
                    &mut bookings,
                    a.daily_balances,
                    numbers,
                )
            })
            .collect();
        IndexedUser {
            data_seq: self.data_seq,
            user: packed.map(|accounts| ColumnarUser {
                id: self.id.into(),
                accounts: accounts.into_boxed_slice(),
            }),
        }
    }
}

/// One user in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedUser {
    /// The sequence number of the user's latest change.
    pub data_seq: i64,
    /// `None` when the user's data does not fit the columns.
    pub user: Option<ColumnarUser>,
}

/// One client's users, as of an ingestion sequence number.
#[derive(Debug, Default)]
pub struct ClientIndex {
    /// Every write numbered up to this one is reflected, and no later one.
    seq: i64,
    users: BTreeMap<i64, IndexedUser>,
    bytes: usize,
}

/// Why a partition cannot be evaluated from the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The index is older than the job's snapshot: refresh it first.
    Behind,
    /// A user of the range changed after the snapshot, or does not fit the
    /// columns: the database (with its history) has to answer.
    Changed,
}

impl ClientIndex {
    pub fn new(seq: i64) -> Self {
        ClientIndex {
            seq,
            users: BTreeMap::new(),
            bytes: 0,
        }
    }

    pub fn seq(&self) -> i64 {
        self.seq
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Approximate memory held, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.bytes + self.users.len() * (std::mem::size_of::<(i64, IndexedUser)>() + 16)
    }

    /// Puts (or replaces) one user, keyed by the database's user key.
    pub fn put(&mut self, pk: i64, user: IndexedUser) {
        self.bytes += user.user.as_ref().map_or(0, ColumnarUser::size_bytes);
        if let Some(old) = self.users.insert(pk, user) {
            self.bytes -= old.user.as_ref().map_or(0, ColumnarUser::size_bytes);
        }
    }

    pub fn remove(&mut self, pk: i64) {
        if let Some(old) = self.users.remove(&pk) {
            self.bytes -= old.user.as_ref().map_or(0, ColumnarUser::size_bytes);
        }
    }

    /// The users' keys, ascending.
    pub fn keys(&self) -> impl Iterator<Item = i64> + '_ {
        self.users.keys().copied()
    }

    /// The users with their keys, ascending.
    pub fn users(&self) -> impl Iterator<Item = (i64, &IndexedUser)> + '_ {
        self.users.iter().map(|(pk, u)| (*pk, u))
    }

    /// Marks the index as reflecting every write up to `seq`.
    pub fn advance(&mut self, seq: i64) {
        self.seq = self.seq.max(seq);
    }

    /// The users with keys in `range`, as they were at `snapshot`; or why
    /// the index cannot tell.
    pub fn partition(
        &self,
        range: RangeInclusive<i64>,
        snapshot: i64,
    ) -> Result<Vec<(i64, &ColumnarUser)>, Miss> {
        if self.seq < snapshot {
            return Err(Miss::Behind);
        }
        self.users
            .range(range)
            .map(|(pk, u)| match &u.user {
                Some(user) if u.data_seq <= snapshot => Ok((*pk, user)),
                _ => Err(Miss::Changed),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::params::SegmentType;
    use crate::segments::{self, Tx};
    use proptest::prelude::*;

    fn day(n: i32) -> Date {
        Date::parse("2025-01-01").unwrap().add_days(n)
    }

    const IBANS: [&str; 3] = [
        "DE02100200300000000010",
        "DE75100200370000000011",
        "DE48100200440000000012",
    ];
    const LABELS: [&str; 6] = [
        "SALARY",
        "RENT",
        "CARINSURANCE",
        "LIABILITYINSURANCE",
        "OTHERINSURANCE",
        "OWNACCOUNTTRANSFER",
    ];

    /// An account with bookings over about two years around the balance
    /// date; amounts repeat often, so that own-account transfers pair.
    fn arb_account(i: usize) -> impl Strategy<Value = AccountData> {
        (
            prop::collection::vec(
                (
                    0i32..700,
                    prop_oneof![-300_000i64..300_000, (-3i64..=3).prop_map(|k| k * 100_00)],
                    0u8..64,
                    0usize..5,
                    0usize..8,
                ),
                0..60,
            ),
            -500_000i64..500_000,
            0i32..720,
            prop::option::of(0i32..500),
            prop::collection::vec((0i32..700, -500_000i64..500_000), 0..4),
            0u8..3,
        )
            .prop_map(move |(txs, balance, anchor, since, supplied, kind)| {
                let mut transactions: Vec<Tx> = txs
                    .iter()
                    .enumerate()
                    .map(|(k, (d, c, labels, counterpart, text))| {
                        // Ids of a real bank's shape, sharing a prefix (front coding).
                        let id = if k % 7 == 3 {
                            format!("x{k}ü")
                        } else {
                            format!("acct-{i}-{k:05}")
                        };
                        let mut t = Tx::plain(&id, day(*d), Amount::from_cents(*c));
                        // Insurance texts: contracts by creditor id and
                        // mandate, by number, by name, yearly wording.
                        let (purpose, name, cid, mandate) = [
                            (
                                "Kfz-Vers. Vertrag 4711-0815 Beitrag",
                                "HUK-COBURG",
                                Some("DE12ZZZ00000012345"),
                                Some("M-1"),
                            ),
                            (
                                "Beitrag",
                                "HUK-COBURG",
                                Some("de12zzz00000012345"),
                                Some("M-2"),
                            ),
                            (
                                "Privathaftpflicht Jahresbeitrag VSNR 9988776",
                                "Allianz Versicherungs-AG",
                                None,
                                None,
                            ),
                            (
                                "Privathaftpflicht VSNR 9988776",
                                "Allianz Versicherungs-AG",
                                None,
                                None,
                            ),
                            ("Hausrat", "Gothaer", None, None),
                            (
                                "Beitrag 03/2026",
                                "Kleine  Versicherung \"Süd\"",
                                None,
                                Some("Q"),
                            ),
                            ("Police 12345678", "Unbekannt", None, None),
                            ("", "", None, None),
                        ][*text];
                        t.purpose = (!purpose.is_empty()).then(|| purpose.to_owned());
                        t.counterpart_name = (!name.is_empty()).then(|| name.to_owned());
                        t.creditor_id = cid.map(str::to_owned);
                        t.mandate_reference = mandate.map(str::to_owned);
                        for (bit, name) in LABELS.iter().enumerate() {
                            if labels & (1 << bit) != 0 {
                                t.labels.insert(Label::parse(name).unwrap());
                            }
                        }
                        // Sometimes the IBAN of an account of the user, in another spelling.
                        t.counterpart_iban =
                            IBANS.get(*counterpart).map(|s| s.to_ascii_lowercase());
                        t
                    })
                    .collect();
                transactions.sort_by(|a, b| {
                    a.booking_date
                        .cmp(&b.booking_date)
                        .then_with(|| a.id.cmp(&b.id))
                });
                let mut daily_balances: Vec<(Date, Amount)> = supplied
                    .iter()
                    .map(|(d, c)| (day(*d), Amount::from_cents(*c)))
                    .collect();
                daily_balances.sort_by_key(|b| b.0);
                daily_balances.dedup_by_key(|b| b.0);
                AccountData {
                    id: format!("a{i}"),
                    account_type: [
                        AccountType::Checking,
                        AccountType::Savings,
                        AccountType::CreditCard,
                    ][kind as usize],
                    iban: Some(IBANS[i].to_owned()),
                    balance: Amount::from_cents(balance),
                    balance_date: day(anchor),
                    data_since: since.map(day),
                    daily_balances,
                    transactions,
                }
            })
    }

    fn arb_user() -> impl Strategy<Value = UserData> {
        (arb_account(0), arb_account(1), arb_account(2), 0usize..4).prop_map(|(a, b, c, n)| {
            UserData {
                id: "u".into(),
                accounts: [a, b, c].into_iter().take(n).collect(),
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The index answers exactly as the rows do, JSON evidence included.
        #[test]
        fn index_agrees_with_rows(
            user in arb_user(),
            created in 30i32..760,
            threshold in -200_000i64..200_000,
            months in 1u32..=12,
        ) {
            let columnar = ColumnarUser::from_user(&user).expect("fits");
            let created = day(created);
            let checking = serde_json::json!(["CHECKING", "CREDIT_CARD"]);
            let groups = serde_json::json!(["INCOME", "RENTANDLIVING", "INSURANCE", "SALARY"]);
            let (from, to) = (created.add_days(-120), created.add_days(-20));
            let jobs = [
                (SegmentType::FinancialBreakdown, serde_json::json!({
                    "labelGroups": groups, "durationInMonth": months})),
                (SegmentType::IncomeSpendingSummary, serde_json::json!({"durationInMonth": months})),
                (SegmentType::IncomeSpendingSummary, serde_json::json!({
                    "dateFrom": from.to_string(), "dateTo": to.to_string()})),
                (SegmentType::LowBalance, serde_json::json!({
                    "threshold": Amount::from_cents(threshold), "durationInMonth": months, "accountTypes": checking})),
                (SegmentType::HighBalance, serde_json::json!({"threshold": Amount::from_cents(threshold)})),
                (SegmentType::HighBalance, serde_json::json!({
                    "threshold": Amount::from_cents(threshold), "accountTypes": checking})),
                (SegmentType::Insurance, serde_json::json!({"durationInMonth": months})),
                (SegmentType::Insurance, serde_json::json!({
                    "durationInMonth": months, "insuranceTypes": ["CAR", "OTHER"],
                    "includeUsersWithoutContracts": true})),
            ];
            for (segment, body) in jobs {
                let params = Params::parse(segment, &body).unwrap();
                // As the job engine does: transfers marked around the period.
                let period = params.period(created);
                let mut rows = user.clone();
                crate::transfers::mark_own_transfers_around(&mut rows, period);
                // The same stored text, byte for byte.
                prop_assert_eq!(
                    columnar.evaluate(&params, created),
                    Some(segments::render(&params, created, &rows)),
                    "{}", body
                );
                // What a reader gets is the document the rule builds.
                if let Some(Rendered::Member(stored)) = columnar.evaluate(&params, created) {
                    let segments::Verdict::Member(value) = segments::evaluate(&params, created, &rows) else {
                        panic!("a member on one path only");
                    };
                    prop_assert_eq!(segments::member_json("u", &stored), value.to_string());
                }
            }
        }
    }

    #[test]
    fn a_month_low_at_the_threshold_is_not_below() {
        // Balance 0 on 2026-04-01; one day at exactly -100.00 in each of
        // January to March.
        let d = |s: &str| Date::parse(s).unwrap();
        let mut transactions = Vec::new();
        for m in ["01", "02", "03"] {
            transactions.push(Tx::plain(
                &format!("{m}a"),
                d(&format!("2026-{m}-10")),
                Amount::from_cents(-100_00),
            ));
            transactions.push(Tx::plain(
                &format!("{m}b"),
                d(&format!("2026-{m}-11")),
                Amount::from_cents(100_00),
            ));
        }
        let user = UserData {
            id: "u".into(),
            accounts: vec![AccountData {
                id: "a".into(),
                account_type: AccountType::Checking,
                iban: None,
                balance: Amount::ZERO,
                balance_date: d("2026-04-01"),
                data_since: Some(d("2025-01-01")),
                daily_balances: Vec::new(),
                transactions,
            }],
        };
        let columnar = ColumnarUser::from_user(&user).unwrap();
        assert!(!columnar.accounts[0].lows.is_empty());
        let job = |threshold: &str| {
            Params::parse(
                SegmentType::LowBalance,
                &serde_json::json!({"threshold": threshold}),
            )
            .unwrap()
        };
        let created = d("2026-04-02");
        assert_eq!(
            columnar.evaluate(&job("-100"), created),
            Some(Rendered::NotMember)
        );
        assert!(matches!(
            columnar.evaluate(&job("-99.99"), created),
            Some(Rendered::Member(_))
        ));
    }

    #[test]
    fn what_does_not_fit_is_left_to_the_database() {
        let mut a = AccountData {
            id: "a".into(),
            account_type: AccountType::Checking,
            iban: None,
            balance: Amount::ZERO,
            balance_date: day(0),
            data_since: None,
            daily_balances: Vec::new(),
            transactions: vec![Tx::plain("t", day(0), Amount::from_cents(3_000_000_000))],
        };
        assert!(ColumnarAccount::from_account(&a, &[]).is_none());
        a.transactions = vec![
            Tx::plain("t1", Date::parse("1901-01-01").unwrap(), Amount::ZERO),
            Tx::plain("t2", Date::parse("2199-01-01").unwrap(), Amount::ZERO),
        ];
        assert!(ColumnarAccount::from_account(&a, &[]).is_none());
        a.transactions.pop();
        let packed = ColumnarAccount::from_account(&a, &[]).unwrap();
        assert_eq!(packed.booking_date(0), Date::parse("1901-01-01").unwrap());
    }

    #[test]
    fn partitions_answer_only_for_their_snapshot() {
        let user = |id: &str| ColumnarUser {
            id: id.into(),
            accounts: Box::new([]),
        };
        let mut index = ClientIndex::new(10);
        index.put(
            1,
            IndexedUser {
                data_seq: 3,
                user: Some(user("a")),
            },
        );
        index.put(
            2,
            IndexedUser {
                data_seq: 9,
                user: Some(user("b")),
            },
        );
        index.put(
            5,
            IndexedUser {
                data_seq: 4,
                user: None,
            },
        );
        assert_eq!(index.partition(1..=2, 11), Err(Miss::Behind));
        let got = index.partition(1..=2, 9).unwrap();
        assert_eq!(got.iter().map(|(pk, _)| *pk).collect::<Vec<_>>(), [1, 2]);
        // User 2 changed at 9: a job of snapshot 8 must read the database.
        assert_eq!(index.partition(1..=2, 8), Err(Miss::Changed));
        assert_eq!(index.partition(1..=1, 8).unwrap().len(), 1);
        // User 5 does not fit the columns.
        assert_eq!(index.partition(3..=5, 10), Err(Miss::Changed));
        index.remove(5);
        assert!(index.partition(3..=5, 10).unwrap().is_empty());
        assert!(index.size_bytes() > 0);
    }
}
