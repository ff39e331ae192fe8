//! What one payment's texts say about its contract: the contract number,
//! a yearly wording, the provider, and the key payments are grouped by.

use crate::providers::{self, Provider};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

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
pub(super) fn number_after_marker(rest: &str) -> Option<String> {
    let token: String = rest
        .trim_start_matches([' ', '.', ':', '-'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '/')
        .collect();
    (token.bytes().filter(u8::is_ascii_digit).count() >= 4).then_some(token)
}

/// Without a marker: the first run of six or more digits (dates and
/// amounts are shorter or carry separators).
pub(super) fn long_digit_run(purpose: &str) -> Option<String> {
    purpose
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .map(str::to_owned)
}

/// Words that introduce a contract number, by precedence.
pub(super) const NUMBER_MARKERS: [&str; 9] = [
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

pub(super) fn number_markers() -> &'static aho_corasick::AhoCorasick {
    static MARKERS: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    MARKERS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(NUMBER_MARKERS)
            .expect("the markers build")
    })
}

/// Words that mark a yearly payment, lower case.
pub(super) const YEARLY_WORDS: [&str; 8] = [
    "jährl",
    "jaehrl",
    "jahresbeitrag",
    "jahresprämie",
    "jahrespraemie",
    "jahresbetrag",
    "p.a.",
    "1/1 jahr",
];

pub(super) fn yearly_text(purpose: Option<&str>, name: Option<&str>) -> bool {
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
    // The payee: the counterpart field, else the name a structured purpose
    // carries (`/NAME/…`).
    let payee = counterpart_name
        .or_else(|| purpose.and_then(crate::purpose_fields::counterpart_in_purpose));
    let provider = providers::identify(creditor_id, counterpart_name, purpose)
        .or_else(|| payee.and_then(providers::identify_misspelt));
    // A creditor id with mandate, or a contract number, identifies the
    // contract whatever type the text of one payment suggests.
    let (key, key_name) = if let Some(cid) = creditor_id {
        (KeyKind::Creditor, cid.to_uppercase())
    } else if number.is_some() {
        (KeyKind::Number, String::new())
    } else {
        // Without a creditor id, `provider` is the one the texts name.
        let name = provider.map(|p| p.id.clone()).unwrap_or_else(|| {
            payee
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
            counterpart_name: payee.map(|n| providers::short_name(n).into()),
            creditor_id: creditor_id.map(Into::into),
        },
        mandate_reference: mandate_reference.map(str::to_owned),
        contract_number: number,
    }
}
