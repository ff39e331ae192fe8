//! The insurance provider directory (`data/insurers.tsv`), compiled in.

use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub name: String,
    /// Lower-case spellings as they appear on statements.
    pub aliases: Vec<String>,
    pub types: Vec<String>,
    pub creditor_ids: Vec<String>,
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
                // Longest first, so "huk-coburg" wins over a shorter alias of another insurer.
                aliases.sort_by_key(|a| std::cmp::Reverse(a.len()));
                Provider {
                    id: cols[0].to_owned(),
                    name: cols[1].to_owned(),
                    aliases,
                    types: list(3),
                    creditor_ids: list(4),
                }
            })
            .collect()
    })
}

/// The provider a payment goes to, by SEPA creditor id first, then by name.
pub fn identify(
    creditor_id: Option<&str>,
    counterpart: Option<&str>,
    purpose: Option<&str>,
) -> Option<&'static Provider> {
    if let Some(cid) = creditor_id
        && let Some(p) = all()
            .iter()
            .find(|p| p.creditor_ids.iter().any(|c| c.eq_ignore_ascii_case(cid)))
    {
        return Some(p);
    }
    for text in [counterpart, purpose].into_iter().flatten() {
        let lower = text.to_lowercase();
        let mut best: Option<(&Provider, usize)> = None;
        for p in all() {
            for a in &p.aliases {
                if a.len() >= 3 && contains_word(&lower, a) && best.is_none_or(|(_, l)| a.len() > l)
                {
                    best = Some((p, a.len()));
                }
            }
        }
        if let Some((p, _)) = best {
            return Some(p);
        }
    }
    None
}

/// `needle` occurs in `hay` not glued to letters on either side.
fn contains_word(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
