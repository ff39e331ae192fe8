//! The counterpart's name inside a purpose text. Banks and parsers often
//! hand over the raw remittance field of a statement line, with the
//! counterpart in it rather than in a field of its own: SWIFT-style tags
//! (`/NAME/Bedrijf B.V./REMI/…`, used by Dutch and Belgian banks),
//! labelled text (`NAAM: …`, `AUFTRAGGEBER: …`), and MT940 `:86:`
//! subfields (`?32…?33…`). Labelling reads the name found there as the
//! counterpart when the transaction names none.

/// The counterpart's name in `purpose`, if a known structure holds one.
pub fn counterpart_in_purpose(purpose: &str) -> Option<&str> {
    swift_tag(purpose)
        .or_else(|| subfields(purpose))
        .or_else(|| labelled(purpose))
        .map(str::trim)
        .filter(|n| n.chars().any(char::is_alphabetic))
}

/// `/NAME/<name>` up to the next `/TAG/` (two to four capitals) or the end.
fn swift_tag(p: &str) -> Option<&str> {
    let start = p.find("/NAME/")? + "/NAME/".len();
    let rest = &p[start..];
    let bytes = rest.as_bytes();
    let end = (0..bytes.len())
        .find(|&i| {
            bytes[i] == b'/'
                && (3..=5).any(|n| {
                    bytes.get(i + n) == Some(&b'/')
                        && bytes[i + 1..i + n].iter().all(u8::is_ascii_uppercase)
                })
        })
        .unwrap_or(bytes.len());
    Some(&rest[..end])
}

/// MT940 `:86:` subfields 32 and 33 (the counterpart's name in two parts):
/// the first only, as the second is often cut mid-word.
fn subfields(p: &str) -> Option<&str> {
    let start = p.find("?32")? + 3;
    let rest = &p[start..];
    Some(&rest[..rest.find('?').unwrap_or(rest.len())])
}

/// `NAAM: <name>` or `AUFTRAGGEBER: <name>` up to the next label (an upper-case
/// word with a colon) or the end.
fn labelled(p: &str) -> Option<&str> {
    const LABELS: [&str; 5] = [
        "NAAM: ",
        "AUFTRAGGEBER: ",
        "BEGUENSTIGTER: ",
        "EMPFAENGER: ",
        "ZAHLUNGSEMPFAENGER: ",
    ];
    let (at, label) = LABELS
        .iter()
        .filter_map(|l| p.find(l).map(|at| (at, *l)))
        .min()?;
    let rest = &p[at + label.len()..];
    let end = rest
        .match_indices(':')
        .map(|(i, _)| i)
        .filter_map(|colon| {
            // The label's word starts after the last blank before the colon.
            let word_start = rest[..colon].rfind(' ').map_or(0, |b| b + 1);
            let word = &rest[word_start..colon];
            (word.len() >= 3 && word.bytes().all(|b| b.is_ascii_uppercase())).then_some(word_start)
        })
        .next()
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::counterpart_in_purpose as name;

    #[test]
    fn names_in_the_structures_banks_use() {
        assert_eq!(
            name(
                "/TRTP/SEPA OVERBOEKING/IBAN/NL81RABO0444444444/BIC/RABONL2U/NAME/Example B.V./REMI/factuur 12/EREF/NOTPROVIDED"
            ),
            Some("Example B.V.")
        );
        assert_eq!(name("/ORDP//NAME/ACME NV/ADDR/Weg 1"), Some("ACME NV"));
        assert_eq!(name("/NAME/Shop/with/slashes"), Some("Shop/with/slashes"));
        assert_eq!(
            name(
                "SEPA OVERBOEKING IBAN: NL52ABNA0777777777 BIC: ABNANL2A NAAM: J JANSEN OMSCHRIJVING: huur mei"
            ),
            Some("J JANSEN")
        );
        assert_eq!(
            name("GIRO AUS ONLINE AUFTRAGGEBER: MUSTER GMBH MUSTERWEG 1 MITTEILUNGEN: RE 4711"),
            Some("MUSTER GMBH MUSTERWEG 1")
        );
        assert_eq!(
            name("?20Miete?32Hausverwaltung Meier?33GmbH"),
            Some("Hausverwaltung Meier")
        );
        assert_eq!(name("Miete Mai 2026"), None);
        assert_eq!(name("/NAME//REMI/x"), None);
        assert_eq!(name("/NAME/"), None);
    }
}
