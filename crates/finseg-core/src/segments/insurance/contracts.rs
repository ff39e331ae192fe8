//! Candidate payments grouped into contracts, per account.

use crate::segments::Period;
use crate::{Amount, Date};

use super::*;

/// One candidate payment as the rule reads it.
#[derive(Debug, Clone, Copy)]
pub struct Payment<'a> {
    pub date: Date,
    pub amount: Amount,
    pub id: &'a str,
    pub facts: Facts<'a>,
    /// Which of its account's facts these are: payments with the same
    /// number have the same facts, so their contract is looked up once.
    pub fact: u32,
}

/// An account's candidate payments, in booking order.
#[derive(Debug, Clone)]
pub struct AccountPayments<'a> {
    pub account_id: &'a str,
    pub payments: Vec<Payment<'a>>,
}

/// The payments of one contract: inside the lookback and before it.
pub(super) struct Contract<'p, 'a> {
    pub(super) itype: &'static str,
    pub(super) inside: Vec<&'p Payment<'a>>,
    pub(super) before: Vec<&'p Payment<'a>>,
}

impl Contract<'_, '_> {
    fn len(&self) -> usize {
        self.inside.len() + self.before.len()
    }
    fn amounts(&self) -> impl Iterator<Item = Amount> + '_ {
        self.inside.iter().chain(&self.before).map(|p| p.amount)
    }
}

/// The group key of a payment within its account.
pub(super) fn group_key<'a>(p: &Payment<'a>) -> (KeyKind, &'a str, &'a str) {
    let f = p.facts;
    match f.class.key {
        KeyKind::Creditor => (
            KeyKind::Creditor,
            &f.class.key_name,
            f.mandate_reference.unwrap_or(""),
        ),
        // A contract number is unique within its insurer only: an employer
        // quotes its one company number to every health fund it pays.
        KeyKind::Number => (
            KeyKind::Number,
            f.contract_number.unwrap_or(""),
            f.class.provider.map_or("", |p| p.id.as_str()),
        ),
        KeyKind::Name => (KeyKind::Name, &f.class.key_name, f.class.itype),
    }
}

/// The first day a payment counts from: a yearly contract seen once in
/// the lookback is recognised by a payment about a year before it.
pub fn history_from(period: Period) -> Date {
    period.from.add_days(-400)
}

/// A contract's key within its account (see [`group_key`]).
type GroupKey<'a> = (KeyKind, &'a str, &'a str);

/// The account's payments from [`history_from`] to the end of the period,
/// grouped into contracts.
pub(super) fn contracts<'p, 'a>(
    payments: &'p [Payment<'a>],
    period: Period,
) -> Vec<(GroupKey<'a>, Contract<'p, 'a>)> {
    // Listed in key order, as a sorted map would hold them; a vector, since
    // an account has a handful.
    let mut groups: Vec<(GroupKey<'a>, Contract<'p, 'a>)> = Vec::new();
    // The group of each fact number seen: keys are compared once per fact,
    // not once per payment.
    let mut group_of: Vec<u32> = Vec::new();
    let from = history_from(period);
    for p in payments
        .iter()
        .filter(|p| p.date >= from && p.date <= period.to)
    {
        let itype = p.facts.class.itype;
        let f = p.fact as usize;
        if f >= group_of.len() {
            group_of.resize(f + 1, u32::MAX);
        }
        let at = match group_of[f] {
            u32::MAX => {
                let key = group_key(p);
                let at = groups
                    .iter()
                    .position(|(k, _)| *k == key)
                    .unwrap_or_else(|| {
                        groups.push((
                            key,
                            Contract {
                                itype,
                                inside: Vec::new(),
                                before: Vec::new(),
                            },
                        ));
                        groups.len() - 1
                    });
                group_of[f] = at as u32;
                at
            }
            at => at as usize,
        };
        let g = &mut groups[at].1;
        // The contract's type: a specific one wins over OTHER.
        if g.itype == "OTHER" {
            g.itype = itype;
        }
        if p.date >= period.from {
            g.inside.push(p)
        } else {
            g.before.push(p)
        }
    }
    // Keys are distinct: the order a sorted map would hold them in.
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // A payment whose text lost the contract number (banks truncate) or
    // carries a misspelt name lands in a group of its own; it belongs to
    // the contract of the same account that has a payment of exactly the
    // same amount and a compatible type.
    let loose: Vec<_> = groups
        .iter()
        .filter(|(k, g)| k.0 != KeyKind::Creditor && g.len() <= 2)
        .map(|(k, _)| *k)
        .collect();
    for k in loose {
        let Some(at) = groups.iter().position(|(k2, _)| *k2 == k) else {
            continue;
        };
        let g = &groups[at].1;
        let amounts: Vec<Amount> = g.amounts().collect();
        let itype = g.itype;
        let target = groups
            .iter()
            .filter(|(k2, h)| {
                *k2 != k
                    && (h.itype == itype || itype == "OTHER" || h.itype == "OTHER")
                    && h.amounts().any(|a| amounts.contains(&a))
            })
            .max_by_key(|(_, h)| h.len())
            .map(|(k2, _)| *k2);
        if let Some(target) = target {
            let (_, g) = groups.remove(at);
            let h = &mut groups
                .iter_mut()
                .find(|(k2, _)| *k2 == target)
                .expect("the target is another group")
                .1;
            if h.itype == "OTHER" {
                h.itype = g.itype;
            }
            h.inside.extend(g.inside);
            h.before.extend(g.before);
            h.inside.sort_by_key(|p| p.date);
            h.before.sort_by_key(|p| p.date);
        }
    }
    groups
}
