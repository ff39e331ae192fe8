//! Bytes to text and the number and date spellings statement files use.

use finseg_core::date::days_in_month;
use finseg_core::{Amount, Date};

pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Text encodings of statement files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Windows-1252, a superset of the printable ISO-8859-1.
    Windows1252,
}

impl Encoding {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            "windows-1252" | "cp1252" | "iso-8859-1" | "latin1" | "latin-1" | "iso-8859-15" => {
                Encoding::Windows1252
            }
            _ => return None,
        })
    }
}

/// Decodes a file: UTF-8 when it is valid UTF-8 (or `encoding` says so and
/// it is), else Windows-1252. German banks still export ISO-8859-1; a file
/// that is valid UTF-8 is almost never meant as Latin-1.
pub fn decode(bytes: &[u8], encoding: Option<Encoding>) -> String {
    let bytes = strip_bom(bytes);
    match encoding {
        Some(Encoding::Windows1252) => windows_1252(bytes),
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => windows_1252(bytes),
        },
    }
}

/// 0x80–0x9F of Windows-1252 (undefined positions map to U+FFFD).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
    '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{FFFD}',
    'ž', 'Ÿ',
];

fn windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// Parses an amount written with `decimal` as decimal separator and
/// optional `thousands` separators, e.g. `1.234,5` or `1,234.50` or `12,`.
/// A leading `-` or `+` is kept. More than two fraction digits must be zeros.
pub fn decimal(s: &str, decimal: char, thousands: Option<char>) -> Option<Amount> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, s.strip_prefix('+').unwrap_or(s).trim_start()),
    };
    let mut int = String::with_capacity(body.len());
    let mut frac: Option<String> = None;
    for c in body.chars() {
        if c == decimal {
            if frac.is_some() {
                return None;
            }
            frac = Some(String::new());
        } else if Some(c) == thousands && frac.is_none() {
            continue;
        } else if c.is_ascii_digit() {
            match &mut frac {
                Some(f) => f.push(c),
                None => int.push(c),
            }
        } else {
            return None;
        }
    }
    if int.is_empty() && frac.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    let int = if int.is_empty() { "0".to_owned() } else { int };
    let text = match frac.as_deref() {
        Some(f) if !f.is_empty() => format!("{}{int}.{f}", if neg { "-" } else { "" }),
        _ => format!("{}{int}", if neg { "-" } else { "" }),
    };
    Amount::parse(&text).ok()
}

/// A calendar date from its parts; a day past the month's end (`0230`, the
/// "30th of February" some German banks write for month-end value dates)
/// becomes the last day of that month.
pub fn lenient_date(year: i32, month: u32, day: u32) -> Option<Date> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if !(Date::MIN_YEAR..=Date::MAX_YEAR).contains(&year) {
        return None;
    }
    Date::from_ymd(year, month, day.min(days_in_month(year, month)))
}

/// `YYMMDD` as SWIFT writes it: years 00–79 are 20xx, 80–99 are 19xx.
pub fn yymmdd(s: &str) -> Option<Date> {
    let n = digits(s, 6)?;
    let yy = (n / 10_000) as i32;
    let year = if yy < 80 { 2000 + yy } else { 1900 + yy };
    lenient_date(year, n / 100 % 100, n % 100)
}

/// The value of exactly `len` ASCII digits.
pub fn digits(s: &str, len: usize) -> Option<u32> {
    if s.len() != len || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.bytes()
        .try_fold(0u32, |acc, c| Some(acc * 10 + u32::from(c - b'0')))
}

/// Trimmed, with runs of whitespace and control characters (a NUL or
/// other binary byte some banks' files carry) collapsed to one space;
/// `None` when nothing is left.
pub fn clean(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

/// Keeps at most `max` characters (fields in finseg have length limits).
pub fn truncate(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let d = |s, dec, th| decimal(s, dec, th).map(Amount::cents);
        assert_eq!(d("6800,", ',', None), Some(6800_00));
        assert_eq!(d("620,3", ',', None), Some(620_30));
        assert_eq!(d("000000000001,62", ',', None), Some(1_62));
        assert_eq!(d("-1.234,56", ',', Some('.')), Some(-1234_56));
        assert_eq!(d("1,234.56", '.', Some(',')), Some(1234_56));
        assert_eq!(d(",5", ',', None), Some(50));
        assert_eq!(d("", ',', None), None);
        assert_eq!(d(",", ',', None), None);
        assert_eq!(d("1,2,3", ',', None), None);
        assert_eq!(d("12a", ',', None), None);
        assert_eq!(d("1,234", ',', None), None); // three fraction digits, not zeros
    }

    #[test]
    fn dates() {
        assert_eq!(yymmdd("131017"), Date::from_ymd(2013, 10, 17));
        assert_eq!(yymmdd("991231"), Date::from_ymd(1999, 12, 31));
        assert_eq!(yymmdd("230230"), Date::from_ymd(2023, 2, 28));
        assert_eq!(yymmdd("240230"), Date::from_ymd(2024, 2, 29));
        assert_eq!(yymmdd("231301"), None);
        assert_eq!(yymmdd("2301a1"), None);
        assert_eq!(yymmdd("230100"), None);
    }

    #[test]
    fn encodings() {
        assert_eq!(decode(b"M\xfcller \x80", None), "Müller €");
        assert_eq!(decode("Müller".as_bytes(), None), "Müller");
        assert_eq!(decode("\u{feff}x".as_bytes(), None), "x");
        assert_eq!(decode(b"\xc3\xbc", Some(Encoding::Windows1252)), "Ã¼");
    }
}
