//! IBANs (ISO 13616): country length and mod-97 checksum.

use std::fmt;

use crate::text::Text;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(Text);

/// Registered IBAN lengths per country (SWIFT IBAN registry).
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// The number of a country code of two capital letters, below 26².
const fn country_number(a: u8, b: u8) -> usize {
    (a - b'A') as usize * 26 + (b - b'A') as usize
}

/// [`LENGTHS`] by [`country_number`] (0: no IBAN country), so that the
/// import looks a length up instead of searching the list for each IBAN.
const LENGTH_BY_COUNTRY: [u8; 26 * 26] = {
    let mut table = [0u8; 26 * 26];
    let mut i = 0;
    while i < LENGTHS.len() {
        let (code, len) = LENGTHS[i];
        let c = code.as_bytes();
        assert!(
            len < 256 && c.len() == 2 && c[0].is_ascii_uppercase() && c[1].is_ascii_uppercase()
        );
        table[country_number(c[0], c[1])] = len as u8;
        i += 1;
    }
    table
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IbanError {
    Characters,
    Country,
    Length,
    Checksum,
}

impl fmt::Display for IbanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IbanError::Characters => "an IBAN has only letters and digits",
            IbanError::Country => "unknown IBAN country code",
            IbanError::Length => "wrong IBAN length for its country",
            IbanError::Checksum => "IBAN checksum (mod 97) does not match",
        })
    }
}

impl Iban {
    /// Accepts print format with spaces and lower case; stores the electronic
    /// format (upper case, no spaces).
    pub fn parse(s: &str) -> Result<Self, IbanError> {
        // The compact form is built on the stack: an import parses an IBAN
        // for most transactions. Anything longer than any IBAN, or not
        // ASCII, takes the general path (and fails there).
        let mut buf = [0u8; 40];
        let mut n = 0;
        for c in s.bytes().filter(|c| *c != b' ') {
            if n == buf.len() || !c.is_ascii() {
                return Self::parse_compact(
                    &s.chars()
                        .filter(|c| *c != ' ')
                        .map(|c| c.to_ascii_uppercase())
                        .collect::<String>(),
                );
            }
            buf[n] = c.to_ascii_uppercase();
            n += 1;
        }
        Self::parse_compact(std::str::from_utf8(&buf[..n]).expect("ASCII"))
    }

    /// [`Iban::parse`] of a text without spaces, in upper case.
    fn parse_compact(compact: &str) -> Result<Self, IbanError> {
        if compact.len() < 5 || !compact.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(IbanError::Characters);
        }
        let b = compact.as_bytes();
        if !b[0].is_ascii_uppercase()
            || !b[1].is_ascii_uppercase()
            || !b[2].is_ascii_digit()
            || !b[3].is_ascii_digit()
        {
            return Err(IbanError::Characters);
        }
        let len = match LENGTH_BY_COUNTRY[country_number(b[0], b[1])] {
            0 => return Err(IbanError::Country),
            l => usize::from(l),
        };
        if compact.len() != len {
            return Err(IbanError::Length);
        }
        if mod_97(b[4..].iter().chain(&b[..4])) != 1 {
            return Err(IbanError::Checksum);
        }
        Ok(Iban(compact.into()))
    }

    /// The German IBAN of a bank code (BLZ, 8 digits) and account number
    /// (up to 10 digits): `DE`, check digits, the BLZ, the number padded
    /// with zeros to 10 digits. German statements (MT940 `:25:`) often name
    /// the account that way.
    pub fn german(bank_code: &str, account_number: &str) -> Option<Iban> {
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if bank_code.len() != 8 || !digits(bank_code, 8) || !digits(account_number, 10) {
            return None;
        }
        let (blz, number) = (bank_code, account_number);
        let bban = format!("{blz}{number:0>10}");
        // ISO 13616: BBAN, then "DE00" as digits (D=13, E=14), mod 97.
        let rest = bban
            .bytes()
            .chain(*b"131400")
            .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
        Iban::parse(&format!("DE{:02}{bban}", 98 - rest)).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 7064 MOD 97-10 of digits and capital letters (A = 10, …),
/// reduced only when the next ones could overflow: a division a character
/// was most of checking an IBAN, which an import does for most
/// transactions.
fn mod_97<'a>(chars: impl Iterator<Item = &'a u8>) -> u64 {
    chars.fold(0u64, |acc, &c| {
        let acc = if acc >= 1 << 56 { acc % 97 } else { acc };
        if c.is_ascii_digit() {
            acc * 10 + u64::from(c - b'0')
        } else {
            acc * 100 + u64::from(c - b'A' + 10)
        }
    }) % 97
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_country_code_has_the_listed_length() {
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = [a, b];
                let listed = LENGTHS
                    .iter()
                    .find(|(c, _)| c.as_bytes() == code)
                    .map_or(0, |(_, l)| *l);
                assert_eq!(usize::from(LENGTH_BY_COUNTRY[country_number(a, b)]), listed);
            }
        }
    }

    #[test]
    fn valid_ibans() {
        assert_eq!(
            Iban::parse("DE89 3704 0044 0532 0130 00").unwrap().as_str(),
            "DE89370400440532013000"
        );
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
        assert_eq!(
            Iban::german("37040044", "532013000").unwrap().as_str(),
            "DE89370400440532013000"
        );
        assert_eq!(Iban::german("3704004", "532013000"), None);
        assert_eq!(Iban::german("37040044", "12345678901"), None);
        assert!(Iban::parse("nl91abna0417164300").is_ok());
    }

    #[test]
    fn invalid_ibans() {
        assert_eq!(
            Iban::parse("DE89370400440532013001"),
            Err(IbanError::Checksum)
        );
        assert_eq!(Iban::parse("DE8937040044053201300"), Err(IbanError::Length));
        assert_eq!(
            Iban::parse("ZZ89370400440532013000"),
            Err(IbanError::Country)
        );
        assert_eq!(Iban::parse("DE89-3704"), Err(IbanError::Characters));
    }

    proptest::proptest! {
        /// The remainder is the one of a division at every character.
        #[test]
        fn mod_97_is_the_remainder_of_the_whole_number(text in "[0-9A-Z]{0,80}") {
            let stepwise = text.bytes().fold(0u64, |acc, c| {
                if c.is_ascii_digit() {
                    (acc * 10 + u64::from(c - b'0')) % 97
                } else {
                    (acc * 100 + u64::from(c - b'A' + 10)) % 97
                }
            });
            proptest::prop_assert_eq!(mod_97(text.as_bytes().iter()), stepwise);
        }

        /// Parsing on the stack answers as the general path does, for
        /// IBANs in print format, cut, changed, too long or not ASCII.
        #[test]
        fn the_stack_path_answers_as_the_general_one(
            text in "(DE89 3704 0044 0532 0130 00|nl91abna0417164300|GB82WEST12345698765432|[A-Za-z0-9 äß-]{0,50})",
            cut in 0usize..60,
            extra in "[ 0-9a-zä]{0,3}",
        ) {
            let cut = text.char_indices().nth(cut).map_or(text.len(), |(i, _)| i);
            for s in [text.clone(), format!("{}{extra}", &text[..cut])] {
                let general = Iban::parse_compact(
                    &s.chars()
                        .filter(|c| *c != ' ')
                        .map(|c| c.to_ascii_uppercase())
                        .collect::<String>(),
                );
                proptest::prop_assert_eq!(Iban::parse(&s), general);
            }
        }
    }
}
