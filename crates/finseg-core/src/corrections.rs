//! An analyst's corrections of labels, as rules: a corrected transaction
//! gives its labels to every transaction with the same strongest stable
//! signal (the same direction of money, and the creditor id with the
//! mandate reference, else the creditor id, else the counterpart's IBAN,
//! else the counterpart's name, else the words of the purpose without
//! numbers). Corrections come before every rule; a lookup is a few hash
//! probes, whatever the number of corrections.

use std::collections::HashMap;
use std::sync::Arc;

use crate::labelling::Signals;
use crate::labels::LabelSet;

/// What a correction is keyed by, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    Mandate,
    CreditorId,
    CounterpartIban,
    Counterpart,
    Purpose,
}

impl KeyKind {
    pub const ALL: [KeyKind; 5] = [
        KeyKind::Mandate,
        KeyKind::CreditorId,
        KeyKind::CounterpartIban,
        KeyKind::Counterpart,
        KeyKind::Purpose,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Mandate => "creditorIdAndMandate",
            KeyKind::CreditorId => "creditorId",
            KeyKind::CounterpartIban => "counterpartIban",
            KeyKind::Counterpart => "counterpartName",
            KeyKind::Purpose => "purposeWords",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The key of a transaction: its direction, the kind, and the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub incoming: bool,
    pub kind: KeyKind,
    pub value: String,
}

/// Upper case without blanks: creditor ids, mandates and IBANs as printed.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Lower-case words of letters and digits, one blank between them.
fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The words of a purpose that stay from one payment to the next: no
/// numbers (contract, invoice and period numbers change), at most six.
fn stable_purpose(purpose: &str) -> String {
    words(purpose)
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}

fn key_value(s: &Signals, kind: KeyKind) -> Option<String> {
    let nonempty = |v: String| (!v.is_empty()).then_some(v);
    match kind {
        KeyKind::Mandate => {
            let (c, m) = (s.creditor_id?, s.mandate_reference?);
            nonempty(format!("{}/{}", compact(c), compact(m)))
        }
        KeyKind::CreditorId => nonempty(compact(s.creditor_id?)),
        KeyKind::CounterpartIban => nonempty(compact(s.counterpart_iban?)),
        KeyKind::Counterpart => {
            let name = s.counterpart_name.or_else(|| {
                s.purpose
                    .and_then(crate::purpose_fields::counterpart_in_purpose)
            })?;
            nonempty(words(name).collect::<Vec<_>>().join(" "))
        }
        KeyKind::Purpose => nonempty(stable_purpose(s.purpose?)),
    }
}

/// The strongest stable signal of a transaction, the key a correction of
/// it is stored under; `None` when it has nothing to recognise it by.
pub fn key_of(s: &Signals) -> Option<Key> {
    let incoming = s.amount.cents() > 0;
    KeyKind::ALL.into_iter().find_map(|kind| {
        key_value(s, kind).map(|value| Key {
            incoming,
            kind,
            value,
        })
    })
}

/// One stored correction.
#[derive(Debug, Clone)]
pub struct Correction {
    /// The correction's number (its id in the API).
    pub id: i64,
    /// The transaction the analyst corrected.
    pub transaction_id: String,
    pub key: Key,
    pub labels: LabelSet,
}

/// A client's corrections, by key.
#[derive(Debug, Default)]
pub struct Corrections {
    by_key: HashMap<Key, (LabelSet, Arc<str>)>,
    /// The kinds any correction uses: the others are not computed.
    kinds: Vec<KeyKind>,
}

impl Corrections {
    /// Later corrections of the same key replace earlier ones.
    pub fn new(corrections: impl IntoIterator<Item = Correction>) -> Self {
        let mut by_key = HashMap::new();
        for c in corrections {
            let provenance = c
                .labels
                .iter()
                .map(|l| format!("{}=correction/{}:{}", l.name(), c.id, c.transaction_id))
                .collect::<Vec<_>>()
                .join(";");
            by_key.insert(c.key, (c.labels, Arc::from(provenance)));
        }
        let mut kinds: Vec<KeyKind> = by_key.keys().map(|k: &Key| k.kind).collect();
        kinds.sort();
        kinds.dedup();
        Corrections { by_key, kinds }
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The corrected labels of a transaction with its provenance, when a
    /// correction's key is the transaction's (the strongest one wins).
    pub fn lookup(&self, s: &Signals) -> Option<(LabelSet, Arc<str>)> {
        let incoming = s.amount.cents() > 0;
        self.kinds.iter().find_map(|&kind| {
            let key = Key {
                incoming,
                kind,
                value: key_value(s, kind)?,
            };
            self.by_key.get(&key).cloned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Amount;
    use crate::labels::Label;

    fn set(names: &[&str]) -> LabelSet {
        let mut s = LabelSet::default();
        for n in names {
            s.insert(Label::parse(n).unwrap());
        }
        s
    }

    fn payment<'a>(
        creditor: Option<&'a str>,
        mandate: Option<&'a str>,
        purpose: &'a str,
    ) -> Signals<'a> {
        Signals {
            amount: Amount::from_cents(-12_34),
            purpose: Some(purpose),
            counterpart_name: Some("Muster Versicherung AG"),
            counterpart_iban: Some("DE02 1203 0000 0000 2020 51"),
            creditor_id: creditor,
            mandate_reference: mandate,
            ..Signals::default()
        }
    }

    #[test]
    fn the_key_is_the_strongest_stable_signal() {
        let k = key_of(&payment(
            Some("de98zzz09999999999"),
            Some("M-1"),
            "Beitrag 10/2026",
        ))
        .unwrap();
        assert_eq!(
            (k.kind, k.value.as_str(), k.incoming),
            (KeyKind::Mandate, "DE98ZZZ09999999999/M-1", false)
        );
        let k = key_of(&payment(Some("DE98ZZZ09999999999"), None, "x")).unwrap();
        assert_eq!(k.kind, KeyKind::CreditorId);
        let k = key_of(&payment(None, None, "x")).unwrap();
        assert_eq!(
            (k.kind, k.value.as_str()),
            (KeyKind::CounterpartIban, "DE02120300000000202051")
        );
        let only_purpose = Signals {
            amount: Amount::from_cents(5_00),
            purpose: Some("Beitrag Tierhalter-Haftpflicht 2026/27 Nr 4711"),
            ..Signals::default()
        };
        let k = key_of(&only_purpose).unwrap();
        assert_eq!(
            (k.kind, k.value.as_str(), k.incoming),
            (KeyKind::Purpose, "beitrag tierhalter haftpflicht nr", true)
        );
        assert!(key_of(&Signals::default()).is_none());
    }

    #[test]
    fn a_correction_labels_every_transaction_of_its_key_and_direction() {
        let corrected = payment(Some("DE98ZZZ09999999999"), Some("M-1"), "Beitrag 10/2026");
        let c = Corrections::new([Correction {
            id: 7,
            transaction_id: "t-10".into(),
            key: key_of(&corrected).unwrap(),
            labels: set(&["LIABILITYINSURANCE"]),
        }]);
        let next_month = payment(Some("DE98ZZZ09999999999"), Some("m-1"), "Beitrag 11/2026");
        let (labels, provenance) = c.lookup(&next_month).unwrap();
        assert_eq!(labels, set(&["LIABILITYINSURANCE"]));
        assert_eq!(&*provenance, "LIABILITYINSURANCE=correction/7:t-10");
        // Another contract of the same insurer, and a refund, keep their labels.
        assert!(
            c.lookup(&payment(Some("DE98ZZZ09999999999"), Some("M-2"), "Beitrag"))
                .is_none()
        );
        let refund = Signals {
            amount: Amount::from_cents(12_34),
            ..next_month
        };
        assert!(c.lookup(&refund).is_none());
    }
}
