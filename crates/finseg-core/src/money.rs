//! Exact money amounts: signed hundredths of a currency unit in an `i64`.
//!
//! Amounts never pass through a float: input is parsed from its decimal text
//! (JSON numbers are read as raw text), output is written as decimal text.

use std::fmt;

/// A signed amount in hundredths of the currency unit (scale 2), whatever the
/// currency's own exponent; SPEC §3 allows at most two fraction digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

/// Largest accepted magnitude: 10^13 currency units, so that sums over a
/// whole customer base still fit an `i64` comfortably.
const MAX_CENTS: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    Empty,
    Malformed,
    TooManyFractionDigits,
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountError::Empty => "amount is empty",
            AmountError::Malformed => {
                "not a decimal amount (expected e.g. -12.34; no exponent, no thousands separator)"
            }
            AmountError::TooManyFractionDigits => "at most 2 fraction digits are allowed",
            AmountError::TooLarge => "amount is out of range (|amount| < 10^13)",
        })
    }
}

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub const fn from_cents(cents: i64) -> Self {
        Amount(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Self {
        Amount(self.0.abs())
    }

    /// Parses `[-+]digits[.d[d]]`, the text of a JSON number or string.
    pub fn parse(s: &str) -> Result<Self, AmountError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        // One pass over the bytes: the bulk import reads an amount a line.
        let b = s.as_bytes();
        let (neg, int_start) = match b[0] {
            b'-' => (true, 1),
            b'+' => (false, 1),
            _ => (false, 0),
        };
        let digits_end = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let int_end = digits_end(int_start);
        if int_end == int_start {
            return Err(AmountError::Malformed);
        }
        let frac = match b.get(int_end) {
            None => &b[int_end..],
            Some(b'.') => {
                let frac_end = digits_end(int_end + 1);
                if frac_end == int_end + 1 || frac_end != b.len() {
                    return Err(AmountError::Malformed);
                }
                &b[int_end + 1..]
            }
            Some(_) => return Err(AmountError::Malformed),
        };
        // Trailing zeros beyond the cents ("1.500") are still exact.
        if frac.len() > 2 && frac[2..].iter().any(|&c| c != b'0') {
            return Err(AmountError::TooManyFractionDigits);
        }
        let int = &b[int_start..int_end];
        let significant = int
            .iter()
            .position(|&c| c != b'0')
            .map_or(0, |p| int.len() - p);
        if significant > 14 {
            return Err(AmountError::TooLarge);
        }
        let mut cents: i64 = 0;
        for &c in &int[int.len() - significant..] {
            cents = cents * 10 + i64::from(c - b'0');
        }
        let tenths = frac.first().map_or(0, |&c| i64::from(c - b'0'));
        let hundredths = frac.get(1).map_or(0, |&c| i64::from(c - b'0'));
        cents = cents * 100 + tenths * 10 + hundredths;
        if cents >= MAX_CENTS {
            return Err(AmountError::TooLarge);
        }
        Ok(Amount(if neg { -cents } else { cents }))
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }
}

impl std::ops::Add for Amount {
    type Output = Amount;
    fn add(self, o: Amount) -> Amount {
        Amount(self.0 + o.0)
    }
}

impl std::ops::Sub for Amount {
    type Output = Amount;
    fn sub(self, o: Amount) -> Amount {
        Amount(self.0 - o.0)
    }
}

impl std::ops::Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        Amount(iter.map(|a| a.0).sum())
    }
}

/// A sum of amounts in hundredths, as wide as no sum of accepted amounts
/// can overflow: each is below 10^15 hundredths, so it takes more than
/// 10^23 of them to reach `i128::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Total(i128);

impl Total {
    pub const ZERO: Total = Total(0);

    pub const fn from_cents(cents: i128) -> Self {
        Total(cents)
    }

    pub fn cents(self) -> i128 {
        self.0
    }
}

impl From<Amount> for Total {
    fn from(a: Amount) -> Self {
        Total(i128::from(a.0))
    }
}

impl std::ops::AddAssign<Amount> for Total {
    fn add_assign(&mut self, a: Amount) {
        self.0 += i128::from(a.0);
    }
}

impl std::ops::Add for Total {
    type Output = Total;
    fn add(self, o: Total) -> Total {
        Total(self.0 + o.0)
    }
}

impl std::ops::Sub for Total {
    type Output = Total;
    fn sub(self, o: Total) -> Total {
        Total(self.0 - o.0)
    }
}

impl PartialEq<Amount> for Total {
    fn eq(&self, a: &Amount) -> bool {
        self.0 == i128::from(a.0)
    }
}

impl PartialOrd<Amount> for Total {
    fn partial_cmp(&self, a: &Amount) -> Option<std::cmp::Ordering> {
        Some(self.0.cmp(&i128::from(a.0)))
    }
}

impl std::iter::Sum<Amount> for Total {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Total {
        let mut t = Total::ZERO;
        for a in iter {
            t += a;
        }
        t
    }
}

impl fmt::Display for Total {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// Written as a JSON number with exactly two fraction digits, as [`Amount`].
impl serde::Serialize for Total {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// Reads what [`Total`]'s `Serialize` writes: a JSON number with at most
/// two fraction digits (stored results are read back through it).
impl<'de> serde::Deserialize<'de> for Total {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        Total::parse(&n.to_string()).ok_or_else(|| serde::de::Error::custom("not an amount"))
    }
}

/// Reads what `Serialize` writes (stored results are read back).
impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        Amount::parse(&n.to_string()).map_err(serde::de::Error::custom)
    }
}

impl Total {
    /// `[-]digits[.d[d]]`, as [`Total`]'s `Display` writes it.
    pub fn parse(s: &str) -> Option<Total> {
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || fraction.len() > 2 || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let mut cents: i128 = whole.parse().ok()?;
        cents = cents.checked_mul(100)?;
        let fraction_cents: i128 = format!("{fraction:0<2}").parse().ok()?;
        cents = cents.checked_add(fraction_cents)?;
        Some(Total(if negative { -cents } else { cents }))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// Written as a JSON number with exactly two fraction digits (`-12.30`).
impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(Amount::parse("12.34").unwrap().cents(), 1234);
        assert_eq!(Amount::parse("-0.5").unwrap().cents(), -50);
        assert_eq!(Amount::parse("+7").unwrap().cents(), 700);
        assert_eq!(Amount::parse("1.500").unwrap().cents(), 150);
        assert_eq!(Amount::parse("0.10").unwrap().cents(), 10);
        assert_eq!(Amount::parse("-100").unwrap().to_string(), "-100.00");
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(
            Amount::parse("1.234"),
            Err(AmountError::TooManyFractionDigits)
        );
        for s in [
            "", "abc", "1,5", "1e3", "1.", ".5", "--1", "1.2.3", "1 000", "NaN",
        ] {
            assert!(Amount::parse(s).is_err(), "{s}");
        }
        assert_eq!(Amount::parse("99999999999999"), Err(AmountError::TooLarge));
    }

    #[test]
    fn totals_of_the_largest_amounts_do_not_overflow() {
        let max = Amount::parse("9999999999999.99").unwrap();
        let t: Total = std::iter::repeat_n(max, 10_000).sum();
        assert_eq!(t.to_string(), "99999999999999900.00");
        let t: Total = std::iter::repeat_n(-max, 10_000).sum();
        assert_eq!(serde_json::to_string(&t).unwrap(), "-99999999999999900.00");
    }

    #[test]
    fn serializes_as_number_text() {
        let v = serde_json::to_string(&Amount::from_cents(-1230)).unwrap();
        assert_eq!(v, "-12.30");
    }

    /// `Amount::parse` as first written, in several passes: the reference.
    fn parse_in_passes(s: &str) -> Result<Amount, AmountError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        let (neg, body) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
            return Err(AmountError::Malformed);
        }
        let frac = frac.unwrap_or("");
        if body.contains('.') && frac.is_empty() {
            return Err(AmountError::Malformed);
        }
        if !frac.bytes().all(|c| c.is_ascii_digit()) {
            return Err(AmountError::Malformed);
        }
        let frac_trimmed = if frac.len() > 2 {
            if frac[2..].bytes().any(|c| c != b'0') {
                return Err(AmountError::TooManyFractionDigits);
            }
            &frac[..2]
        } else {
            frac
        };
        let int = int.trim_start_matches('0');
        if int.len() > 14 {
            return Err(AmountError::TooLarge);
        }
        let mut cents: i64 = 0;
        for c in int.bytes() {
            cents = cents * 10 + i64::from(c - b'0');
        }
        let mut f = 0i64;
        for (i, c) in frac_trimmed.bytes().enumerate() {
            f += i64::from(c - b'0') * if i == 0 { 10 } else { 1 };
        }
        cents = cents * 100 + f;
        if cents >= MAX_CENTS {
            return Err(AmountError::TooLarge);
        }
        Ok(Amount(if neg { -cents } else { cents }))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20000))]
        #[test]
        fn one_pass_parses_as_the_passes_did(
            s in "[ ]?[-+]?[0-9]{0,17}(\\.[0-9]{0,4}[0.a-]?[0-9]{0,2})?[ x]?"
        ) {
            prop_assert_eq!(Amount::parse(&s), parse_in_passes(&s), "{:?}", s);
        }
    }

    proptest! {
        #[test]
        fn display_round_trips(c in -MAX_CENTS + 1..MAX_CENTS) {
            let a = Amount::from_cents(c);
            prop_assert_eq!(Amount::parse(&a.to_string()), Ok(a));
        }
    }
}
