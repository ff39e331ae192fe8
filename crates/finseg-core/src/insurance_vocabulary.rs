//! The insurance vocabulary (`data/insurance-vocabulary.tsv`): the parts
//! of words, whole words and abbreviations that name a line of insurance,
//! the words that say "insurance", and the false friends. Labelling
//! compiles it into rules (one set per type, see
//! [`crate::labelling::RuleSet::default_rules`]); the type of a payment
//! that names several is the most specific one ([`most_specific`]).
//!
//! German compounds need no splitting table: normalised text keeps a
//! compound as one word (`katzenkrankenversicherung`) or splits it at its
//! hyphen (`katzen krankenvers`), and a part is found inside either.

use std::sync::OnceLock;

use crate::labels::{Label, LabelSet};

/// Insurance types from the most specific to the least: a payment for a
/// cat's health insurance names PET and HEALTH and is PET; a motor
/// liability insurance names CAR and LIABILITY and is CAR; an animal
/// owner's liability insurance names LIABILITY and PET and is LIABILITY.
pub const PRECEDENCE: [(&str, &str); 13] = [
    ("TRAVEL", "TRAVELINSURANCE"),
    ("DENTAL", "DENTALINSURANCE"),
    ("CARE", "CAREINSURANCE"),
    ("DISABILITY", "DISABILITYINSURANCE"),
    ("LEGAL", "LEGALINSURANCE"),
    ("CAR", "CARINSURANCE"),
    ("ACCIDENT", "ACCIDENTINSURANCE"),
    ("BUILDING", "BUILDINGINSURANCE"),
    ("HOUSEHOLD", "HOUSEHOLDINSURANCE"),
    ("LIABILITY", "LIABILITYINSURANCE"),
    ("PET", "PETINSURANCE"),
    ("LIFE", "LIFEINSURANCE"),
    ("HEALTH", "HEALTHINSURANCE"),
];

/// The terms of one insurance type.
#[derive(Debug, Default, Clone)]
pub struct TypeTerms {
    /// The type (`HEALTH`) and its label (`HEALTHINSURANCE`).
    pub kind: &'static str,
    pub label: &'static str,
    /// Parts of words: count with a context word or a named insurer.
    pub parts: Vec<String>,
    /// Whole words that name the type on their own.
    pub words: Vec<String>,
    /// Unambiguous abbreviations (whole words).
    pub abbreviations: Vec<String>,
    /// Abbreviations that need a context word or a named insurer.
    pub context_abbreviations: Vec<String>,
    /// Words that contain a part without naming the type.
    pub false_friends: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Words that say "insurance".
    pub context: Vec<String>,
    /// Texts that are no insurance premium, whatever they name.
    pub not_insurance: Vec<String>,
    /// Words that make a payment from an insurer a refund, a benefit or a
    /// claim settled (of the line the payment or the insurer names).
    pub refund: Vec<String>,
    /// What an insurer pays that is no refund of insurance: its staff's
    /// pay, its agents' commission, benefits that replace income.
    pub not_refund: Vec<String>,
    /// In the order of [`PRECEDENCE`].
    pub types: Vec<TypeTerms>,
}

const DATA: &str = include_str!("../data/insurance-vocabulary.tsv");

/// The vocabulary, parsed once.
pub fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| parse(DATA).expect("the shipped vocabulary is valid"))
}

/// Parses the vocabulary; errors name the line.
pub fn parse(data: &str) -> Result<Vocabulary, String> {
    let mut v = Vocabulary {
        types: PRECEDENCE
            .iter()
            .map(|(kind, label)| TypeTerms {
                kind,
                label,
                ..TypeTerms::default()
            })
            .collect(),
        ..Vocabulary::default()
    };
    for (i, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let err = |e: &str| format!("insurance vocabulary line {}: {e}: {line:?}", i + 1);
        let mut cols = line.split('\t');
        let (kind, term) = (cols.next().unwrap_or(""), cols.next().unwrap_or(""));
        if term.trim().is_empty() {
            return Err(err("no term"));
        }
        let term = term.to_owned();
        let typed = |v: &mut Vocabulary, ty: Option<&str>| -> Result<usize, String> {
            let ty = ty.ok_or_else(|| err("no type"))?;
            v.types
                .iter()
                .position(|t| t.kind == ty)
                .ok_or_else(|| err("unknown type"))
        };
        match kind {
            "context" => v.context.push(term),
            "notins" => v.not_insurance.push(term),
            "refund" => v.refund.push(term),
            "notrefund" => v.not_refund.push(term),
            "part" | "word" | "abbr" | "abbrctx" | "false" => {
                let t = typed(&mut v, cols.next())?;
                let terms = &mut v.types[t];
                match kind {
                    "part" => terms.parts.push(term),
                    "word" => terms.words.push(term),
                    "abbr" => terms.abbreviations.push(format!(" {} ", term.trim())),
                    "abbrctx" => terms
                        .context_abbreviations
                        .push(format!(" {} ", term.trim())),
                    _ => terms.false_friends.push(term),
                }
            }
            _ => return Err(err("unknown kind")),
        }
    }
    Ok(v)
}

impl Vocabulary {
    /// What makes a text about insurance, for an insurer's name that is
    /// also a common word or a place: a context word, or a part or word
    /// of any type (`Hallesche Krankenvers.` names the insurer, `Hallesche
    /// Verkehrs-AG` does not).
    pub fn evidence(&self) -> Vec<String> {
        let mut out = self.context.clone();
        for t in &self.types {
            out.extend(t.parts.iter().chain(&t.words).cloned());
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The labels of [`PRECEDENCE`], in its order.
fn precedence_labels() -> &'static [Label; 13] {
    static LABELS: OnceLock<[Label; 13]> = OnceLock::new();
    LABELS.get_or_init(|| PRECEDENCE.map(|(_, label)| Label::parse(label).expect("taxonomy label")))
}

/// The label of an insurance type (`HEALTH` → `HEALTHINSURANCE`).
pub fn label_of(kind: &str) -> Option<Label> {
    PRECEDENCE
        .iter()
        .position(|(k, _)| *k == kind)
        .map(|i| precedence_labels()[i])
}

/// The bits of every type of [`PRECEDENCE`] in a label set.
pub fn specific_mask() -> u64 {
    precedence_labels()
        .iter()
        .fold(0, |mask, l| mask | 1 << l.code())
}

/// The insurance type of a label set: the most specific type it names,
/// `None` when it names none of [`PRECEDENCE`].
pub fn most_specific_type(labels: LabelSet) -> Option<&'static str> {
    precedence_labels()
        .iter()
        .zip(PRECEDENCE)
        .find(|(l, _)| labels.contains(**l))
        .map(|(_, (kind, _))| kind)
}

/// `labels` with only the most specific insurance type kept (and
/// `OTHERINSURANCE` dropped beside a specific one).
pub fn most_specific(labels: LabelSet, other: Label) -> LabelSet {
    let specific = precedence_labels();
    let Some(keep) = specific.iter().find(|l| labels.contains(**l)) else {
        return labels;
    };
    let mut out = LabelSet::default();
    for l in labels.iter() {
        if l == *keep || (l != other && !specific.contains(&l)) {
            out.insert(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_vocabulary_names_every_type() {
        let v = vocabulary();
        assert!(v.context.len() >= 10);
        assert!(!v.refund.is_empty() && !v.not_refund.is_empty());
        for t in &v.types {
            assert!(!t.parts.is_empty() || !t.words.is_empty(), "{}", t.kind);
        }
        assert!(parse("part\tkatzen\tCAT").is_err());
        assert!(parse("nonsense\tx").is_err());
    }

    #[test]
    fn the_most_specific_type_is_kept() {
        let l = |n: &str| Label::parse(n).unwrap();
        let other = l("OTHERINSURANCE");
        let set = |names: &[&str]| names.iter().map(|n| l(n)).collect::<LabelSet>();
        assert_eq!(
            most_specific(set(&["HEALTHINSURANCE", "PETINSURANCE"]), other),
            set(&["PETINSURANCE"])
        );
        let kept = most_specific(
            set(&[
                "LIABILITYINSURANCE",
                "CARINSURANCE",
                "OTHERINSURANCE",
                "SALARY",
            ]),
            other,
        );
        assert_eq!(kept, set(&["CARINSURANCE", "SALARY"]));
        assert_eq!(most_specific_type(kept), Some("CAR"));
        assert_eq!(
            most_specific(set(&["PETINSURANCE", "LIABILITYINSURANCE"]), other),
            set(&["LIABILITYINSURANCE"])
        );
        assert_eq!(
            most_specific(set(&["OTHERINSURANCE"]), other),
            set(&["OTHERINSURANCE"])
        );
    }
}
