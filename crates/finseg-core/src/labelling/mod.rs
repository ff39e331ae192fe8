//! Rule-based labelling (SPEC §4): rules are data, evaluated against the
//! signals a German bank statement carries. Every label records the rule
//! that set it.
//!
//! A rule holds when all of its conditions hold; a condition with a list
//! holds when any element matches. Text conditions match keywords in the
//! normalised text (lower case, umlauts folded, punctuation as spaces,
//! padded with spaces, so that `" kv "` matches the word and `"versich"`
//! matches inside words). All keywords of all rules go into one
//! Aho-Corasick automaton, so a transaction's text is scanned once.

use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use crate::Amount;
use crate::labels::{Label, LabelSet};
use crate::providers;

/// The signals of an ingested transaction.
pub fn signals(t: &crate::record::TransactionRecord) -> Signals<'_> {
    Signals {
        amount: t.amount,
        purpose: t.purpose.as_deref(),
        counterpart_name: t.counterpart_name.as_deref(),
        counterpart_iban: t.counterpart_iban.as_ref().map(|i| i.as_str()),
        creditor_id: t.creditor_id.as_deref(),
        mandate_reference: t.mandate_reference.as_deref(),
        bank_transaction_code: t.bank_transaction_code.as_deref(),
        sepa_purpose_code: t.sepa_purpose_code.as_deref(),
        mcc: t.mcc,
    }
}

/// Labels set by rules, with their provenance (`LABEL=set/rule@version;…`),
/// shared: a rule set fires in few combinations, so each text is built once
/// per [`Scratch`] and handed out again.
pub type Labelled = (LabelSet, Option<Arc<str>>);

/// What labelling reads of a transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signals<'a> {
    pub amount: Amount,
    pub purpose: Option<&'a str>,
    pub counterpart_name: Option<&'a str>,
    pub counterpart_iban: Option<&'a str>,
    pub creditor_id: Option<&'a str>,
    /// Read by corrections only (a contract's own key with the creditor id).
    pub mandate_reference: Option<&'a str>,
    pub bank_transaction_code: Option<&'a str>,
    pub sepa_purpose_code: Option<&'a str>,
    pub mcc: Option<u16>,
}

mod compile;

pub use crate::normalise::normalise;
pub(crate) use crate::normalise::normalise_bytes;
use compile::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    In,
    Out,
}

/// Which text a keyword is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Field {
    Any,
    Counterpart,
}

#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub(super) id: String,
    pub(super) labels: LabelSet,
    pub(super) direction: Option<Direction>,
    /// Keyword ids (into the automaton) of `text`, `counterpart`, `notText`.
    pub(super) text: Vec<usize>,
    pub(super) also_text: Vec<usize>,
    pub(super) counterpart: Vec<usize>,
    pub(super) not_text: Vec<usize>,
    pub(super) sepa_purpose_code: Vec<String>,
    pub(super) bank_transaction_code: Vec<String>,
    pub(super) mcc: Vec<(u16, u16)>,
    pub(super) creditor_id: Vec<String>,
    pub(super) counterpart_iban_prefix: Vec<String>,
    pub(super) insurer: bool,
    /// See [`RuleDoc::insurer_line`].
    pub(super) insurer_line: bool,
    pub(super) unless_group: Option<LabelSet>,
    pub(super) min_amount: Option<Amount>,
    pub(super) max_amount: Option<Amount>,
    /// The rule sets an insurance label: words inside an insurer's name
    /// may serve it.
    pub(super) about_insurance: bool,
}

impl Rule {
    /// Whether the rule can hold without a keyword match (its `notText`
    /// keywords only ever veto it).
    fn is_keyword_free(&self) -> bool {
        self.text.is_empty() && self.also_text.is_empty() && self.counterpart.is_empty()
    }
}

/// A compiled rule set.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Distinct for every compiled set (a clone shares its texts): the key
    /// of its provenance texts in a [`Scratch`].
    pub(super) serial: u64,
    pub name: String,
    pub version: String,
    pub(super) rules: Vec<Rule>,
    pub(super) automaton: AhoCorasick,
    /// Keyword id → the field it is matched against.
    pub(super) fields: Vec<Field>,
    /// Rule index → `set/rule@version`.
    pub(super) rule_refs: Vec<String>,
    /// The references of the rules marked `weak`.
    pub(super) weak_refs: std::collections::HashSet<String>,
    /// Keyword id → the (rule, condition bit) pairs it serves, so that a
    /// match marks its rules at once instead of every rule scanning its keywords.
    pub(super) keyword_rules: Vec<Vec<(usize, u8)>>,
    /// Rules that can hold without a keyword match and need no code
    /// (fallbacks), in rule order. A rule that needs a keyword is only
    /// looked at when a match marked it: of 85 default rules, a
    /// transaction marks a few.
    pub(super) unconditional: Vec<usize>,
    /// Rules that can hold without a keyword match but need a code, found
    /// by the transaction's code rather than each tried in turn: 21 of the
    /// default rules, of which a transaction's codes select one or two.
    pub(super) by_code: CodeIndex,
    /// Keyword id → the insurer it is an alias of (provider index, and
    /// whether the alias is ambiguous).
    pub(super) alias_of: Vec<Option<(usize, bool)>>,
    /// Keyword id → the keyword makes a text about insurance.
    pub(super) evidence: Vec<bool>,
    /// The insurance types of which only the most specific is kept (the
    /// default rules; none for a client's rules).
    pub(super) specific_insurance: u64,
}

/// The distinct keywords of a rule set, each with the field it is matched
/// against.
#[derive(Default)]
pub(super) struct KeywordTable {
    pub(super) keywords: Vec<String>,
    pub(super) fields: Vec<Field>,
    pub(super) ids: HashMap<(String, Field), usize>,
}

impl KeywordTable {
    fn id(&mut self, keyword: String, field: Field) -> usize {
        if let Some(&id) = self.ids.get(&(keyword.clone(), field)) {
            return id;
        }
        self.keywords.push(keyword.clone());
        self.fields.push(field);
        self.ids.insert((keyword, field), self.keywords.len() - 1);
        self.keywords.len() - 1
    }
}

pub(super) const TEXT: u8 = 1;
pub(super) const ALSO_TEXT: u8 = 2;
pub(super) const COUNTERPART: u8 = 4;
pub(super) const NOT_TEXT: u8 = 8;

/// Keyword-free rules by the code they need (each under one of its kinds
/// of code: MCC, else SEPA purpose code, else bank transaction code; the
/// rule's other conditions are still checked).
#[derive(Debug, Clone, Default)]
pub(super) struct CodeIndex {
    /// MCC → 1 + its index into `mcc_rules` (0: none); MCCs have four digits.
    pub(super) mcc_slot: Vec<u16>,
    pub(super) mcc_rules: Vec<Vec<usize>>,
    /// Rules for an MCC beyond the table (none of four digits): every MCC rule.
    pub(super) all_mcc: Vec<usize>,
    /// Upper-case SEPA purpose code → rules, sorted by code.
    pub(super) sepa: Vec<(String, Vec<usize>)>,
    /// Bank transaction code → rules, sorted by code.
    pub(super) btc: Vec<(String, Vec<usize>)>,
}

pub(super) const MCC_CODES: usize = 10_000;

impl CodeIndex {
    /// Splits the keyword-free rules (in order) into those no code selects and the index.
    fn build(rules: &[Rule]) -> (Vec<usize>, Self) {
        let mut always = Vec::new();
        let mut ix = CodeIndex {
            mcc_slot: vec![0; MCC_CODES],
            ..CodeIndex::default()
        };
        fn push(list: &mut Vec<(String, Vec<usize>)>, code: String, ri: usize) {
            match list.iter_mut().find(|(c, _)| *c == code) {
                Some((_, rules)) => rules.push(ri),
                None => list.push((code, vec![ri])),
            }
        }
        for (ri, r) in rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_keyword_free())
        {
            if !r.mcc.is_empty() {
                ix.all_mcc.push(ri);
                for &(a, b) in &r.mcc {
                    for m in a..=b.min(MCC_CODES as u16 - 1) {
                        let slot = &mut ix.mcc_slot[usize::from(m)];
                        if *slot == 0 {
                            ix.mcc_rules.push(Vec::new());
                            *slot = ix.mcc_rules.len() as u16;
                        }
                        let list = &mut ix.mcc_rules[usize::from(*slot) - 1];
                        if list.last() != Some(&ri) {
                            list.push(ri);
                        }
                    }
                }
            } else if !r.sepa_purpose_code.is_empty() {
                for c in &r.sepa_purpose_code {
                    push(&mut ix.sepa, c.to_ascii_uppercase(), ri);
                }
            } else if !r.bank_transaction_code.is_empty() {
                for c in &r.bank_transaction_code {
                    push(&mut ix.btc, c.clone(), ri);
                }
            } else {
                always.push(ri);
            }
        }
        for list in [&mut ix.sepa, &mut ix.btc] {
            list.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, rules) in list.iter_mut() {
                rules.dedup();
            }
        }
        (always, ix)
    }

    /// Adds the rules the transaction's codes select (unordered, maybe repeated).
    fn select(&self, s: &Signals, out: &mut Vec<usize>) {
        if let Some(m) = s.mcc {
            match self.mcc_slot.get(usize::from(m)) {
                Some(0) => {}
                Some(&slot) => out.extend_from_slice(&self.mcc_rules[usize::from(slot) - 1]),
                None => out.extend_from_slice(&self.all_mcc),
            }
        }
        if let Some(c) = s.sepa_purpose_code {
            // The rules compare SEPA codes without regard to case.
            let found = self.sepa.binary_search_by(|(k, _)| {
                k.bytes().cmp(c.bytes().map(|b| b.to_ascii_uppercase()))
            });
            if let Ok(i) = found {
                out.extend_from_slice(&self.sepa[i].1);
            }
        }
        if let Some(c) = s.bank_transaction_code
            && let Ok(i) = self.btc.binary_search_by(|(k, _)| k.as_str().cmp(c))
        {
            out.extend_from_slice(&self.btc[i].1);
        }
    }
}

/// One label with the rule that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub label: Label,
    /// `name/rule-id@version`
    pub rule: String,
}

impl RuleSet {
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    // Over 120 lines on purpose: the per-transaction hot path in one body, its
    // state in locals and the caller's scratch.
    /// Labels a transaction: the union of the labels of every rule that
    /// holds, in rule order (so fallbacks with `unlessGroup` see what came before).
    pub fn label(&self, s: &Signals, scratch: &mut Scratch) -> LabelSet {
        scratch.provenance.clear();
        scratch.text.clear();
        scratch.counterpart_end = 0;
        // Without a counterpart field, the name a structured purpose holds.
        let counterpart = s.counterpart_name.or_else(|| {
            s.purpose
                .and_then(crate::purpose_fields::counterpart_in_purpose)
        });
        if let Some(c) = counterpart {
            normalise_bytes(c, &mut scratch.text);
        }
        scratch.counterpart_end = scratch.text.len();
        if let Some(p) = s.purpose {
            normalise_bytes(p, &mut scratch.text);
        }
        // The flags are zero but for the rules the previous call marked.
        for ri in scratch.marked.drain(..) {
            scratch.flags[ri] = 0;
        }
        if scratch.flags.len() < self.rules.len() {
            scratch.flags.resize(self.rules.len(), 0);
        }
        scratch.insurer_named = false;
        let mut context = false;
        // The longest alias named, and the longest ambiguous one: (length, provider).
        let mut named: Option<(usize, usize)> = None;
        let mut ambiguous: Option<(usize, usize)> = None;
        scratch.matches.clear();
        scratch.insurer_spans.clear();
        for m in self.automaton.find_overlapping_iter(&scratch.text) {
            let id = m.pattern().as_usize();
            let in_counterpart = m.end() <= scratch.counterpart_end;
            if self.fields[id] == Field::Any || in_counterpart {
                context |= self.evidence[id];
                if let Some((provider, is_ambiguous)) = self.alias_of[id] {
                    let slot = if is_ambiguous {
                        &mut ambiguous
                    } else {
                        &mut named
                    };
                    let len = m.end() - m.start();
                    if slot.is_none_or(|(l, _)| len > l) {
                        *slot = Some((len, provider));
                    }
                    scratch
                        .insurer_spans
                        .push((m.start(), m.end(), is_ambiguous));
                }
                scratch.matches.push((id, m.start(), m.end()));
            }
        }
        // An insurer's name is not evidence of anything but insurance: the
        // words inside it ("Energie" in energie-BKK, "Bahn" in
        // Knappschaft-Bahn-See) mark no other rule. Vetoes still count.
        scratch
            .insurer_spans
            .retain(|&(_, _, is_ambiguous)| !is_ambiguous || context);
        for &(id, start, end) in &scratch.matches {
            let in_insurer_name = self.alias_of[id].is_none()
                && scratch
                    .insurer_spans
                    .iter()
                    .any(|&(s, e, _)| s <= start && end <= e);
            for &(ri, bit) in &self.keyword_rules[id] {
                if in_insurer_name && bit != NOT_TEXT && !self.rules[ri].about_insurance {
                    continue;
                }
                if scratch.flags[ri] == 0 {
                    scratch.marked.push(ri);
                }
                scratch.flags[ri] |= bit;
            }
        }
        let named = named.or(ambiguous.filter(|_| context));
        scratch.insurer_named = named.is_some();
        scratch.insurer_line = named
            .and_then(|(_, p)| providers::single_line(p))
            .and_then(crate::insurance_vocabulary::label_of);
        // Rule order matters (fallbacks see the labels before them): the
        // marked rules, those the codes select and the unconditional ones,
        // in rule order, each once.
        scratch.candidates.clear();
        scratch.candidates.extend_from_slice(&self.unconditional);
        scratch.candidates.extend_from_slice(&scratch.marked);
        self.by_code.select(s, &mut scratch.candidates);
        scratch.candidates.sort_unstable();
        scratch.candidates.dedup();
        let mut labels = LabelSet::default();
        let direction = if s.amount > Amount::ZERO {
            Some(Direction::In)
        } else if s.amount < Amount::ZERO {
            Some(Direction::Out)
        } else {
            None
        };
        let mut insurer: Option<bool> = None;
        for &ri in &scratch.candidates {
            let r = &self.rules[ri];
            if r.direction.is_some() && r.direction != direction {
                continue;
            }
            if let Some(g) = r.unless_group
                && labels.intersects(g)
            {
                continue;
            }
            let flags = scratch.flags[ri];
            if !r.text.is_empty() && flags & TEXT == 0 {
                continue;
            }
            if !r.also_text.is_empty() && flags & ALSO_TEXT == 0 {
                continue;
            }
            if !r.counterpart.is_empty() && flags & COUNTERPART == 0 {
                continue;
            }
            if flags & NOT_TEXT != 0 {
                continue;
            }
            if !r.sepa_purpose_code.is_empty()
                && !s.sepa_purpose_code.is_some_and(|c| {
                    r.sepa_purpose_code
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(c))
                })
            {
                continue;
            }
            if !r.bank_transaction_code.is_empty()
                && !s
                    .bank_transaction_code
                    .is_some_and(|c| r.bank_transaction_code.iter().any(|x| x == c))
            {
                continue;
            }
            if !r.mcc.is_empty()
                && !s
                    .mcc
                    .is_some_and(|m| r.mcc.iter().any(|(a, b)| (*a..=*b).contains(&m)))
            {
                continue;
            }
            if !r.creditor_id.is_empty()
                && !s
                    .creditor_id
                    .is_some_and(|c| r.creditor_id.iter().any(|x| x.eq_ignore_ascii_case(c)))
            {
                continue;
            }
            if !r.counterpart_iban_prefix.is_empty()
                && !s.counterpart_iban.is_some_and(|i| {
                    // The prefixes are upper case already.
                    r.counterpart_iban_prefix.iter().any(|p| {
                        i.get(..p.len())
                            .is_some_and(|head| head.eq_ignore_ascii_case(p))
                    })
                })
            {
                continue;
            }
            let abs = s.amount.abs();
            if r.min_amount.is_some_and(|m| abs < m) || r.max_amount.is_some_and(|m| abs > m) {
                continue;
            }
            if r.insurer {
                let is = *insurer.get_or_insert_with(|| {
                    scratch.insurer_named
                        || s.creditor_id.is_some_and(providers::is_insurer_creditor_id)
                });
                if !is {
                    continue;
                }
            }
            let fired = if r.insurer_line {
                match scratch.insurer_line {
                    Some(l) if r.labels.contains(l) => [l].into_iter().collect(),
                    _ => continue,
                }
            } else {
                r.labels
            };
            for l in fired.iter() {
                if !labels.contains(l) {
                    labels.insert(l);
                    scratch.provenance.push((l, ri));
                }
            }
        }
        // Resolved only when the set holds two insurance types, or one
        // beside OTHERINSURANCE (a bit test for every other set).
        let specific = labels.0 & self.specific_insurance;
        if specific & specific.wrapping_sub(1) != 0
            || (specific != 0 && labels.contains(other_insurance()))
        {
            let kept = crate::insurance_vocabulary::most_specific(labels, other_insurance());
            if kept != labels {
                scratch.provenance.retain(|(l, _)| kept.contains(*l));
                labels = kept;
            }
        }
        labels
    }

    /// The provenance as stored: `LABEL=set/rule@version;…`, built from
    /// text prepared when the rule set was compiled.
    pub fn provenance_text(&self, scratch: &Scratch) -> String {
        let mut out = String::with_capacity(48 * scratch.provenance.len());
        for (i, (l, ri)) in scratch.provenance.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(l.name());
            out.push('=');
            out.push_str(&self.rule_refs[*ri]);
        }
        out
    }

    /// [`RuleSet::provenance_text`], built once per combination of labels
    /// and rules and shared after that.
    fn interned_provenance(&self, scratch: &mut Scratch) -> Arc<str> {
        let mut key = std::mem::take(&mut scratch.key);
        key.clear();
        key.push(self.serial);
        key.extend(
            scratch
                .provenance
                .iter()
                .map(|(l, ri)| (u64::from(l.code()) << 32) | *ri as u64),
        );
        let text = match scratch.interned.get(key.as_slice()) {
            Some(text) => text.clone(),
            None => {
                if scratch.interned.len() >= INTERNED_LIMIT {
                    scratch.interned.clear();
                }
                let text: Arc<str> = self.provenance_text(scratch).into();
                scratch.interned.insert(key.as_slice().into(), text.clone());
                text
            }
        };
        scratch.key = key;
        text
    }

    /// Whether the rule a provenance names (`set/rule@version`) is one
    /// that guesses from weak evidence.
    pub fn is_weak(&self, rule_ref: &str) -> bool {
        self.weak_refs.contains(rule_ref)
    }

    /// The provenance of the last call to [`RuleSet::label`] with this scratch.
    pub fn provenance(&self, scratch: &Scratch) -> Vec<Provenance> {
        scratch
            .provenance
            .iter()
            .map(|(l, ri)| Provenance {
                label: *l,
                rule: self.rule_refs[*ri].clone(),
            })
            .collect()
    }
}

/// The labelling of one client: its own rules, if it has any, take
/// precedence over the default rules. When a client rule labels a
/// transaction, the default rules are not applied to it.
#[derive(Debug, Clone, Default)]
pub struct Labeller {
    client: Option<std::sync::Arc<RuleSet>>,
    corrections: Option<std::sync::Arc<crate::corrections::Corrections>>,
}

impl Labeller {
    pub fn new(client: Option<std::sync::Arc<RuleSet>>) -> Self {
        Labeller {
            client,
            corrections: None,
        }
    }

    /// The client's corrections come before every rule.
    pub fn with_corrections(mut self, corrections: crate::corrections::Corrections) -> Self {
        self.corrections = (!corrections.is_empty()).then(|| std::sync::Arc::new(corrections));
        self
    }

    /// The labels and their provenance (`LABEL=set/rule@version;…`, `None` when unlabelled).
    pub fn apply(&self, s: &Signals, scratch: &mut Scratch) -> Labelled {
        if let Some((set, provenance)) = self.corrections.as_ref().and_then(|c| c.lookup(s)) {
            // Corrected to no label: nothing to trace.
            let provenance = (set != LabelSet::default()).then_some(provenance);
            return (set, provenance);
        }
        let mut chosen = None;
        if let Some(client) = &self.client {
            let set = client.label(s, scratch);
            if set != LabelSet::default() {
                chosen = Some((set, client.as_ref()));
            }
        }
        let (set, rules) = match chosen {
            Some(c) => c,
            None => {
                let d = RuleSet::default_rules();
                (d.label(s, scratch), d)
            }
        };
        if set == LabelSet::default() {
            return (set, None);
        }
        (set, Some(rules.interned_provenance(scratch)))
    }
}

/// Provenance texts a [`Scratch`] keeps before it starts over.
const INTERNED_LIMIT: usize = 4096;

/// Reusable buffers, so that labelling allocates nothing per transaction.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The normalised counterpart name and purpose (UTF-8).
    text: Vec<u8>,
    counterpart_end: usize,
    /// Rule index → which of its keyword conditions matched.
    flags: Vec<u8>,
    /// The rules whose `flags` the last call set.
    marked: Vec<usize>,
    /// The rules the last call evaluated, in order.
    candidates: Vec<usize>,
    /// An insurer's alias occurs in the text.
    insurer_named: bool,
    /// The line of the named insurer, if it is a specialist.
    insurer_line: Option<Label>,
    /// The keyword matches of the last call: (keyword id, start, end).
    matches: Vec<(usize, usize, usize)>,
    /// Where the last call's text names an insurer: (start, end, ambiguous).
    insurer_spans: Vec<(usize, usize, bool)>,
    provenance: Vec<(Label, usize)>,
    /// Provenance texts by rule set and (label, rule) pairs.
    interned: HashMap<Box<[u64]>, Arc<str>, foldhash::fast::RandomState>,
    key: Vec<u64>,
}

#[cfg(test)]
mod tests;
