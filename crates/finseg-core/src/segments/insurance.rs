//! `insurance` (UC-04): the insurance contracts each user pays, with
//! provider, type, amount and frequency, and the common types they lack.
//!
//! The rule reads each candidate payment (an insurance-labelled debit) as
//! date, amount, id and its [`Facts`]: what its texts say about the
//! contract, derived once by [`facts_of`]. The database path derives them
//! while it reads; the segment index derives them when it loads a user and
//! keeps the facts instead of the texts.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use super::params::INSURANCE_TYPES;
use super::{Period, Rendered, UserData, Verdict};
use crate::json::push_string;
use crate::labels::{self, Label, LabelSet};
use crate::providers::{self, Provider};
use crate::recurring::{self, Frequency};
use crate::{Amount, Date};

/// The common types whose absence is the cross-selling signal of UC-04.
pub const COMMON_TYPES: [&str; 5] = ["LIABILITY", "HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"];

/// The insurance type of a label set: the first specific insurance label,
/// `OTHER` when only `OTHERINSURANCE` is present.
fn insurance_type(set: LabelSet) -> Option<&'static str> {
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

/// A contract number from the purpose text ("Vers.-Nr. 123456", "VSNR 123…").
pub fn contract_number(purpose: &str) -> Option<String> {
    // The first occurrence of each marker, found in one pass rather than a
    // substring search per marker on a lower-cased copy (this runs for
    // every insurance payment an import stages). ASCII case folding finds
    // what a search of the lower-cased text found: the markers are
    // lower-case ASCII.
    let mut first = [usize::MAX; NUMBER_MARKERS.len()];
    for m in number_markers().find_overlapping_iter(purpose) {
        let slot = &mut first[m.pattern().as_usize()];
        if *slot == usize::MAX {
            *slot = m.end();
        }
    }
    // The markers in their order of precedence, as before.
    first
        .into_iter()
        .filter(|&e| e != usize::MAX)
        .find_map(|after| number_after_marker(&purpose[after..]))
        .or_else(|| long_digit_run(purpose))
}

/// The number that follows a marker, if it has four digits or more.
fn number_after_marker(rest: &str) -> Option<String> {
    let token: String = rest
        .trim_start_matches([' ', '.', ':', '-'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '/')
        .collect();
    (token.bytes().filter(u8::is_ascii_digit).count() >= 4).then_some(token)
}

/// Without a marker: the first run of six or more digits (dates and
/// amounts are shorter or carry separators).
fn long_digit_run(purpose: &str) -> Option<String> {
    purpose
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .map(str::to_owned)
}

/// Words that introduce a contract number, by precedence.
const NUMBER_MARKERS: [&str; 9] = [
    "vers.-nr.",
    "vers-nr",
    "versnr",
    "vsnr",
    "vertragsnr",
    "vertrag",
    "police",
    "vers.nr.",
    "vnr",
];

fn number_markers() -> &'static aho_corasick::AhoCorasick {
    static MARKERS: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    MARKERS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(NUMBER_MARKERS)
            .expect("the markers build")
    })
}

/// Words that mark a yearly payment, lower case.
const YEARLY_WORDS: [&str; 8] = [
    "jährl",
    "jaehrl",
    "jahresbeitrag",
    "jahresprämie",
    "jahrespraemie",
    "jahresbetrag",
    "p.a.",
    "1/1 jahr",
];

fn yearly_text(purpose: Option<&str>, name: Option<&str>) -> bool {
    let (purpose, name) = (purpose.unwrap_or(""), name.unwrap_or(""));
    let mut text = String::with_capacity(purpose.len() + 1 + name.len());
    text.push_str(purpose);
    text.push(' ');
    text.push_str(name);
    if text.is_ascii() {
        // One pass, folding ASCII case as it goes: in ASCII text only the
        // ASCII words can occur, and they are found as in a lower-cased
        // copy (eight searches of one were a fifth of packing).
        static WORDS: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
        let words = WORDS.get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(YEARLY_WORDS.iter().filter(|w| w.is_ascii()))
                .expect("the words build")
        });
        return words.is_match(&text);
    }
    let text = text.to_lowercase();
    YEARLY_WORDS.iter().any(|k| text.contains(k))
}

/// What payments are grouped into contracts by (always per account): a
/// creditor id with its mandate, else a contract number, else the provider
/// or counterpart name together with the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    // In this order, contracts are listed as they always were.
    Creditor,
    Name,
    Number,
}

/// What the payments of one insurer, type and wording have in common; many
/// users share one class, so the index keeps each class once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractClass {
    pub itype: &'static str,
    pub key: KeyKind,
    /// `Creditor`: the creditor id upper-cased; `Name`: the provider id or
    /// the normalised counterpart name; `Number`: empty.
    pub key_name: Box<str>,
    pub yearly_text: bool,
    /// The provider by creditor id, counterpart name or purpose.
    pub provider: Option<&'static Provider>,
    pub counterpart_name: Option<Box<str>>,
    pub creditor_id: Option<Box<str>>,
}

impl Hash for ContractClass {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (
            self.itype,
            self.key,
            &self.key_name,
            self.yearly_text,
            self.provider.map(|p| p.id.as_str()),
            &self.counterpart_name,
            &self.creditor_id,
        )
            .hash(h);
    }
}

/// The one shared copy of a class (process-wide, append-only: the number
/// of classes grows with insurers and wordings, not with users).
pub fn intern(class: ContractClass) -> &'static ContractClass {
    type Classes = HashSet<&'static ContractClass, foldhash::fast::RandomState>;
    static CLASSES: Mutex<Option<Classes>> = Mutex::new(None);
    let mut classes = CLASSES.lock().unwrap_or_else(|e| e.into_inner());
    let classes = classes.get_or_insert_with(Classes::default);
    if let Some(c) = classes.get(&class) {
        return c;
    }
    let c: &'static ContractClass = Box::leak(Box::new(class));
    classes.insert(c);
    c
}

/// What one payment says about its contract.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedFacts {
    pub class: ContractClass,
    pub mandate_reference: Option<String>,
    pub contract_number: Option<String>,
}

/// A payment's facts, borrowed from wherever they are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    pub class: &'a ContractClass,
    pub mandate_reference: Option<&'a str>,
    pub contract_number: Option<&'a str>,
}

impl OwnedFacts {
    pub fn borrow(&self) -> Facts<'_> {
        Facts {
            class: &self.class,
            mandate_reference: self.mandate_reference.as_deref(),
            contract_number: self.contract_number.as_deref(),
        }
    }
}

/// The facts of a candidate payment of type `itype` (see [`payment_type`]).
pub fn facts_of(
    itype: &'static str,
    purpose: Option<&str>,
    counterpart_name: Option<&str>,
    creditor_id: Option<&str>,
    mandate_reference: Option<&str>,
) -> OwnedFacts {
    let number = purpose.and_then(contract_number);
    let provider = providers::identify(creditor_id, counterpart_name, purpose);
    // A creditor id with mandate, or a contract number, identifies the
    // contract whatever type the text of one payment suggests.
    let (key, key_name) = if let Some(cid) = creditor_id {
        (KeyKind::Creditor, cid.to_uppercase())
    } else if number.is_some() {
        (KeyKind::Number, String::new())
    } else {
        // Without a creditor id, `provider` is the one the texts name.
        let name = provider.map(|p| p.id.clone()).unwrap_or_else(|| {
            counterpart_name
                .unwrap_or("?")
                .to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        });
        (KeyKind::Name, name)
    };
    OwnedFacts {
        class: ContractClass {
            itype,
            key,
            key_name: key_name.into(),
            yearly_text: yearly_text(purpose, counterpart_name),
            provider,
            counterpart_name: counterpart_name.map(Into::into),
            creditor_id: creditor_id.map(Into::into),
        },
        mandate_reference: mandate_reference.map(str::to_owned),
        contract_number: number,
    }
}

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
struct Contract<'p, 'a> {
    itype: &'static str,
    inside: Vec<&'p Payment<'a>>,
    before: Vec<&'p Payment<'a>>,
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
fn group_key<'a>(p: &Payment<'a>) -> (KeyKind, &'a str, &'a str) {
    let f = p.facts;
    match f.class.key {
        KeyKind::Creditor => (
            KeyKind::Creditor,
            &f.class.key_name,
            f.mandate_reference.unwrap_or(""),
        ),
        KeyKind::Number => (KeyKind::Number, f.contract_number.unwrap_or(""), ""),
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
fn contracts<'p, 'a>(
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

fn push_opt_string(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => push_string(out, s),
        None => out.push_str("null"),
    }
}

/// A listed contract, as the member entry shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed<'a> {
    account_id: &'a str,
    amount: Amount,
    annual_amount: Amount,
    contract_number: Option<&'a str>,
    creditor_id: Option<&'a str>,
    first: Date,
    frequency: Frequency,
    itype: &'static str,
    last: Date,
    mandate_reference: Option<&'a str>,
    next_expected: Option<Date>,
    count: usize,
    provider: &'a str,
    provider_id: Option<&'a str>,
    transaction_ids: Vec<Cow<'a, str>>,
}

/// What the rule found for a user: listed contracts and the types seen.
enum Found<'a> {
    Member(Vec<Listed<'a>>, Vec<&'static str>),
    NotMember,
    WithoutData,
}

fn find<'a>(
    accounts: &[AccountPayments<'a>],
    any_in_period: bool,
    period: Period,
    insurance_types: Option<&[&'static str]>,
    include_users_without_contracts: bool,
) -> Found<'a> {
    let mut all_types: Vec<&'static str> = Vec::new();
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
            if !all_types.contains(&g.itype) {
                all_types.push(g.itype);
            }
            if insurance_types.is_some_and(|ts| !ts.contains(&g.itype)) {
                continue;
            }
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

/// The member entry's JSON (keys in the order `serde_json` writes them).
fn write_member(user_id: &str, listed: &[Listed<'_>], missing: &[&str]) -> String {
    let mut out = String::with_capacity(256 + listed.len() * 600);
    out.push_str("{\"contracts\":[");
    for (i, c) in listed.iter().enumerate() {
        out.push_str(if i == 0 { "{" } else { ",{" });
        out.push_str("\"accountId\":");
        push_string(&mut out, c.account_id);
        let _ = write!(
            out,
            ",\"amount\":{},\"annualAmount\":{},\"contractNumber\":",
            c.amount, c.annual_amount
        );
        push_opt_string(&mut out, c.contract_number);
        out.push_str(",\"creditorId\":");
        push_opt_string(&mut out, c.creditor_id);
        let _ = write!(
            out,
            ",\"firstPaymentDate\":\"{}\",\"frequency\":\"{}\",\"insuranceType\":\"{}\",\"lastPaymentDate\":\"{}\",\"mandateReference\":",
            c.first,
            c.frequency.name(),
            c.itype,
            c.last
        );
        push_opt_string(&mut out, c.mandate_reference);
        match c.next_expected {
            Some(d) => {
                let _ = write!(out, ",\"nextExpectedDate\":\"{d}\"");
            }
            None => out.push_str(",\"nextExpectedDate\":null"),
        }
        let _ = write!(out, ",\"paymentCount\":{},\"provider\":", c.count);
        push_string(&mut out, c.provider);
        out.push_str(",\"providerId\":");
        push_opt_string(&mut out, c.provider_id);
        out.push_str(",\"transactionIds\":[");
        for (k, id) in c.transaction_ids.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            push_string(&mut out, id);
        }
        out.push_str("]}");
    }
    out.push_str("],\"missingTypes\":[");
    for (n, t) in missing.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_string(&mut out, t);
    }
    out.push_str("],\"userId\":");
    push_string(&mut out, user_id);
    out.push('}');
    out
}

/// How a member is stored: [`PACKED`], then tokens, each a number ended by
/// `;`, a text as `length:bytes`, `-` for none or `=` for "as derived".
/// The account ids come first, front-coded against the user id (bytes
/// shared, then the rest); then the missing types as a bit set over
/// [`COMMON_TYPES`]; then per contract: account, amount, frequency, the
/// annual amount (`=`: amount × payments a year), contract number,
/// creditor id, the first payment's day number, the last's and the next
/// expected day as steps from the one before, mandate reference, type,
/// provider (`=`: the directory's name for the provider id), provider id,
/// the number of ids, the payment count (`=`: as many as ids), and the
/// transaction ids, each after the one before it (the account id for the
/// first): `+step;` when only its trailing number grew, else front-coded.
/// The JSON is written on read by [`unpack`]: a fifth of its bytes, where
/// the results' bytes are most of a large job's cost.
pub const PACKED: &str = "~J";

/// The stored form before [`PACKED`] (no derived fields, ids front-coded
/// only): still read, since results outlive an upgrade.
const PACKED_V1: &str = "~I";

const FREQUENCIES: [Frequency; 6] = [
    Frequency::Monthly,
    Frequency::Bimonthly,
    Frequency::Quarterly,
    Frequency::HalfYearly,
    Frequency::Yearly,
    Frequency::Irregular,
];

fn put_num(o: &mut String, n: i64) {
    crate::json::push_int(o, n);
    o.push(';');
}

fn put_text(o: &mut String, s: Option<&str>) {
    match s {
        Some(s) => {
            crate::json::push_int(o, s.len());
            o.push(':');
            o.push_str(s);
        }
        None => o.push('-'),
    }
}

/// `s` front-coded against `previous`: the bytes shared, then the rest.
fn put_front_coded(o: &mut String, previous: &str, s: &str) {
    let shared = shared_prefix(previous, s);
    put_num(o, shared as i64);
    put_text(o, Some(&s[shared..]));
}

/// The bytes `id` shares with `previous` at its start, cut back to a
/// character boundary (front coding of transaction ids).
pub fn shared_prefix(previous: &str, id: &str) -> usize {
    let shared = previous
        .bytes()
        .zip(id.bytes())
        .take_while(|(x, y)| x == y)
        .count();
    (0..=shared)
        .rev()
        .find(|n| id.is_char_boundary(*n))
        .unwrap_or(0)
}

/// Where the run of ASCII digits that ends `s` starts, and its value: at
/// most 18 digits, so that it fits a `u64`.
fn trailing_number(s: &str) -> Option<(usize, u64)> {
    let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let start = s.len() - digits;
    Some((start, s[start..].parse().ok()?))
}

/// How far `id`'s trailing number is past `previous`'s, when that is all
/// that tells them apart (same text before it, same width): banks number
/// their bookings, so a contract's ids are often a few apart.
fn number_step(previous: &str, id: &str) -> Option<u64> {
    let (start, before) = trailing_number(previous)?;
    let (id_start, value) = trailing_number(id)?;
    (start == id_start
        && previous.len() == id.len()
        && previous[..start] == id[..start]
        && value > before)
        .then(|| value - before)
}

/// `previous` with its trailing number advanced by `step` (the inverse of
/// [`number_step`]); `None` when the number would outgrow its width.
fn advance_number(previous: &str, step: u64) -> Option<String> {
    let (start, value) = trailing_number(previous)?;
    let digits = value.checked_add(step)?.to_string();
    let width = previous.len() - start;
    if digits.len() > width {
        return None;
    }
    let mut id = String::with_capacity(previous.len());
    id.push_str(&previous[..start]);
    id.extend(std::iter::repeat_n('0', width - digits.len()));
    id.push_str(&digits);
    Some(id)
}

fn pack(user_id: &str, listed: &[Listed<'_>], missing: &[&str]) -> String {
    let mut o = String::with_capacity(64 + listed.len() * 128);
    o.push_str(PACKED);
    let mut accounts: Vec<&str> = Vec::new();
    for c in listed {
        if !accounts.contains(&c.account_id) {
            accounts.push(c.account_id);
        }
    }
    put_num(&mut o, accounts.len() as i64);
    for a in &accounts {
        put_front_coded(&mut o, user_id, a);
    }
    let bits = COMMON_TYPES
        .iter()
        .enumerate()
        .filter(|(_, t)| missing.contains(t))
        .fold(0, |b, (i, _)| b | (1 << i));
    put_num(&mut o, bits);
    put_num(&mut o, listed.len() as i64);
    for c in listed {
        let account = accounts.iter().position(|a| *a == c.account_id);
        put_num(&mut o, account.expect("listed above") as i64);
        put_num(&mut o, c.amount.cents());
        let f = FREQUENCIES.iter().position(|f| *f == c.frequency);
        put_num(&mut o, f.expect("every frequency") as i64);
        if c.frequency.annual(c.amount) == Some(c.annual_amount) {
            o.push('=');
        } else {
            put_num(&mut o, c.annual_amount.cents());
        }
        put_text(&mut o, c.contract_number);
        put_text(&mut o, c.creditor_id);
        put_num(&mut o, c.first.days().into());
        put_num(&mut o, (c.last.days() - c.first.days()).into());
        match c.next_expected {
            Some(d) => put_num(&mut o, (d.days() - c.last.days()).into()),
            None => o.push('-'),
        }
        put_text(&mut o, c.mandate_reference);
        let t = INSURANCE_TYPES.iter().position(|(t, _)| *t == c.itype);
        put_num(&mut o, t.expect("a taxonomy type") as i64);
        let directory_name = c.provider_id.and_then(providers::by_id).map(|p| &*p.name);
        if directory_name == Some(c.provider) {
            o.push('=');
        } else {
            put_text(&mut o, Some(c.provider));
        }
        put_text(&mut o, c.provider_id);
        put_num(&mut o, c.transaction_ids.len() as i64);
        if c.count == c.transaction_ids.len() {
            o.push('=');
        } else {
            put_num(&mut o, c.count as i64);
        }
        let mut previous: &str = c.account_id;
        for id in &c.transaction_ids {
            match number_step(previous, id) {
                Some(step) => {
                    o.push('+');
                    put_num(&mut o, step as i64);
                }
                None => put_front_coded(&mut o, previous, id),
            }
            previous = id;
        }
    }
    o
}

/// Reads the tokens of a packed member.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn num(&mut self) -> Option<i64> {
        let (n, rest) = self.rest.split_once(';')?;
        self.rest = rest;
        n.parse().ok()
    }
    fn index(&mut self) -> Option<usize> {
        usize::try_from(self.num()?).ok()
    }
    /// Whether the next token is `mark`, and if so, past it.
    fn marked(&mut self, mark: char) -> bool {
        match self.rest.strip_prefix(mark) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }
    fn opt_num(&mut self) -> Option<Option<i64>> {
        if self.marked('-') {
            return Some(None);
        }
        self.num().map(Some)
    }
    fn text(&mut self) -> Option<Option<&'a str>> {
        if self.marked('-') {
            return Some(None);
        }
        let (len, rest) = self.rest.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let text = rest.get(..len)?;
        self.rest = &rest[len..];
        Some(Some(text))
    }
    fn day(&mut self) -> Option<Date> {
        Some(Date::from_days(i32::try_from(self.num()?).ok()?))
    }
    fn day_after(&mut self, before: Date) -> Option<Date> {
        let step = i32::try_from(self.num()?).ok()?;
        Some(Date::from_days(before.days().checked_add(step)?))
    }
    /// A front-coded text: the bytes it shares with `previous`, then the rest.
    fn front_coded(&mut self, previous: &str) -> Option<String> {
        let shared = self.index()?;
        let mut s = previous.get(..shared)?.to_owned();
        s.push_str(self.text()??);
        Some(s)
    }
}

/// The member's JSON from its stored form; `None` when `stored` is not one.
pub fn unpack(user_id: &str, stored: &str) -> Option<String> {
    let (current, rest) = match stored.strip_prefix(PACKED) {
        Some(rest) => (true, rest),
        None => (false, stored.strip_prefix(PACKED_V1)?),
    };
    let mut t = Tokens { rest };
    let accounts = (0..t.num()?)
        .map(|_| {
            if current {
                t.front_coded(user_id)
            } else {
                t.text()?.map(str::to_owned)
            }
        })
        .collect::<Option<Vec<String>>>()?;
    let accounts: Vec<&str> = accounts.iter().map(String::as_str).collect();
    let (missing, listed) = if current {
        contracts_v2(&mut t, &accounts)?
    } else {
        contracts_v1(&mut t, &accounts)?
    };
    t.rest
        .is_empty()
        .then(|| write_member(user_id, &listed, &missing))
}

fn missing_types(bits: i64) -> Vec<&'static str> {
    COMMON_TYPES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, t)| *t)
        .collect()
}

type Decoded<'a> = (Vec<&'static str>, Vec<Listed<'a>>);

/// The missing types and contracts of a [`PACKED`] member.
fn contracts_v2<'a>(t: &mut Tokens<'a>, accounts: &[&'a str]) -> Option<Decoded<'a>> {
    let missing = missing_types(t.num()?);
    let mut listed = Vec::new();
    for _ in 0..t.num()? {
        let account_id = *accounts.get(t.index()?)?;
        let amount = Amount::from_cents(t.num()?);
        let frequency = *FREQUENCIES.get(t.index()?)?;
        let annual_amount = if t.marked('=') {
            frequency.annual(amount)?
        } else {
            Amount::from_cents(t.num()?)
        };
        let contract_number = t.text()?;
        let creditor_id = t.text()?;
        let first = t.day()?;
        let last = t.day_after(first)?;
        let next_expected = if t.marked('-') {
            None
        } else {
            Some(t.day_after(last)?)
        };
        let mandate_reference = t.text()?;
        let itype = INSURANCE_TYPES.get(t.index()?)?.0;
        let named = t.marked('=');
        let provider = if named { None } else { Some(t.text()??) };
        let provider_id = t.text()?;
        let provider = match provider {
            Some(p) => p,
            None => &providers::by_id(provider_id?)?.name,
        };
        let ids = t.index()?;
        let count = if t.marked('=') { ids } else { t.index()? };
        // Every id takes two bytes at least: a damaged count is no allocation.
        let mut transaction_ids: Vec<Cow<'_, str>> = Vec::with_capacity(ids.min(t.rest.len() / 2));
        let mut previous = account_id.to_owned();
        for _ in 0..ids {
            let id = if t.marked('+') {
                advance_number(&previous, u64::try_from(t.num()?).ok()?)?
            } else {
                t.front_coded(&previous)?
            };
            previous.clone_from(&id);
            transaction_ids.push(Cow::Owned(id));
        }
        listed.push(Listed {
            account_id,
            amount,
            annual_amount,
            contract_number,
            creditor_id,
            first,
            frequency,
            itype,
            last,
            mandate_reference,
            next_expected,
            count,
            provider,
            provider_id,
            transaction_ids,
        });
    }
    Some((missing, listed))
}

/// The missing types and contracts of a [`PACKED_V1`] member.
fn contracts_v1<'a>(t: &mut Tokens<'a>, accounts: &[&'a str]) -> Option<Decoded<'a>> {
    let missing = missing_types(t.num()?);
    let mut listed = Vec::new();
    for _ in 0..t.num()? {
        // `~I` lists the fields in the struct's order, and a struct
        // expression evaluates its fields in the order written.
        listed.push(Listed {
            account_id: accounts.get(t.index()?)?,
            amount: Amount::from_cents(t.num()?),
            annual_amount: Amount::from_cents(t.num()?),
            contract_number: t.text()?,
            creditor_id: t.text()?,
            first: t.day()?,
            frequency: *FREQUENCIES.get(t.index()?)?,
            itype: INSURANCE_TYPES.get(t.index()?)?.0,
            last: t.day()?,
            mandate_reference: t.text()?,
            next_expected: match t.opt_num()? {
                Some(d) => Some(Date::from_days(i32::try_from(d).ok()?)),
                None => None,
            },
            count: t.index()?,
            provider: t.text()??,
            provider_id: t.text()?,
            transaction_ids: {
                let mut ids: Vec<Cow<'_, str>> = Vec::new();
                let mut previous = String::new();
                for _ in 0..t.num()? {
                    let id = t.front_coded(&previous)?;
                    previous.clone_from(&id);
                    ids.push(Cow::Owned(id));
                }
                ids
            },
        });
    }
    Some((missing, listed))
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
) -> Verdict {
    match render(
        user,
        period,
        insurance_types,
        include_users_without_contracts,
    ) {
        Rendered::Member(stored) => {
            let json = unpack(&user.id, &stored).expect("the rule packs what it unpacks");
            Verdict::Member(serde_json::from_str(&json).expect("the rule writes valid JSON"))
        }
        Rendered::NotMember => Verdict::NotMember,
        Rendered::WithoutData => Verdict::WithoutData,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountType;
    use crate::segments::AccountData;
    use crate::segments::Tx;
    use serde_json::json;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn ins(
        id: &str,
        day: &str,
        cents: i64,
        label: &str,
        name: &str,
        purpose: &str,
        cid: Option<&str>,
    ) -> Tx {
        let mut l = LabelSet::default();
        l.insert(Label::parse(label).unwrap());
        Tx {
            id: id.into(),
            amount: Amount::from_cents(cents),
            booking_date: d(day),
            labels: l,
            purpose: Some(purpose.into()),
            counterpart_name: Some(name.into()),
            counterpart_iban: None,
            creditor_id: cid.map(str::to_owned),
            mandate_reference: cid.map(|_| "M-1".to_owned()),
        }
    }

    fn user(txs: Vec<Tx>) -> UserData {
        let mut txs = txs;
        txs.sort_by_key(|t| t.booking_date);
        UserData {
            id: "u".into(),
            accounts: vec![AccountData {
                id: "c".into(),
                account_type: AccountType::Checking,
                iban: None,
                balance: Amount::ZERO,
                balance_date: d("2026-11-25"),
                data_since: None,
                daily_balances: vec![],
                transactions: txs,
            }],
        }
    }

    #[test]
    fn monthly_car_and_yearly_liability() {
        let mut txs: Vec<Tx> = (1..=10)
            .map(|m| {
                ins(
                    &format!("car{m}"),
                    &format!("2026-{m:02}-01"),
                    -45_90,
                    "CARINSURANCE",
                    "HUK-COBURG",
                    "Kfz-Vers. Vertrag 4711-0815 Beitrag",
                    Some("DE12ZZZ00000012345"),
                )
            })
            .collect();
        txs.push(ins(
            "liab",
            "2026-03-15",
            -79_00,
            "LIABILITYINSURANCE",
            "Allianz Versicherungs-AG",
            "Privathaftpflicht Jahresbeitrag VSNR 9988776",
            None,
        ));
        // Outside the lookback (the creation month): ignored.
        txs.push(ins(
            "car11",
            "2026-11-02",
            -45_90,
            "CARINSURANCE",
            "HUK-COBURG",
            "Kfz-Vers. Beitrag",
            Some("DE12ZZZ00000012345"),
        ));
        let p = Period::last_complete_months(d("2026-11-25"), 12);
        let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
            panic!()
        };
        let c = m["contracts"].as_array().unwrap();
        assert_eq!(c.len(), 2);
        let car = c.iter().find(|c| c["insuranceType"] == "CAR").unwrap();
        assert_eq!(car["provider"], "HUK-COBURG");
        assert_eq!(car["frequency"], "MONTHLY");
        assert_eq!(car["amount"].to_string(), "45.90");
        assert_eq!(car["annualAmount"].to_string(), "550.80");
        assert_eq!(car["paymentCount"], 10);
        assert_eq!(car["nextExpectedDate"], "2026-11-01");
        assert_eq!(car["contractNumber"], "4711-0815");
        let liab = c
            .iter()
            .find(|c| c["insuranceType"] == "LIABILITY")
            .unwrap();
        assert_eq!(liab["frequency"], "YEARLY");
        assert_eq!(liab["provider"], "Allianz");
        assert_eq!(liab["providerId"], "allianz");
        assert_eq!(liab["annualAmount"].to_string(), "79.00");
        assert_eq!(liab["contractNumber"], "9988776");
        assert_eq!(
            m["missingTypes"],
            json!(["HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"])
        );
    }

    #[test]
    fn filters_and_users_without_contracts() {
        let txs = vec![ins(
            "h",
            "2026-05-01",
            -12_00,
            "HOUSEHOLDINSURANCE",
            "Gothaer",
            "Hausrat",
            None,
        )];
        let p = Period::last_complete_months(d("2026-11-25"), 12);
        assert_eq!(
            evaluate(&user(txs.clone()), p, Some(&["CAR"]), false),
            Verdict::NotMember
        );
        // One payment in a year-long lookback, months before its end: the
        // pattern of a yearly contract (a shorter interval would show again).
        let Verdict::Member(m) = evaluate(&user(txs.clone()), p, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "YEARLY");
        // In a six-month lookback, without a word for yearly: IRREGULAR.
        let six = Period::last_complete_months(d("2026-11-25"), 6);
        let Verdict::Member(m) = evaluate(&user(txs), six, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "IRREGULAR");
        // A first payment in the last two months may be a new monthly contract: IRREGULAR.
        let recent = vec![ins(
            "h2",
            "2026-10-01",
            -12_00,
            "HOUSEHOLDINSURANCE",
            "Gothaer",
            "Hausrat",
            None,
        )];
        let Verdict::Member(m) = evaluate(&user(recent), p, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "IRREGULAR");
        let plain = Tx::plain("groceries", d("2026-06-01"), Amount::from_cents(-20_00));
        let Verdict::Member(m) = evaluate(&user(vec![plain.clone()]), p, None, true) else {
            panic!()
        };
        assert_eq!(m["contracts"], json!([]));
        assert_eq!(m["missingTypes"].as_array().unwrap().len(), 5);
        assert_eq!(
            evaluate(&user(vec![plain]), p, None, false),
            Verdict::NotMember
        );
        assert_eq!(evaluate(&user(vec![]), p, None, true), Verdict::WithoutData);
    }

    #[test]
    fn stored_form_keeps_any_text() {
        // Separators of the packed form, and ids that share a multi-byte prefix.
        let txs = vec![
            ins(
                "ü1;",
                "2026-04-01",
                -5_00,
                "PETINSURANCE",
                "7:x;-",
                "Tier",
                None,
            ),
            ins(
                "ü2:",
                "2026-05-01",
                -5_00,
                "PETINSURANCE",
                "7:x;-",
                "Tier",
                None,
            ),
        ];
        let p = Period::last_complete_months(d("2026-11-25"), 12);
        let Rendered::Member(stored) = render(&user(txs.clone()), p, None, false) else {
            panic!()
        };
        assert!(stored.starts_with(PACKED));
        let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["provider"], "7:x;-");
        assert_eq!(m["contracts"][0]["transactionIds"], json!(["ü1;", "ü2:"]));
        assert_eq!(unpack("u", "~I1;"), None);
        assert_eq!(unpack("u", "{}"), None);
    }

    #[test]
    fn the_earlier_stored_form_still_reads() {
        // One user's member as the previous format stored it (`~I`) and as the
        // rule stores it now (`~J`), from two jobs over the same data.
        let v1 = "~I1;25:demo-user-010003-checking30;4;0;20343;81372;8:7797183618:DE31ZZZ0001000001420424;2;1;20698;10:LV7797183620789;4;3:LVM3:lvm4;0;31:demo-user-010003-checking-0011729;2:4929;2:9628;3:2340;4939;59268;8:4848989518:DE37ZZZ0001000000320423;0;1;20759;10:HC4848989520789;12;10:HUK-COBURG10:huk-coburg12;0;31:demo-user-010003-checking-0011529;2:2929;2:4029;2:5129;2:6429;2:8029;2:9428;3:20929;2:2129;2:3229;2:4529;2:590;5352;5352;8:6026165918:DE37ZZZ0001000000320549;4;3;20549;10:HC6026165920914;1;10:HUK-COBURG10:huk-coburg1;0;31:demo-user-010003-checking-001670;11805;141660;8:9097009018:DE91ZZZ0001000000120423;0;1;20759;10:AL9097009020789;12;7:Allianz7:allianz12;0;31:demo-user-010003-checking-0011429;2:2829;2:3929;2:5029;2:6329;2:7929;2:9328;3:20829;2:2029;2:3129;2:4429;2:58";
        let v2 = "~J1;16;9:-checking30;4;0;20343;2;=8:7797183618:DE31ZZZ0001000001420424;274;91;10:LV779718361;=3:lvm4;=25;6:-00117+32;+47;+38;0;4939;0;=8:4848989518:DE37ZZZ0001000000320423;336;30;10:HC484898951;=10:huk-coburg12;=25;6:-00115+14;+11;+11;+13;+16;+14;+15;+12;+11;+13;+14;0;5352;4;=8:6026165918:DE37ZZZ0001000000320549;0;365;10:HC602616593;=10:huk-coburg1;=25;6:-001670;11805;0;=8:9097009018:DE91ZZZ0001000000120423;336;30;10:AL909700901;=7:allianz12;=25;6:-00114+14;+11;+11;+13;+16;+14;+15;+12;+11;+13;+14;";
        let user = "demo-user-010003";
        let json = unpack(user, v1).unwrap();
        assert_eq!(unpack(user, v2).unwrap(), json);
        let m: serde_json::Value = serde_json::from_str(&json).unwrap();
        let c = &m["contracts"][0];
        assert_eq!(c["provider"], "LVM");
        assert_eq!(c["annualAmount"], 813.72);
        assert_eq!(c["nextExpectedDate"], "2026-12-02");
        assert_eq!(
            c["transactionIds"],
            json!([
                "demo-user-010003-checking-00117",
                "demo-user-010003-checking-00149",
                "demo-user-010003-checking-00196",
                "demo-user-010003-checking-00234"
            ])
        );
        assert_eq!(m["contracts"][2]["frequency"], "YEARLY");
        assert_eq!(m["contracts"][2]["annualAmount"], 53.52);
        assert_eq!(
            m["missingTypes"],
            json!(["HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"])
        );
        // A step past the number's width, or a truncated member, is no member.
        assert_eq!(unpack(user, &v2.replace("+38;", "+99999;")), None);
        assert_eq!(unpack(user, &v2[..v2.len() - 1]), None);
        // A damaged id count is no member, and no allocation of its size.
        let damaged = v2.replacen("huk-coburg12;=", "huk-coburg999999999999999;=", 1);
        assert_ne!(damaged, v2);
        assert_eq!(unpack(user, &damaged), None);
    }

    #[test]
    fn trailing_numbers_step_only_within_their_width() {
        assert_eq!(number_step("tx-0099", "tx-0100"), Some(1));
        assert_eq!(advance_number("tx-0099", 1).as_deref(), Some("tx-0100"));
        assert_eq!(number_step("tx-0100", "tx-0099"), None);
        assert_eq!(number_step("tx-99", "tx-100"), None);
        assert_eq!(number_step("a-1", "b-2"), None);
        assert_eq!(advance_number("tx-99", 1), None);
        assert_eq!(advance_number("tx-", 1), None);
        let long = "1".repeat(19);
        assert_eq!(number_step(&long, &"2".repeat(19)), None);
    }

    use proptest::strategy::Strategy as _;

    /// `contract_number` as it was written first: each marker searched
    /// for in a lower-cased copy, in order.
    fn contract_number_by_search(purpose: &str) -> Option<String> {
        let lower = purpose.to_ascii_lowercase();
        NUMBER_MARKERS
            .iter()
            .filter_map(|m| lower.find(m).map(|i| i + m.len()))
            .find_map(|after| number_after_marker(&purpose[after..]))
            .or_else(|| long_digit_run(purpose))
    }

    /// `yearly_text` as it was written first: every word searched for in
    /// a lower-cased copy.
    fn yearly_text_by_search(purpose: Option<&str>, name: Option<&str>) -> bool {
        let text = format!("{} {}", purpose.unwrap_or(""), name.unwrap_or("")).to_lowercase();
        YEARLY_WORDS.iter().any(|k| text.contains(k))
    }

    #[test]
    fn contract_numbers_and_yearly_words_are_found_in_any_case() {
        assert_eq!(
            contract_number("KFZ-Haftpflicht VERS.-NR. AB-1234/5 Beitrag").as_deref(),
            Some("AB-1234/5")
        );
        // A marker whose token has too few digits gives way to the next.
        assert_eq!(
            contract_number("Vertrag 12 Police: 99887").as_deref(),
            Some("99887")
        );
        assert_eq!(
            contract_number("Beitrag 11/2026 Kd 12345678").as_deref(),
            Some("12345678")
        );
        assert_eq!(contract_number("Beitrag 11/2026"), None);
        assert!(yearly_text(Some("JAHRESBEITRAG 2026"), None));
        assert!(yearly_text(Some("Beitrag 1/1"), Some("Jahr Versicherung")));
        assert!(yearly_text(Some("Prämie JÄHRLICH"), None));
        assert!(!yearly_text(Some("Beitrag 11/2026"), Some("HUK-COBURG")));
    }

    proptest::proptest! {
        /// The one-pass searches find what a search of a lower-cased copy,
        /// marker by marker, found.
        #[test]
        fn contract_numbers_and_yearly_words_are_found_as_by_search(
            parts in proptest::collection::vec(proptest::prop_oneof![
                // A marker and what may follow it: a number, or too few digits.
                (
                    proptest::sample::select(NUMBER_MARKERS.to_vec()),
                    "[ .:-]{0,2}",
                    "[0-9]{0,7}[A-Z/-]{0,2}[0-9]{0,3}",
                    "[ ,]{0,1}",
                ).prop_map(|(m, sep, token, end)| format!("{m}{sep}{token}{end}")),
                proptest::sample::select(YEARLY_WORDS.to_vec()).prop_map(str::to_owned),
                "[VvEeRrSsNnTtAaGgPpOoLlIiCc.:/ -]{0,6}",
                "[0-9A-Za-z/-]{0,9}",
                "[äÄüÜß€ 1]{0,3}",
            ], 0..8),
            upper in proptest::collection::vec(proptest::bool::ANY, 8),
            name in proptest::option::of("[a-zA-Zä /1.]{0,12}"),
        ) {
            let purpose: String = parts
                .iter()
                .zip(upper.iter().cycle())
                .map(|(p, &u)| if u { p.to_uppercase() } else { p.clone() })
                .collect();
            proptest::prop_assert_eq!(contract_number(&purpose), contract_number_by_search(&purpose));
            proptest::prop_assert_eq!(
                yearly_text(Some(&purpose), name.as_deref()),
                yearly_text_by_search(Some(&purpose), name.as_deref())
            );
        }
    }

    proptest::proptest! {
        /// Whatever the ids, texts and figures, the stored form reads back
        /// as the JSON written straight from the contracts.
        #[test]
        fn the_stored_form_reads_back_as_written(
            user in "[a-z0-9ü-]{0,8}",
            contracts in proptest::collection::vec((
                0usize..3,
                (1i64..10_000_000, 0usize..6, proptest::option::of(1i64..100_000_000)),
                (proptest::option::of("[0-9A-Z;:=+ -]{0,12}"), proptest::option::of("[0-9A-Z]{0,18}")),
                (0i32..30_000, 0i32..800, proptest::option::of(0i32..800)),
                (0usize..INSURANCE_TYPES.len(), proptest::option::of(0usize..200), "[a-zA-Z;:= -]{0,10}"),
                (proptest::collection::vec(("[a-z0-9;:+ü-]{0,6}", 0u64..1_000), 0..14), proptest::option::of(0usize..20)),
            ), 0..4),
            missing_bits in 0u32..32,
        ) {
            let accounts = [format!("{user}-checking"), format!("{user}-savings"), "other0".to_owned()];
            let directory = providers::all();
            let listed: Vec<Listed<'_>> = contracts
                .iter()
                .map(|(account, (amount, f, annual), (number, creditor), (first, last, next), (t, provider, name), (ids, count))| {
                    let frequency = FREQUENCIES[*f];
                    let amount = Amount::from_cents(*amount);
                    // Ids that step, that share a front, and that do neither.
                    let mut previous = accounts[*account].clone();
                    let transaction_ids: Vec<Cow<'_, str>> = ids
                        .iter()
                        .map(|(text, step)| {
                            let id = match advance_number(&previous, *step) {
                                Some(id) if *step % 3 != 0 => id,
                                _ => {
                                    let half = previous.chars().count() / 2;
                                    let front: String = previous.chars().take(half).collect();
                                    format!("{front}{text}{step}")
                                }
                            };
                            previous.clone_from(&id);
                            Cow::Owned(id)
                        })
                        .collect();
                    let provider = provider.map(|p| &directory[p % directory.len()]);
                    let first = Date::from_days(*first);
                    let last = first.add_days(*last);
                    Listed {
                        account_id: &accounts[*account],
                        amount,
                        annual_amount: annual.map_or_else(
                            || frequency.annual(amount).unwrap_or(amount),
                            Amount::from_cents,
                        ),
                        contract_number: number.as_deref(),
                        creditor_id: creditor.as_deref(),
                        first,
                        frequency,
                        itype: INSURANCE_TYPES[*t].0,
                        last,
                        mandate_reference: number.as_deref().map(|n| &n[..n.len() / 2]),
                        next_expected: next.map(|n| last.add_days(n)),
                        count: count.unwrap_or(transaction_ids.len()),
                        provider: provider.map_or(name.as_str(), |p| p.name.as_str()),
                        provider_id: provider.map(|p| p.id.as_str()),
                        transaction_ids,
                    }
                })
                .collect();
            let missing = missing_types(i64::from(missing_bits));
            let stored = pack(&user, &listed, &missing);
            proptest::prop_assert_eq!(
                unpack(&user, &stored),
                Some(write_member(&user, &listed, &missing))
            );
        }
    }

    #[test]
    fn a_yearly_payment_recognised_by_the_same_amount_a_year_before() {
        let txs = vec![
            ins(
                "y1",
                "2025-02-03",
                -310_00,
                "LEGALINSURANCE",
                "ARAG SE",
                "Beitrag",
                None,
            ),
            ins(
                "y2",
                "2026-02-02",
                -310_00,
                "LEGALINSURANCE",
                "ARAG SE",
                "Beitrag",
                None,
            ),
        ];
        // 2026-05 … 2026-10: no transaction at all in the lookback.
        let p = Period::last_complete_months(d("2026-11-25"), 6);
        assert_eq!(
            evaluate(&user(txs.clone()), p, None, false),
            Verdict::WithoutData
        );
        let p = Period::last_complete_months(d("2026-11-25"), 12); // 2025-11 … 2026-10: one payment
        let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
            panic!()
        };
        assert_eq!(m["contracts"][0]["frequency"], "YEARLY");
        assert_eq!(m["contracts"][0]["provider"], "ARAG");
        assert_eq!(m["contracts"][0]["nextExpectedDate"], "2027-02-02");
    }
}
