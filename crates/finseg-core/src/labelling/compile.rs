//! Rule sets from their documents (the shipped `rules/default.json`, the
//! rules compiled from the insurance vocabulary, a client's own) into the
//! automaton and indexes `RuleSet::label` runs on.

use crate::Amount;
use crate::labels::{self, Label, LabelSet};
use crate::providers;
use aho_corasick::AhoCorasick;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RuleDoc {
    pub(super) id: String,
    pub(super) labels: Vec<String>,
    #[serde(default)]
    pub(super) direction: Option<String>,
    #[serde(default)]
    pub(super) text: Vec<String>,
    /// A second keyword list that must also match (e.g. a type word and an insurance word).
    #[serde(default)]
    pub(super) also_text: Vec<String>,
    #[serde(default)]
    pub(super) counterpart: Vec<String>,
    #[serde(default)]
    pub(super) not_text: Vec<String>,
    #[serde(default)]
    pub(super) sepa_purpose_code: Vec<String>,
    #[serde(default)]
    pub(super) bank_transaction_code: Vec<String>,
    #[serde(default)]
    pub(super) mcc: Vec<String>,
    #[serde(default)]
    pub(super) creditor_id: Vec<String>,
    #[serde(default)]
    pub(super) counterpart_iban_prefix: Vec<String>,
    /// The counterpart is an insurer of the provider directory.
    #[serde(default)]
    pub(super) insurer: bool,
    /// The rule sets the line of the named insurer, when it is a specialist
    /// (a health fund, a legal-expenses insurer): one of `labels`.
    #[serde(default)]
    pub(super) insurer_line: bool,
    /// Only when no label of this group (or of these groups) is set yet
    /// (fallbacks).
    #[serde(default)]
    pub(super) unless_group: Option<OneOrMany>,
    #[serde(default)]
    pub(super) min_amount: Option<String>,
    #[serde(default)]
    pub(super) max_amount: Option<String>,
    /// The rule guesses from weak evidence (a fallback): its labels say so.
    #[serde(default)]
    pub(super) weak: bool,
}

/// A name or a list of names.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn names(&self) -> &[String] {
        match self {
            OneOrMany::One(n) => std::slice::from_ref(n),
            OneOrMany::Many(ns) => ns,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleSetDoc {
    pub(super) version: String,
    pub(super) rules: Vec<RuleDoc>,
}

/// The label of insurance of no specific type.
pub(super) fn other_insurance() -> Label {
    static L: std::sync::OnceLock<Label> = std::sync::OnceLock::new();
    *L.get_or_init(|| Label::parse("OTHERINSURANCE").expect("taxonomy label"))
}

/// The rules of the insurance vocabulary, per type in order of
/// specificity: its words and unambiguous abbreviations on their own; its
/// parts of words and ambiguous abbreviations with a word that says
/// "insurance", or with a named insurer; and, when the text names no
/// type, the line of a specialist insurer it names.
pub(super) fn vocabulary_rules() -> Vec<RuleDoc> {
    let v = crate::insurance_vocabulary::vocabulary();
    let out = |id: String, label: &str| RuleDoc {
        id,
        labels: vec![label.to_owned()],
        direction: Some("out".to_owned()),
        ..RuleDoc::default()
    };
    let mut rules = Vec::new();
    for t in &v.types {
        let kind = t.kind.to_ascii_lowercase();
        let not_text: Vec<String> = t
            .false_friends
            .iter()
            .chain(&v.not_insurance)
            .cloned()
            .collect();
        let ambiguous: Vec<String> = t
            .parts
            .iter()
            .chain(&t.context_abbreviations)
            .cloned()
            .collect();
        let words: Vec<String> = t.words.iter().chain(&t.abbreviations).cloned().collect();
        if !words.is_empty() {
            // A false friend inside a word of the line cannot veto that
            // word (Krankenhaus in Krankenhauszusatz…); any other still
            // vetoes the words (Pflegeheim beside Pflegekosten).
            let word_vetoes = t
                .false_friends
                .iter()
                .filter(|f| !words.iter().any(|w| w.contains(f.trim())))
                .chain(&v.not_insurance)
                .cloned()
                .collect();
            rules.push(RuleDoc {
                text: words,
                not_text: word_vetoes,
                ..out(format!("vocabulary-{kind}"), t.label)
            });
        }
        if !ambiguous.is_empty() {
            rules.push(RuleDoc {
                text: ambiguous.clone(),
                also_text: v.context.clone(),
                not_text: not_text.clone(),
                ..out(format!("vocabulary-{kind}-in-context"), t.label)
            });
            rules.push(RuleDoc {
                text: ambiguous,
                insurer: true,
                not_text,
                ..out(format!("vocabulary-{kind}-of-insurer"), t.label)
            });
        }
    }
    // A payment from an insurer is a refund, a benefit or a claim settled:
    // it is labelled with the line it names, or with the line of the
    // specialist insurer when its text says it is a refund (an insurer
    // also pays its staff's salaries and its agents' commissions).
    for t in &v.types {
        let terms: Vec<String> = t
            .words
            .iter()
            .chain(&t.abbreviations)
            .chain(&t.parts)
            .chain(&t.context_abbreviations)
            .cloned()
            .collect();
        rules.push(RuleDoc {
            id: format!("vocabulary-{}-paid-by-insurer", t.kind.to_ascii_lowercase()),
            labels: vec![t.label.to_owned()],
            direction: Some("in".to_owned()),
            text: terms,
            insurer: true,
            not_text: t
                .false_friends
                .iter()
                .chain(&v.not_refund)
                .cloned()
                .collect(),
            ..RuleDoc::default()
        });
    }
    rules.push(RuleDoc {
        id: "insurer-line-refund".to_owned(),
        labels: v.types.iter().map(|t| t.label.to_owned()).collect(),
        direction: Some("in".to_owned()),
        text: v.refund.clone(),
        insurer: true,
        insurer_line: true,
        unless_group: Some(OneOrMany::One("INSURANCE".to_owned())),
        not_text: v.not_refund.clone(),
        ..RuleDoc::default()
    });
    rules.push(RuleDoc {
        id: "insurer-line".to_owned(),
        labels: v.types.iter().map(|t| t.label.to_owned()).collect(),
        direction: Some("out".to_owned()),
        insurer: true,
        insurer_line: true,
        unless_group: Some(OneOrMany::One("INSURANCE".to_owned())),
        not_text: v.not_insurance.clone(),
        ..RuleDoc::default()
    });
    rules
}

pub(super) fn parse_mcc(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let v = s.trim().parse().ok()?;
            Some((v, v))
        }
    }
}

impl RuleSet {
    /// Parses and compiles a rule set; errors name the rule and field.
    pub fn parse(name: &str, json: &str) -> Result<RuleSet, String> {
        let doc: RuleSetDoc =
            serde_json::from_str(json).map_err(|e| format!("rule set {name}: {e}"))?;
        Self::compile(name, doc, false)
    }

    // Over 120 lines on purpose: one pass builds the shared keyword table, the
    // code indexes and the rules that point into them.
    /// Compiles a rule set; `specific_insurance` keeps only the most
    /// specific insurance type of a transaction (the default rules).
    fn compile(name: &str, doc: RuleSetDoc, specific_insurance: bool) -> Result<RuleSet, String> {
        // Every distinct keyword once, however many rules use it: the
        // vocabulary's context words and vetoes serve every insurance type.
        let mut table = KeywordTable::default();
        let mut add = |kw: &str, field: Field| -> Result<usize, String> {
            let mut n = String::new();
            normalise(kw, &mut n);
            // Keep the author's leading/trailing spaces: they mark word boundaries.
            let core = n.trim();
            if core.is_empty() {
                return Err(format!("empty keyword '{kw}'"));
            }
            let k = format!(
                "{}{}{}",
                if kw.starts_with(' ') { " " } else { "" },
                core,
                if kw.ends_with(' ') { " " } else { "" }
            );
            Ok(table.id(k, field))
        };
        let insurance_group = labels::group("INSURANCE")
            .expect("SPEC §4 has an INSURANCE group")
            .1;
        let mut rules = Vec::with_capacity(doc.rules.len());
        for r in &doc.rules {
            let ctx = |e: String| format!("rule set {name}, rule '{}': {e}", r.id);
            let mut set = LabelSet::default();
            for l in &r.labels {
                set.insert(Label::parse(l).ok_or_else(|| ctx(format!("unknown label {l}")))?);
            }
            if set == LabelSet::default() {
                return Err(ctx("no labels".into()));
            }
            let direction = match r.direction.as_deref() {
                None => None,
                Some("in") => Some(Direction::In),
                Some("out") => Some(Direction::Out),
                Some(d) => return Err(ctx(format!("direction '{d}' (in or out)"))),
            };
            let amount = |s: &Option<String>| -> Result<Option<Amount>, String> {
                s.as_deref()
                    .map(|v| Amount::parse(v).map_err(|e| ctx(e.to_string())))
                    .transpose()
            };
            rules.push(Rule {
                id: r.id.clone(),
                labels: set,
                direction,
                text: r
                    .text
                    .iter()
                    .map(|k| add(k, Field::Any))
                    .collect::<Result<_, _>>()
                    .map_err(ctx)?,
                also_text: r
                    .also_text
                    .iter()
                    .map(|k| add(k, Field::Any))
                    .collect::<Result<_, _>>()
                    .map_err(ctx)?,
                counterpart: r
                    .counterpart
                    .iter()
                    .map(|k| add(k, Field::Counterpart))
                    .collect::<Result<_, _>>()
                    .map_err(ctx)?,
                // A text the vocabulary says is no premium (a pension
                // fund, an employer's remittance) vetoes every default rule
                // that reads a payment out as insurance, not only the
                // vocabulary's own.
                not_text: r
                    .not_text
                    .iter()
                    .chain(
                        (specific_insurance
                            && direction == Some(Direction::Out)
                            && set.intersects(insurance_group))
                        .then_some(&crate::insurance_vocabulary::vocabulary().not_insurance)
                        .into_iter()
                        .flatten(),
                    )
                    .map(|k| add(k, Field::Any))
                    .collect::<Result<_, _>>()
                    .map_err(ctx)?,
                sepa_purpose_code: r
                    .sepa_purpose_code
                    .iter()
                    .map(|c| c.to_ascii_uppercase())
                    .collect(),
                bank_transaction_code: r.bank_transaction_code.clone(),
                mcc: r
                    .mcc
                    .iter()
                    .map(|m| parse_mcc(m).ok_or_else(|| ctx(format!("mcc '{m}'"))))
                    .collect::<Result<_, _>>()?,
                creditor_id: r
                    .creditor_id
                    .iter()
                    .map(|c| c.to_ascii_uppercase())
                    .collect(),
                counterpart_iban_prefix: r
                    .counterpart_iban_prefix
                    .iter()
                    .map(|c| c.to_ascii_uppercase())
                    .collect(),
                insurer: r.insurer,
                insurer_line: r.insurer_line,
                unless_group: match &r.unless_group {
                    None => None,
                    Some(groups) => Some(groups.names().iter().try_fold(
                        LabelSet::default(),
                        |set, g| {
                            labels::group(g)
                                .map(|(_, members)| set.union(members))
                                .ok_or_else(|| ctx(format!("unknown group {g}")))
                        },
                    )?),
                },
                min_amount: amount(&r.min_amount)?,
                max_amount: amount(&r.max_amount)?,
                about_insurance: set.intersects(insurance_group),
            });
        }
        // The insurers' aliases ride along in the same automaton, so that
        // "the counterpart is an insurer" costs no second scan; so do the
        // words that make a text about insurance, which an ambiguous alias
        // needs.
        let mut alias_of = Vec::new();
        for (alias, provider, ambiguous) in providers::normalised_aliases() {
            let id = table.id(alias, Field::Any);
            alias_of.resize(table.keywords.len(), None);
            // The first provider listing a spelling keeps it.
            alias_of[id].get_or_insert((provider, ambiguous));
        }
        let mut evidence = Vec::new();
        for word in crate::insurance_vocabulary::vocabulary().evidence() {
            let id = table.id(word, Field::Any);
            evidence.resize(table.keywords.len(), false);
            evidence[id] = true;
        }
        let KeywordTable {
            keywords, fields, ..
        } = table;
        alias_of.resize(keywords.len(), None);
        evidence.resize(keywords.len(), false);
        let automaton = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            // A DFA scans fastest; the keyword set is small enough for its memory.
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&keywords)
            .map_err(|e| format!("rule set {name}: {e}"))?;
        let rule_refs: Vec<String> = rules
            .iter()
            .map(|r| format!("{name}/{}@{}", r.id, doc.version))
            .collect();
        let weak_refs = doc
            .rules
            .iter()
            .zip(&rule_refs)
            .filter(|(d, _)| d.weak)
            .map(|(_, r)| r.clone())
            .collect();
        let mut keyword_rules = vec![Vec::new(); fields.len()];
        for (ri, r) in rules.iter().enumerate() {
            for (list, bit) in [
                (&r.text, TEXT),
                (&r.also_text, ALSO_TEXT),
                (&r.counterpart, COUNTERPART),
                (&r.not_text, NOT_TEXT),
            ] {
                for k in list {
                    keyword_rules[*k].push((ri, bit));
                }
            }
        }
        let (unconditional, by_code) = CodeIndex::build(&rules);
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        Ok(RuleSet {
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
            name: name.to_owned(),
            version: doc.version,
            rules,
            unconditional,
            by_code,
            automaton,
            fields,
            rule_refs,
            weak_refs,
            keyword_rules,
            alias_of,
            evidence,
            specific_insurance: if specific_insurance {
                crate::insurance_vocabulary::specific_mask()
            } else {
                0
            },
        })
    }

    /// The rule set shipped with finseg: the rules compiled from the
    /// insurance vocabulary (`data/insurance-vocabulary.tsv`), then
    /// `rules/default.json`, whose insurance fallbacks see what the
    /// vocabulary found.
    pub fn default_rules() -> &'static RuleSet {
        static DEFAULT: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
        DEFAULT.get_or_init(|| {
            let mut doc: RuleSetDoc =
                serde_json::from_str(include_str!("../../rules/default.json"))
                    .expect("the shipped rule set is valid JSON");
            let mut rules = vocabulary_rules();
            rules.append(&mut doc.rules);
            doc.rules = rules;
            RuleSet::compile("default", doc, true).expect("the shipped rule set is valid")
        })
    }
}
