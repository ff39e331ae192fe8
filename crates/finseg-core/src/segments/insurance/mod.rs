//! `insurance` (UC-04): the insurance contracts each user pays, with
//! provider, type, amount and frequency, and the common types they lack.
//!
//! The rule reads each candidate payment (an insurance-labelled debit) as
//! date, amount, id and its [`Facts`]: what its texts say about the
//! contract, derived once by [`facts_of`]. The database path derives them
//! while it reads; the segment index derives them when it loads a user and
//! keeps the facts instead of the texts.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{Period, Rendered, UserData, Verdict};
use crate::labels::{self, Label, LabelSet};
use crate::providers;
use crate::recurring::{self, Frequency};
use crate::{Amount, Date};

mod contracts;
mod facts;
mod packing;

pub use contracts::*;
pub use facts::*;
pub use packing::*;

/// Insurance types of SPEC §6 and the label each one comes from.
pub const INSURANCE_TYPES: &[(&str, &str)] = &[
    ("HEALTH", "HEALTHINSURANCE"),
    ("CAR", "CARINSURANCE"),
    ("LIFE", "LIFEINSURANCE"),
    ("LIABILITY", "LIABILITYINSURANCE"),
    ("HOUSEHOLD", "HOUSEHOLDINSURANCE"),
    ("BUILDING", "BUILDINGINSURANCE"),
    ("LEGAL", "LEGALINSURANCE"),
    ("DISABILITY", "DISABILITYINSURANCE"),
    ("ACCIDENT", "ACCIDENTINSURANCE"),
    ("TRAVEL", "TRAVELINSURANCE"),
    ("PET", "PETINSURANCE"),
    ("DENTAL", "DENTALINSURANCE"),
    ("CARE", "CAREINSURANCE"),
    ("OTHER", "OTHERINSURANCE"),
];

/// The common types whose absence is the cross-selling signal of UC-04.
pub const COMMON_TYPES: [&str; 5] = ["LIABILITY", "HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"];

/// The insurance type of a label set: the first specific insurance label,
/// `OTHER` when only `OTHERINSURANCE` is present.
pub(super) fn insurance_type(set: LabelSet) -> Option<&'static str> {
    static TYPES: OnceLock<Vec<(&'static str, Label)>> = OnceLock::new();
    let types = TYPES.get_or_init(|| {
        INSURANCE_TYPES
            .iter()
            .map(|(t, label)| (*t, Label::parse(label).expect("taxonomy label")))
            .collect()
    });
    if !set.intersects(insurance_labels()) {
        return None;
    }
    let mut other = false;
    for (t, label) in types {
        if set.contains(*label) {
            if *t == "OTHER" {
                other = true;
            } else {
                return Some(t);
            }
        }
    }
    other.then_some("OTHER")
}

/// The labels of the `INSURANCE` group (what makes a debit a candidate).
pub fn insurance_labels() -> LabelSet {
    static SET: OnceLock<LabelSet> = OnceLock::new();
    *SET.get_or_init(|| labels::group("INSURANCE").expect("taxonomy group").1)
}

/// The insurance type of a booking that is a candidate payment (a debit
/// labelled as insurance); `None` for every other booking.
pub fn payment_type(amount: Amount, labels: LabelSet) -> Option<&'static str> {
    if amount >= Amount::ZERO || !labels.intersects(insurance_labels()) {
        return None;
    }
    insurance_type(labels)
}

/// A listed contract, as the member entry shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed<'a> {
    pub(super) account_id: &'a str,
    pub(super) amount: Amount,
    pub(super) annual_amount: Amount,
    pub(super) contract_number: Option<&'a str>,
    pub(super) creditor_id: Option<&'a str>,
    pub(super) first: Date,
    pub(super) frequency: Frequency,
    pub(super) itype: &'static str,
    pub(super) last: Date,
    pub(super) mandate_reference: Option<&'a str>,
    pub(super) next_expected: Option<Date>,
    pub(super) count: usize,
    pub(super) provider: &'a str,
    pub(super) provider_id: Option<&'a str>,
    pub(super) transaction_ids: Vec<Cow<'a, str>>,
}

/// What the rule found for a user: listed contracts and the types seen.
pub(super) enum Found<'a> {
    Member(Vec<Listed<'a>>, Vec<&'static str>),
    NotMember,
    WithoutData,
}

pub(super) fn find<'a>(
    accounts: &[AccountPayments<'a>],
    any_in_period: bool,
    period: Period,
    insurance_types: Option<&[&'static str]>,
    include_users_without_contracts: bool,
) -> Found<'a> {
    let mut listed = Vec::new();
    let year_long = period.months().len() >= 12;
    for account in accounts {
        for (_, g) in &contracts(&account.payments, period) {
            let Some(first) = g.inside.first() else {
                continue;
            };
            let payments: Vec<(Date, Amount)> =
                g.inside.iter().map(|p| (p.date, p.amount.abs())).collect();
            // A single payment is yearly when the text says so or the same
            // amount was paid about a year earlier.
            // Or by the pattern: a lookback of a year or more shows a monthly,
            // quarterly or half-yearly contract more than once, unless it only
            // started in the last two months.
            let year_seen = year_long && first.date < period.to.add_days(-61);
            let hint = g.inside.iter().any(|p| p.facts.class.yearly_text)
                || (g.inside.len() == 1 && year_seen)
                || g.before.iter().any(|b| {
                    let gap = first.date.days() - b.date.days();
                    (330..=400).contains(&gap) && b.amount == first.amount
                });
            let Some(rec) = recurring::detect(&payments, hint) else {
                continue;
            };
            let class = first.facts.class;
            listed.push(Listed {
                account_id: account.account_id,
                amount: rec.typical_amount,
                annual_amount: rec.annual_amount,
                contract_number: g.inside.iter().find_map(|p| p.facts.contract_number),
                creditor_id: class.creditor_id.as_deref(),
                first: rec.first,
                frequency: rec.frequency,
                itype: g.itype,
                last: rec.last,
                mandate_reference: first.facts.mandate_reference,
                next_expected: rec.next_expected,
                count: rec.count,
                provider: class.provider.map_or_else(
                    || class.counterpart_name.as_deref().unwrap_or(""),
                    |p| p.name.as_str(),
                ),
                provider_id: class.provider.map(|p| p.id.as_str()),
                transaction_ids: g.inside.iter().map(|p| Cow::Borrowed(p.id)).collect(),
            });
        }
    }
    if remits_for_employees(&listed) {
        listed.retain(|c| {
            !c.provider_id
                .and_then(providers::by_id)
                .is_some_and(|p| p.statutory)
        });
    }
    // The types the user pays, whichever the job lists.
    let all_types: Vec<&'static str> = listed.iter().map(|c| c.itype).collect();
    if let Some(wanted) = insurance_types {
        listed.retain(|c| wanted.contains(&c.itype));
    }
    let missing: Vec<&'static str> = COMMON_TYPES
        .iter()
        .copied()
        .filter(|t| !all_types.contains(t))
        .collect();
    if listed.is_empty() {
        if !any_in_period {
            return Found::WithoutData;
        }
        if !(include_users_without_contracts && all_types.is_empty()) {
            return Found::NotMember;
        }
    }
    Found::Member(listed, missing)
}

/// Whether the contracts are an employer's remittances of its staff's
/// health contributions rather than the holder's cover: statutory health
/// funds paid over overlapping months, either three or more of them or two
/// quoting one number (the employer's company number, which it gives every
/// fund). A person is insured with one fund at a time.
fn remits_for_employees(listed: &[Listed<'_>]) -> bool {
    let funds: Vec<(&str, Date, Date, Option<&str>)> = listed
        .iter()
        .filter_map(|c| {
            let p = providers::by_id(c.provider_id?)?;
            p.statutory
                .then_some((p.id.as_str(), c.first, c.last, c.contract_number))
        })
        .collect();
    let overlap = |a: &(&str, Date, Date, Option<&str>), b: &(&str, Date, Date, Option<&str>)| {
        a.0 != b.0 && a.1 <= b.2 && b.1 <= a.2
    };
    funds.iter().enumerate().any(|(i, a)| {
        let others: Vec<_> = funds[i + 1..].iter().filter(|b| overlap(a, b)).collect();
        others.len() >= 2 || others.iter().any(|b| a.3.is_some() && a.3 == b.3)
    })
}

/// A member: the contracts found and the common types the user lacks.
/// Fields in the order of their JSON names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub contracts: Vec<Contract>,
    pub missing_types: Vec<String>,
    pub user_id: String,
}

/// One contract with its evidence: the payments it was found from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contract {
    pub account_id: String,
    pub amount: Amount,
    pub annual_amount: Amount,
    pub contract_number: Option<String>,
    pub creditor_id: Option<String>,
    pub first_payment_date: Date,
    /// A name of [`Frequency`].
    pub frequency: String,
    /// One of [`INSURANCE_TYPES`].
    pub insurance_type: String,
    pub last_payment_date: Date,
    pub mandate_reference: Option<String>,
    pub next_expected_date: Option<Date>,
    pub payment_count: usize,
    pub provider: String,
    pub provider_id: Option<String>,
    pub transaction_ids: Vec<String>,
}

pub(super) fn member(user_id: &str, listed: &[Listed<'_>], missing: &[&str]) -> Member {
    let owned = |s: Option<&str>| s.map(str::to_owned);
    let contracts = listed
        .iter()
        .map(|c| Contract {
            account_id: c.account_id.to_owned(),
            amount: c.amount,
            annual_amount: c.annual_amount,
            contract_number: owned(c.contract_number),
            creditor_id: owned(c.creditor_id),
            first_payment_date: c.first,
            frequency: c.frequency.name().to_owned(),
            insurance_type: c.itype.to_owned(),
            last_payment_date: c.last,
            mandate_reference: owned(c.mandate_reference),
            next_expected_date: c.next_expected,
            payment_count: c.count,
            provider: c.provider.to_owned(),
            provider_id: owned(c.provider_id),
            transaction_ids: c.transaction_ids.iter().map(|id| id.to_string()).collect(),
        })
        .collect();
    Member {
        contracts,
        missing_types: missing.iter().map(|t| (*t).to_owned()).collect(),
        user_id: user_id.to_owned(),
    }
}

/// The rule over candidate payments, in its stored form (see [`PACKED`]).
/// `any_in_period`: some account has a booking inside the period.
pub fn render_payments(
    user_id: &str,
    accounts: &[AccountPayments<'_>],
    any_in_period: bool,
    period: Period,
    insurance_types: Option<&[&'static str]>,
    include_users_without_contracts: bool,
) -> Rendered {
    match find(
        accounts,
        any_in_period,
        period,
        insurance_types,
        include_users_without_contracts,
    ) {
        Found::Member(listed, missing) => Rendered::Member(pack(user_id, &listed, &missing)),
        Found::NotMember => Rendered::NotMember,
        Found::WithoutData => Rendered::WithoutData,
    }
}

/// The rule over a user read from the database: facts are derived here.
pub fn render(
    user: &UserData,
    period: Period,
    insurance_types: Option<&[&'static str]>,
    include_users_without_contracts: bool,
) -> Rendered {
    let mut any_in_period = false;
    let owned: Vec<Vec<(usize, OwnedFacts)>> = user
        .accounts
        .iter()
        .map(|a| {
            a.transactions
                .iter()
                .enumerate()
                .filter(|(_, t)| t.booking_date <= period.to)
                .inspect(|(_, t)| any_in_period |= period.contains(t.booking_date))
                .filter_map(|(i, t)| {
                    let itype = payment_type(t.amount, t.labels)?;
                    Some((
                        i,
                        facts_of(
                            itype,
                            t.purpose.as_deref(),
                            t.counterpart_name.as_deref(),
                            t.creditor_id.as_deref(),
                            t.mandate_reference.as_deref(),
                        ),
                    ))
                })
                .collect()
        })
        .collect();
    let accounts: Vec<AccountPayments<'_>> = user
        .accounts
        .iter()
        .zip(&owned)
        .map(|(a, facts)| AccountPayments {
            account_id: &a.id,
            payments: facts
                .iter()
                .enumerate()
                .map(|(k, (i, f))| {
                    let t = &a.transactions[*i];
                    Payment {
                        date: t.booking_date,
                        amount: t.amount,
                        id: &t.id,
                        facts: f.borrow(),
                        fact: k as u32,
                    }
                })
                .collect(),
        })
        .collect();
    render_payments(
        &user.id,
        &accounts,
        any_in_period,
        period,
        insurance_types,
        include_users_without_contracts,
    )
}

/// [`render`] as a value (for tests and tools that inspect members).
pub fn evaluate(
    user: &UserData,
    period: Period,
    insurance_types: Option<&[&'static str]>,
    include_users_without_contracts: bool,
) -> Verdict<Member> {
    match render(
        user,
        period,
        insurance_types,
        include_users_without_contracts,
    ) {
        Rendered::Member(stored) => {
            Verdict::Member(unpack(&user.id, &stored).expect("the rule packs what it unpacks"))
        }
        Rendered::NotMember => Verdict::NotMember,
        Rendered::WithoutData => Verdict::WithoutData,
    }
}

#[cfg(test)]
mod tests;
