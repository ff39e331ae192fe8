//! Recurring-payment detection: the frequency, typical amount and next date
//! of a series of payments that belong to one contract.

use serde::Serialize;

use crate::{Amount, Date};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Frequency {
    Monthly,
    Bimonthly,
    Quarterly,
    HalfYearly,
    Yearly,
    Irregular,
}

impl Frequency {
    /// The name in JSON (as serialised).
    pub fn name(self) -> &'static str {
        match self {
            Frequency::Monthly => "MONTHLY",
            Frequency::Bimonthly => "BIMONTHLY",
            Frequency::Quarterly => "QUARTERLY",
            Frequency::HalfYearly => "HALF_YEARLY",
            Frequency::Yearly => "YEARLY",
            Frequency::Irregular => "IRREGULAR",
        }
    }

    /// Months between payments; `None` for irregular series.
    pub fn months(self) -> Option<i32> {
        match self {
            Frequency::Monthly => Some(1),
            Frequency::Bimonthly => Some(2),
            Frequency::Quarterly => Some(3),
            Frequency::HalfYearly => Some(6),
            Frequency::Yearly => Some(12),
            Frequency::Irregular => None,
        }
    }

    /// A year of payments of `typical` at this frequency; `None` for
    /// irregular series, whose annual amount is what was paid.
    pub fn annual(self, typical: Amount) -> Option<Amount> {
        self.months()
            .map(|m| Amount::from_cents(typical.cents() * i64::from(12 / m)))
    }

    /// The frequency of a typical gap in days. Tolerances absorb weekends,
    /// bank holidays and month lengths.
    pub fn from_gap(days: i32) -> Frequency {
        match days {
            25..=38 => Frequency::Monthly,
            52..=70 => Frequency::Bimonthly,
            80..=100 => Frequency::Quarterly,
            160..=200 => Frequency::HalfYearly,
            330..=400 => Frequency::Yearly,
            _ => Frequency::Irregular,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub frequency: Frequency,
    /// The median payment (positive: what is paid).
    pub typical_amount: Amount,
    pub annual_amount: Amount,
    pub first: Date,
    pub last: Date,
    pub next_expected: Option<Date>,
    pub count: usize,
}

/// Adds calendar months, keeping the day where the month has it.
pub fn add_months(d: Date, n: i32) -> Date {
    d.add_months(n)
}

fn median(mut xs: Vec<i64>) -> i64 {
    xs.sort_unstable();
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2] + 1).div_euclid(2)
    }
}

/// Detects the recurrence of payments (date, amount paid as a positive
/// amount), sorted or not. `yearly_hint`: the text or an earlier payment a
/// year before says the contract is yearly (used for a single payment).
pub fn detect(payments: &[(Date, Amount)], yearly_hint: bool) -> Option<Recurrence> {
    if payments.is_empty() {
        return None;
    }
    let mut ps = payments.to_vec();
    ps.sort();
    let first = ps[0].0;
    let last = ps[ps.len() - 1].0;
    let typical = Amount::from_cents(median(ps.iter().map(|(_, a)| a.cents().abs()).collect()));
    let frequency = if ps.len() == 1 {
        if yearly_hint {
            Frequency::Yearly
        } else {
            Frequency::Irregular
        }
    } else {
        let gaps: Vec<i64> = ps
            .windows(2)
            .map(|w| i64::from(w[1].0.days() - w[0].0.days()))
            .filter(|g| *g > 3)
            .collect();
        if gaps.is_empty() {
            Frequency::Irregular
        } else {
            // The smallest common gap: a skipped month shows as one double gap.
            let m = median(gaps.clone());
            let f = Frequency::from_gap(m as i32);
            if f == Frequency::Irregular && ps.len() >= 3 {
                Frequency::from_gap(*gaps.iter().min().expect("non-empty") as i32)
            } else {
                f
            }
        }
    };
    let annual_amount = frequency.annual(typical).unwrap_or_else(|| {
        let since = add_months(last, -12);
        ps.iter()
            .filter(|(d, _)| *d > since)
            .map(|(_, a)| a.abs())
            .sum()
    });
    Some(Recurrence {
        frequency,
        typical_amount: typical,
        annual_amount,
        first,
        last,
        next_expected: frequency.months().map(|m| add_months(last, m)),
        count: ps.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(days: &[&str], cents: &[i64]) -> Vec<(Date, Amount)> {
        days.iter()
            .zip(cents)
            .map(|(d, c)| (Date::parse(d).unwrap(), Amount::from_cents(*c)))
            .collect()
    }

    #[test]
    fn monthly_with_weekend_shifts_and_a_skipped_month() {
        let r = detect(
            &series(
                &[
                    "2026-01-02",
                    "2026-02-02",
                    "2026-04-01",
                    "2026-05-04",
                    "2026-06-01",
                ],
                &[4990; 5],
            ),
            false,
        )
        .unwrap();
        assert_eq!(r.frequency, Frequency::Monthly);
        assert_eq!(r.annual_amount, Amount::from_cents(4990 * 12));
        assert_eq!(r.next_expected, Some(Date::parse("2026-07-01").unwrap()));
    }

    #[test]
    fn quarterly_with_a_premium_change() {
        let r = detect(
            &series(
                &[
                    "2025-01-15",
                    "2025-04-15",
                    "2025-07-15",
                    "2025-10-15",
                    "2026-01-15",
                ],
                &[120_00, 120_00, 120_00, 126_60, 126_60],
            ),
            false,
        )
        .unwrap();
        assert_eq!(r.frequency, Frequency::Quarterly);
        assert_eq!(r.typical_amount, Amount::from_cents(120_00));
        assert_eq!(r.annual_amount, Amount::from_cents(480_00));
    }

    #[test]
    fn a_single_payment() {
        let one = series(&["2026-03-01"], &[380_00]);
        assert_eq!(detect(&one, true).unwrap().frequency, Frequency::Yearly);
        assert_eq!(
            detect(&one, true).unwrap().next_expected,
            Some(Date::parse("2027-03-01").unwrap())
        );
        assert_eq!(detect(&one, false).unwrap().frequency, Frequency::Irregular);
        assert_eq!(
            detect(&one, false).unwrap().annual_amount,
            Amount::from_cents(380_00)
        );
    }

    #[test]
    fn half_yearly_and_month_ends() {
        let r = detect(
            &series(&["2025-08-31", "2026-02-28"], &[99_00, 99_00]),
            false,
        )
        .unwrap();
        assert_eq!(r.frequency, Frequency::HalfYearly);
        assert_eq!(
            add_months(Date::parse("2026-01-31").unwrap(), 1),
            Date::parse("2026-02-28").unwrap()
        );
    }
}
