//! The insurance provider directory (`data/insurers.tsv`), compiled in.

use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub name: String,
    /// Lower-case spellings as they appear on statements.
    pub aliases: Vec<String>,
    /// Aliases that are also common words or places (`ideal`, `zurich`,
    /// written `~ideal` in the directory): they name the insurer only in a
    /// text that says "insurance".
    pub ambiguous: Vec<String>,
    pub types: Vec<String>,
    pub creditor_ids: Vec<String>,
    /// A statutory health fund: a person is insured with one at a time,
    /// so an account paying several at once pays for employees.
    pub statutory: bool,
}

const DIRECTORY: &str = include_str!("../data/insurers.tsv");

pub fn all() -> &'static [Provider] {
    static PROVIDERS: OnceLock<Vec<Provider>> = OnceLock::new();
    PROVIDERS.get_or_init(|| {
        DIRECTORY
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                let list = |i: usize| -> Vec<String> {
                    cols.get(i)
                        .map(|c| {
                            c.split('|')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let mut aliases: Vec<String> =
                    list(2).into_iter().map(|a| a.to_lowercase()).collect();
                aliases.push(cols[1].to_lowercase());
                let ambiguous: Vec<String> = aliases
                    .iter()
                    .filter_map(|a| a.strip_prefix('~').map(str::to_owned))
                    .collect();
                for a in &mut aliases {
                    if let Some(plain) = a.strip_prefix('~') {
                        *a = plain.to_owned();
                    }
                }
                // Longest first, so "huk-coburg" wins over a shorter alias of another insurer.
                aliases.sort_by_key(|a| std::cmp::Reverse(a.len()));
                Provider {
                    id: cols[0].to_owned(),
                    name: cols[1].trim_start_matches('~').to_owned(),
                    aliases,
                    ambiguous,
                    types: list(3),
                    creditor_ids: list(4),
                    statutory: cols.get(5).is_some_and(|c| c.trim() == "statutory"),
                }
            })
            .collect()
    })
}

/// The provider with this id.
pub fn by_id(id: &str) -> Option<&'static Provider> {
    static BY_ID: OnceLock<std::collections::HashMap<&'static str, &'static Provider>> =
        OnceLock::new();
    BY_ID
        .get_or_init(|| all().iter().map(|p| (p.id.as_str(), p)).collect())
        .get(id)
        .copied()
}

/// Every alias, normalised and padded with spaces (whole words only),
/// with its provider's index and whether it is ambiguous.
pub fn normalised_aliases() -> Vec<(String, usize, bool)> {
    let mut out = Vec::new();
    for (i, p) in all().iter().enumerate() {
        for a in &p.aliases {
            let mut n = String::new();
            crate::normalise::normalise(a, &mut n);
            if n.trim().len() >= 2 {
                out.push((n, i, p.ambiguous.contains(a)));
            }
        }
    }
    out
}

/// The line of insurance a payment to this provider is, when its text
/// names none: the provider's first line, if all of its lines are of one
/// family (a health fund's health and care insurance, a life insurer's life
/// and disability cover); `None` for a composite insurer.
pub fn single_line(provider: usize) -> Option<&'static str> {
    const FAMILIES: [&[&str]; 2] = [&["HEALTH", "CARE", "DENTAL"], &["LIFE", "DISABILITY"]];
    let types = &all().get(provider)?.types;
    let first = types.first()?.as_str();
    let family = FAMILIES.iter().find(|f| f.contains(&first));
    types
        .iter()
        .all(|t| t == first || family.is_some_and(|f| f.contains(&t.as_str())))
        .then_some(first)
}

/// Whether a normalised text is about insurance (see
/// [`crate::insurance_vocabulary::Vocabulary::evidence`]).
pub fn says_insurance(normalised: &[u8]) -> bool {
    static EVIDENCE: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
    EVIDENCE
        .get_or_init(|| {
            aho_corasick::AhoCorasick::new(crate::insurance_vocabulary::vocabulary().evidence())
                .expect("evidence words compile")
        })
        .is_match(normalised)
}

/// The creditor id belongs to an insurer of the directory.
pub fn is_insurer_creditor_id(cid: &str) -> bool {
    by_creditor_id(cid).is_some()
}

/// The provider whose creditor id this is (ASCII case ignored): looked up,
/// not searched for, since the import stages every insurance payment.
fn by_creditor_id(cid: &str) -> Option<&'static Provider> {
    static BY_CREDITOR: OnceLock<std::collections::HashMap<String, usize>> = OnceLock::new();
    let map = BY_CREDITOR.get_or_init(|| {
        let mut map = std::collections::HashMap::new();
        for (i, p) in all().iter().enumerate() {
            for c in &p.creditor_ids {
                // The first provider listing an id keeps it, as a search in order found it.
                map.entry(c.to_ascii_uppercase()).or_insert(i);
            }
        }
        map
    });
    if map.is_empty() {
        return None;
    }
    map.get(&cid.to_ascii_uppercase()).map(|&i| &all()[i])
}

/// All aliases, normalised as labelling normalises text and padded with
/// spaces (whole words only), in one automaton: one pass per text.
struct AliasIndex {
    automaton: aho_corasick::AhoCorasick,
    /// Pattern id → provider index.
    provider: Vec<usize>,
    /// Pattern id → the alias is ambiguous.
    ambiguous: Vec<bool>,
}

fn alias_index() -> &'static AliasIndex {
    static INDEX: OnceLock<AliasIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let (mut patterns, mut provider, mut ambiguous) = (Vec::new(), Vec::new(), Vec::new());
        for (n, i, a) in normalised_aliases() {
            patterns.push(n);
            provider.push(i);
            ambiguous.push(a);
        }
        let automaton = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("aliases compile");
        AliasIndex {
            automaton,
            provider,
            ambiguous,
        }
    })
}

/// The provider a payment goes to, by SEPA creditor id first, then by name
/// (the longest alias found in the counterpart, else in the purpose).
pub fn identify(
    creditor_id: Option<&str>,
    counterpart: Option<&str>,
    purpose: Option<&str>,
) -> Option<&'static Provider> {
    if let Some(p) = creditor_id.and_then(by_creditor_id) {
        return Some(p);
    }
    // The purpose is normalised only when the counterpart names no insurer.
    let mut text = Vec::with_capacity(96);
    for t in [counterpart, purpose].into_iter().flatten() {
        text.clear();
        crate::normalise::normalise_bytes(t, &mut text);
        if let Some(p) = longest_alias(&text) {
            return Some(p);
        }
    }
    None
}

/// [`identify`] on texts already normalised by [`crate::normalise::normalise`].
pub fn identify_normalised(
    creditor_id: Option<&str>,
    counterpart: &str,
    purpose: &str,
) -> Option<&'static Provider> {
    if let Some(p) = creditor_id.and_then(by_creditor_id) {
        return Some(p);
    }
    longest_alias(counterpart.as_bytes()).or_else(|| longest_alias(purpose.as_bytes()))
}

/// The provider a counterpart names with one typing error (a letter
/// missing, added, changed, or two swapped: `Contientale`, `POVINZIAL`,
/// `ARAGS E`), for a payment [`identify`] found no provider for. Only
/// aliases of six characters or more that are not common words count, and
/// only when one provider is that close.
pub fn identify_misspelt(counterpart: &str) -> Option<&'static Provider> {
    static ALIASES: OnceLock<Vec<(String, usize, usize)>> = OnceLock::new();
    let aliases = ALIASES.get_or_init(|| {
        normalised_aliases()
            .into_iter()
            .filter(|(_, _, ambiguous)| !ambiguous)
            .map(|(a, provider, _)| {
                let a = a.trim().to_owned();
                let words = a.split_whitespace().count();
                (a, provider, words)
            })
            .filter(|(a, _, _)| a.len() >= 6)
            .collect()
    });
    thread_local! {
        // Names repeat across payments and users: each is compared once.
        static SEEN: std::cell::RefCell<std::collections::HashMap<Box<str>, Option<usize>>> =
            Default::default();
    }
    if let Some(known) = SEEN.with(|s| s.borrow().get(counterpart).copied()) {
        return known.map(|i| &all()[i]);
    }
    let mut text = String::new();
    crate::normalise::normalise(counterpart, &mut text);
    let words: Vec<&str> = text.split_whitespace().collect();
    let found = closest(&words, aliases);
    SEEN.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() >= 100_000 {
            s.clear();
        }
        s.insert(counterpart.into(), found);
    });
    found.map(|i| &all()[i])
}

/// The one provider with an alias at most one edit from a run of `words`.
fn closest(words: &[&str], aliases: &[(String, usize, usize)]) -> Option<usize> {
    let mut found: Option<usize> = None;
    for (alias, provider, n) in aliases {
        // A blank lost or added changes the number of words by one.
        let close = [*n, n + 1, n.saturating_sub(1)]
            .into_iter()
            .filter(|k| *k >= 1 && *k <= words.len())
            .any(|k| {
                words.windows(k).any(|w| {
                    let len = w.iter().map(|x| x.len()).sum::<usize>() + k - 1;
                    if len.abs_diff(alias.len()) > 1 {
                        return false;
                    }
                    strsim::osa_distance(&w.join(" "), alias) <= 1
                })
            });
        if close {
            match found {
                Some(other) if other != *provider => return None,
                _ => found = Some(*provider),
            }
        }
    }
    found
}

/// The short name of an insurer the directory does not list, from the
/// counterpart's name: legal forms and the words that only say "insurer"
/// are cut from its end (`AGILA Haustierversicherung AG` → `AGILA`,
/// `Muster Versicherungs-AG` → `Muster`), so that one insurer's payments
/// read as one provider whichever legal name a bank prints. A compound
/// stays when its first part is no line of business: it is the brand
/// (`Deutsche Familienversicherung AG` → `Deutsche Familienversicherung`).
/// The first word always stays.
pub fn short_name(counterpart: &str) -> &str {
    // Written without dots: `a.G.` is `ag`, `Co.` is `co`.
    const LEGAL_FORMS: [&str; 16] = [
        "ag", "se", "gmbh", "mbh", "kg", "kgaa", "co", "vvag", "ev", "ltd", "plc", "inc", "nv",
        "bv", "sa", "&",
    ];
    let generic = |word: &str| {
        let w: String = word
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '&')
            .flat_map(char::to_lowercase)
            .collect();
        LEGAL_FORMS.contains(&w.as_str())
            || [
                "versicherung",
                "versicherer",
                "assurance",
                "verzekering",
                "insurance",
            ]
            .iter()
            .any(|g| w.find(g).is_some_and(|at| names_a_line(&w[..at])))
    };
    let mut name = counterpart.trim();
    loop {
        let Some((head, last)) = name.rsplit_once(char::is_whitespace) else {
            return name;
        };
        // `a. G.` is two words.
        let (head, last) = match (head.rsplit_once(char::is_whitespace), last) {
            (Some((h, "a.")), "G." | "g.") => (h, "a.g."),
            _ => (head, last),
        };
        if !generic(last) {
            return name;
        }
        name = head.trim_end_matches([',', ' ', '-']);
    }
}

/// Whether the first part of an insurance compound (`kranken` of
/// Krankenversicherung, `haustier` of Haustierversicherung) names a line of
/// business of the vocabulary, or is empty: such a compound only says
/// what the insurer sells.
fn names_a_line(first_part: &str) -> bool {
    // Normalised text is padded with a space at both ends, as the
    // vocabulary's whole-word terms expect.
    let mut padded = String::new();
    crate::normalise::normalise(first_part.trim_end_matches(['s', '-']), &mut padded);
    padded.trim().is_empty() || line_terms().is_match(&padded)
}

/// The vocabulary's parts and words of every line, and the words for a
/// group of lines it does not list as types, in one automaton: naming an
/// unlisted insurer runs for every insurance payment an import stages.
fn line_terms() -> &'static aho_corasick::AhoCorasick {
    static TERMS: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
    TERMS.get_or_init(|| {
        const GROUP_WORDS: [&str; 5] = ["sach", "allgemein", "rueck", "kraftfahrt", "schaden"];
        let v = crate::insurance_vocabulary::vocabulary();
        let terms: Vec<&str> = v
            .types
            .iter()
            .flat_map(|t| t.parts.iter().chain(&t.words))
            .map(String::as_str)
            .filter(|t| !t.trim().is_empty())
            .chain(GROUP_WORDS)
            .collect();
        aho_corasick::AhoCorasick::new(terms).expect("the vocabulary's terms build")
    })
}

/// The provider of the longest alias in a normalised text (an ambiguous
/// alias only where the text says "insurance").
fn longest_alias(text: &[u8]) -> Option<&'static Provider> {
    let index = alias_index();
    let mut context: Option<bool> = None;
    index
        .automaton
        .find_iter(text)
        .filter(|m| {
            !index.ambiguous[m.pattern().as_usize()]
                || *context.get_or_insert_with(|| says_insurance(text))
        })
        .max_by_key(|m| m.end() - m.start())
        .map(|m| &all()[index.provider[m.pattern().as_usize()]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_insurer_is_still_recognised() {
        let id = |name: &str| identify_misspelt(name).map(|p| p.id.as_str());
        assert_eq!(
            id("Contientale Krankenversicherung a.G."),
            Some("continentale")
        );
        assert_eq!(id("POVINZIAL VERSICHERUNG AG"), Some("provinzial"));
        assert_eq!(id("ARAGS E"), Some("arag"));
        assert_eq!(id("HanseMerkru"), Some("hansemerkur"));
        // Two errors, a short name, or a word that only resembles one: none.
        assert_eq!(id("Contiantal"), None);
        assert_eq!(id("Bäckerei Müller"), None);
        assert_eq!(id("Stadtwerke Musterstadt"), None);
    }

    #[test]
    fn an_unlisted_insurer_is_named_without_its_legal_form() {
        assert_eq!(short_name("AGILA Haustierversicherung AG"), "AGILA");
        assert_eq!(short_name("Muster Versicherungs-AG"), "Muster");
        assert_eq!(
            short_name("Nordlicht Krankenversicherung a. G."),
            "Nordlicht"
        );
        assert_eq!(short_name("Beispiel Lebensversicherung VVaG"), "Beispiel");
        assert_eq!(
            short_name("Techniker Krankenkasse"),
            "Techniker Krankenkasse"
        );
        assert_eq!(short_name("Versicherung"), "Versicherung");
        assert_eq!(
            short_name("Deutsche Familienversicherung AG"),
            "Deutsche Familienversicherung"
        );
        assert_eq!(short_name("Beispiel Sachversicherung AG"), "Beispiel");
        assert_eq!(
            short_name("Beispiel Katzen-Krankenversicherung"),
            "Beispiel"
        );
        assert_eq!(
            short_name("Haus & Grund Versicherungsdienst GmbH & Co. KG"),
            "Haus & Grund"
        );
    }

    #[test]
    fn directory_loads_and_identifies() {
        assert!(all().len() >= 25);
        assert_eq!(
            identify(None, Some("HUK-COBURG Versicherung"), None)
                .unwrap()
                .name,
            "HUK-COBURG"
        );
        assert_eq!(
            identify(None, Some("Techniker Krankenkasse"), None)
                .unwrap()
                .id,
            "tk"
        );
        assert_eq!(
            identify(None, Some("AOK Bayern"), None).unwrap().name,
            "AOK"
        );
        // "dak" inside another word is not DAK.
        assert!(identify(None, Some("Redaktion Verlag"), None).is_none());
        // A place or a word that is also an insurer's name names it only
        // where the text says "insurance".
        assert!(identify(None, None, Some("Kartenzahlung Zurich CHF 50.00")).is_none());
        assert!(identify(None, Some("ING"), Some("iDEAL betaling webshop")).is_none());
        assert_eq!(
            identify(None, Some("Zurich Versicherung AG"), None)
                .unwrap()
                .id,
            "zurich"
        );
        // A group company carries its brand's name; the brand alone names
        // the group's first entry, the legal name the company.
        let id =
            |name: &str| identify(None, Some(name), None).map(|p| (p.id.as_str(), p.name.as_str()));
        assert_eq!(id("Allianz"), Some(("allianz", "Allianz")));
        assert_eq!(
            id("Allianz Private Krankenversicherungs-AG"),
            Some(("allianz-kv", "Allianz"))
        );
        assert_eq!(id("R+V"), Some(("r-v", "R+V")));
        assert_eq!(
            id("HUK-COBURG-Lebensversicherung AG"),
            Some(("huk-leben", "HUK-COBURG"))
        );
        // Two public insurers whose names share words are told apart by
        // the longer name; a brand's non-life company carries the brand.
        assert_eq!(
            id("Sparkassen-Versicherung Sachsen"),
            Some((
                "sparkassen-versicherung-sachsen",
                "Sparkassen-Versicherung Sachsen"
            ))
        );
        assert_eq!(
            id("SV SparkassenVersicherung Gebäudeversicherung AG"),
            Some(("sparkassen-versicherung", "SV SparkassenVersicherung"))
        );
        assert_eq!(
            id("Cosmos Versicherung AG"),
            Some(("cosmosdirekt", "CosmosDirekt"))
        );
    }
}
