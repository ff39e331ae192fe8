//! An account's candidate insurance payments, packed: their facts, texts and ids.

use crate::segments::insurance;

use super::*;

/// A stretch of [`AccountInsurance::text`]; `NONE` for an absent text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub(super) start: u32,
    pub(super) len: u32,
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
pub(super) struct StoredFacts {
    pub(super) class: &'static insurance::ContractClass,
    pub(super) mandate: Span,
    pub(super) number: Span,
}

/// An account's candidate insurance payments as the rule needs them:
/// facts derived from their texts (not the texts) and their ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AccountInsurance {
    pub(super) facts: Box<[StoredFacts]>,
    /// The mandate references and contract numbers `facts` point into.
    pub(super) text: Box<str>,
    /// Per candidate payment, in booking order: its facts.
    pub(super) payments: Box<[u8]>,
    /// Where the candidates are among the bookings: the gap from the
    /// previous one (LEB128), so a job does not scan every booking.
    pub(super) positions: Box<[u8]>,
    /// Their ids, front-coded: per id the number of bytes it shares with
    /// the previous one and the length of the rest (LEB128), then the
    /// rest. Ids of one account usually share most of their bytes.
    pub(super) ids: Box<[u8]>,
}

pub(super) fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

pub(super) fn read_varint(bytes: &[u8], at: &mut usize) -> usize {
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
    pub(super) fn pack(bookings: &[RawBooking]) -> Result<Option<Box<Self>>, ()> {
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

    pub(super) fn text(&self, span: Span) -> Option<&str> {
        (span.len != u32::MAX)
            .then(|| &self.text[span.start as usize..(span.start + span.len) as usize])
    }

    pub(super) fn facts(&self, k: u8) -> insurance::Facts<'_> {
        let f = &self.facts[usize::from(k)];
        insurance::Facts {
            class: f.class,
            mandate_reference: self.text(f.mandate),
            contract_number: self.text(f.number),
        }
    }

    /// The ids, decoded into `arena`; their ranges in order.
    pub(super) fn decode_ids(&self, arena: &mut String) -> Vec<(usize, usize)> {
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

    pub(super) fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.facts.len() * std::mem::size_of::<StoredFacts>()
            + self.text.len()
            + self.payments.len()
            + self.positions.len()
            + self.ids.len()
    }
}
