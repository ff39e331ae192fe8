//! Statistics over monthly totals, in exact integer arithmetic.
//!
//! Average, median and standard deviation are rounded to cents, half away
//! from zero. The standard deviation is the population one: sqrt(Σ(x-μ)²/n).

use serde::Serialize;

use crate::Total;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total: Total,
    pub average: Total,
    pub minimum: Total,
    pub maximum: Total,
    pub median: Total,
    pub standard_deviation: Total,
}

/// `num / den` rounded half away from zero (den > 0).
fn div_round(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

fn isqrt(n: i128) -> i128 {
    if n < 2 {
        return n.max(0);
    }
    // Newton's method from a float estimate, then exact correction.
    let mut x = (n as f64).sqrt() as i128;
    while x * x > n {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= n {
        x += 1;
    }
    x
}

/// The population standard deviation of `xs` (sum `sum`), rounded to a
/// cent: sqrt(v) / n with n²·variance = v = n·Σx² − (Σx)², exact in
/// integers; round(sqrt(v)/n) = floor((sqrt(4v) + n) / 2n).
fn standard_deviation(xs: &[i128], sum: i128) -> i128 {
    let n = xs.len() as i128;
    let narrow = || -> Option<i128> {
        let sum_sq = xs
            .iter()
            .try_fold(0i128, |acc, x| acc.checked_add(x.checked_mul(*x)?))?;
        let four_v = n
            .checked_mul(sum_sq)?
            .checked_sub(sum.checked_mul(sum)?)?
            .checked_mul(4)?;
        Some((isqrt(four_v) + n) / (2 * n))
    };
    // Monthly totals beyond about 10^18 cents square past i128: the same
    // formula in arbitrary precision.
    narrow().unwrap_or_else(|| {
        use num_bigint::BigInt;
        let n = BigInt::from(n);
        let sum_sq: BigInt = xs.iter().map(|x| BigInt::from(*x) * x).sum();
        let sum = BigInt::from(sum);
        let four_v: BigInt = (&n * sum_sq - &sum * &sum) * 4;
        let sd: BigInt = (four_v.sqrt() + &n) / (n * 2);
        i128::try_from(sd).expect("a deviation is at most the largest distance from the mean")
    })
}

/// Statistics of the values (cents); `None` for no values.
pub fn of(values: &[Total]) -> Option<Stats> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as i128;
    let xs: Vec<i128> = values.iter().map(|a| a.cents()).collect();
    // Monthly totals are sums of at most 10^12 bookings below 10^15 cents
    // each, so a dozen of them sum far inside i128.
    let sum: i128 = xs.iter().sum();
    let mut sorted = xs.clone();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        div_round(sorted[mid - 1] + sorted[mid], 2)
    };
    let cents = Total::from_cents;
    Some(Stats {
        total: cents(sum),
        average: cents(div_round(sum, n)),
        minimum: cents(sorted[0]),
        maximum: cents(*sorted.last().expect("non-empty")),
        median: cents(median),
        standard_deviation: cents(standard_deviation(&xs, sum)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(c: &[i64]) -> Vec<Total> {
        c.iter()
            .map(|c| Total::from_cents(i128::from(*c)))
            .collect()
    }

    #[test]
    fn worked_example() {
        // Monthly totals -100.00, 0 (a month without transactions), -50.00, -250.00.
        let s = of(&a(&[-100_00, 0, -50_00, -250_00])).unwrap();
        assert_eq!(s.total, Total::from_cents(-400_00));
        assert_eq!(s.average, Total::from_cents(-100_00));
        assert_eq!(s.minimum, Total::from_cents(-250_00));
        assert_eq!(s.maximum, Total::from_cents(0));
        // Even count: mean of -100 and -50.
        assert_eq!(s.median, Total::from_cents(-75_00));
        // Deviations 0, 100, 50, -150: variance (0+10000+2500+22500)/4 = 8750; sqrt = 93.5414…
        assert_eq!(s.standard_deviation, Total::from_cents(93_54));
    }

    #[test]
    fn rounding_half_away_from_zero() {
        let s = of(&a(&[1, 2])).unwrap();
        assert_eq!(s.average, Total::from_cents(2)); // 1.5 cents
        assert_eq!(s.median, Total::from_cents(2));
        let s = of(&a(&[-1, -2])).unwrap();
        assert_eq!(s.average, Total::from_cents(-2));
        let s = of(&a(&[0, 1])).unwrap();
        assert_eq!(s.standard_deviation, Total::from_cents(1)); // 0.5 cents
        assert_eq!(of(&a(&[7])).unwrap().standard_deviation, Total::ZERO);
        assert_eq!(of(&[]), None);
    }

    #[test]
    fn totals_too_large_to_square_in_i128() {
        let x = 10i128.pow(20);
        let s = of(&[Total::from_cents(x), Total::from_cents(-x)]).unwrap();
        assert_eq!(s.standard_deviation, Total::from_cents(x));
        assert_eq!(s.average, Total::ZERO);
        // 0, 3·10^20, 3·10^20: σ = sqrt(2)·10^20, floor(141421356237309504880.16…) cents.
        let s = of(&[0, 3 * x, 3 * x].map(Total::from_cents)).unwrap();
        assert_eq!(s.standard_deviation.cents(), 141_421_356_237_309_504_880);
        assert_eq!(s.total.to_string(), "6000000000000000000.00");
    }

    #[test]
    fn matches_float_reference() {
        let vals = a(&[123_45, -9_99, 0, 77_01, 3_14, 2_718_28]);
        let s = of(&vals).unwrap();
        let xs: Vec<f64> = vals.iter().map(|v| v.cents() as f64).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        assert_eq!(s.standard_deviation.cents(), sd.round() as i128);
    }
}
