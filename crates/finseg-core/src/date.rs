//! Calendar dates as days since 1970-01-01 (proleptic Gregorian).
//!
//! A date is stored and compared as one `i32`; conversions use Howard
//! Hinnant's civil-from-days algorithms, so no calendar library is needed.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// A calendar month, `year * 12 + (month - 1)`, so months are consecutive integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

pub fn is_leap_year(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    pub const MIN_YEAR: i32 = 1900;
    pub const MAX_YEAR: i32 = 2200;

    pub fn from_days(days: i32) -> Self {
        Date(days)
    }

    pub fn days(self) -> i32 {
        self.0
    }

    /// `None` when the triple is not a real calendar date or lies outside
    /// the years finseg accepts (1900–2200).
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Self> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&y) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Self::civil(y, m, d))
    }

    /// The day of a valid month and day in any year: arithmetic on accepted
    /// dates (a month's end, a next expected payment) may step past the
    /// accepted years and must not fail there.
    fn civil(y: i32, m: u32, d: u32) -> Self {
        debug_assert!((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m as i32 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Date(era * 146_097 + doe - 719_468)
    }

    /// The same day `n` months later (or earlier), clamped to the end of a
    /// shorter month (Jan 31 + 1 month = Feb 28/29), in any year.
    pub fn add_months(self, n: i32) -> Self {
        let (_, _, d) = self.ymd();
        let target = self.month().plus(n);
        let last = days_in_month(target.year(), target.month());
        Self::civil(target.year(), target.month(), d.min(last))
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i32::from(m <= 2);
        (y, m, d)
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        Date::from_ymd(num(0..4)? as i32, num(5..7)?, num(8..10)?)
    }

    pub fn month(self) -> Month {
        let (y, m, _) = self.ymd();
        Month(y * 12 + m as i32 - 1)
    }

    pub fn add_days(self, n: i32) -> Self {
        Date(self.0 + n)
    }

    /// Monday = 0 … Sunday = 6.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.0 + 3).rem_euclid(7) as u32
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom("not a date (YYYY-MM-DD)"))
    }
}

impl Month {
    pub fn from_ym(y: i32, m: u32) -> Self {
        Month(y * 12 + m as i32 - 1)
    }

    pub fn index(self) -> i32 {
        self.0
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    pub fn month(self) -> u32 {
        (self.0.rem_euclid(12) + 1) as u32
    }

    pub fn first_day(self) -> Date {
        Date::civil(self.year(), self.month(), 1)
    }

    pub fn last_day(self) -> Date {
        self.succ().first_day().add_days(-1)
    }

    pub fn succ(self) -> Self {
        Month(self.0 + 1)
    }

    pub fn plus(self, n: i32) -> Self {
        Month(self.0 + n)
    }
}

impl Month {
    /// `YYYY-MM`, as `Display` writes it.
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if y.len() != 4 || m.len() != 2 || !digits(y) || !digits(m) {
            return None;
        }
        let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        (1..=12).contains(&m).then(|| Month::from_ym(y, m))
    }
}

impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Month::parse(&s).ok_or_else(|| serde::de::Error::custom("not a month (YYYY-MM)"))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(Date::parse("1970-01-01").unwrap().days(), 0);
        assert_eq!(Date::parse("2000-03-01").unwrap().days(), 11_017);
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert_eq!(Date::parse("2026-11-25").unwrap().weekday(), 2); // a Wednesday
    }

    #[test]
    fn rejects_impossible_dates() {
        for s in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-1-01",
            "24-01-01",
            "2024-01-01T",
            "abcd-ef-gh",
            "1899-12-31",
            "2024-01-00",
        ] {
            assert_eq!(Date::parse(s), None, "{s}");
        }
    }

    #[test]
    fn month_boundaries() {
        let m = Date::parse("2024-02-10").unwrap().month();
        assert_eq!(m.to_string(), "2024-02");
        assert_eq!(m.last_day().to_string(), "2024-02-29");
        assert_eq!(Month::from_ym(2024, 12).succ().to_string(), "2025-01");
        assert_eq!(Month::from_ym(2025, 1).plus(-1).to_string(), "2024-12");
    }

    #[test]
    fn months_at_the_edge_of_the_accepted_years() {
        let last = Date::parse("2200-12-31").unwrap();
        assert_eq!(last.month().last_day(), last);
        assert_eq!(last.month().succ().first_day(), last.add_days(1));
        assert_eq!(last.add_months(2).to_string(), "2201-02-28");
        let first = Date::parse("1900-01-01").unwrap();
        assert_eq!(first.month().plus(-1).first_day().to_string(), "1899-12-01");
        assert_eq!(first.add_months(-1).to_string(), "1899-12-01");
    }

    proptest! {
        /// Every month arithmetic on an accepted date gives a real date,
        /// whether or not it stays inside the accepted years.
        #[test]
        fn month_arithmetic_is_total(
            days in Date::parse("1900-01-01").unwrap().days()..=Date::parse("2200-12-31").unwrap().days(),
            n in -300i32..300,
        ) {
            let d = Date::from_days(days);
            let m = d.month().plus(n);
            prop_assert_eq!(m.first_day().month(), m);
            prop_assert_eq!(m.last_day().month(), m);
            prop_assert_eq!(m.last_day().add_days(1), m.succ().first_day());
            let later = d.add_months(n);
            prop_assert_eq!(later.month(), m);
            prop_assert!(later.ymd().2 <= d.ymd().2);
        }

        #[test]
        fn days_round_trip(days in -25_000i32..80_000) {
            let d = Date::from_days(days);
            let (y, m, dd) = d.ymd();
            prop_assert_eq!(Date::from_ymd(y, m, dd), Some(d));
            prop_assert_eq!(Date::parse(&d.to_string()), Some(d));
            prop_assert_eq!(d.add_days(1).weekday(), (d.weekday() + 1) % 7);
        }
    }
}
