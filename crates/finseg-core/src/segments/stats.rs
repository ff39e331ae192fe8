//! Statistics over monthly totals, in exact integer arithmetic.
//!
//! Average, median and standard deviation are rounded to cents, half away
//! from zero. The standard deviation is the population one: sqrt(Σ(x-μ)²/n).

use serde::Serialize;

use crate::Amount;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total: Amount,
    pub average: Amount,
    pub minimum: Amount,
    pub maximum: Amount,
    pub median: Amount,
    pub standard_deviation: Amount,
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

/// Statistics of the values (cents); `None` for no values.
pub fn of(values: &[Amount]) -> Option<Stats> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as i128;
    let xs: Vec<i128> = values.iter().map(|a| i128::from(a.cents())).collect();
    let sum: i128 = xs.iter().sum();
    let mut sorted = xs.clone();
    sorted.sort_unstable();
    let median = if sorted.len() % 2 == 1 {
        sorted[sorted.len() / 2]
    } else {
        div_round(sorted[sorted.len() / 2 - 1] + sorted[sorted.len() / 2], 2)
    };
    // n²·variance = n·Σx² − (Σx)², exact in integers; σ = sqrt(that) / n.
    let sum_sq: i128 = xs.iter().map(|x| x * x).sum();
    let v = n * sum_sq - sum * sum;
    // round(sqrt(v)/n) = floor((sqrt(4v) + n) / 2n), exactly.
    let sd = (isqrt(4 * v) + n) / (2 * n);
    let cents = |c: i128| Amount::from_cents(c as i64);
    Some(Stats {
        total: cents(sum),
        average: cents(div_round(sum, n)),
        minimum: cents(sorted[0]),
        maximum: cents(*sorted.last().expect("non-empty")),
        median: cents(median),
        standard_deviation: cents(sd),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(c: &[i64]) -> Vec<Amount> {
        c.iter().map(|c| Amount::from_cents(*c)).collect()
    }

    #[test]
    fn worked_example() {
        // Monthly totals -100.00, 0 (a month without transactions), -50.00, -250.00.
        let s = of(&a(&[-100_00, 0, -50_00, -250_00])).unwrap();
        assert_eq!(s.total, Amount::from_cents(-400_00));
        assert_eq!(s.average, Amount::from_cents(-100_00));
        assert_eq!(s.minimum, Amount::from_cents(-250_00));
        assert_eq!(s.maximum, Amount::from_cents(0));
        // Even count: mean of -100 and -50.
        assert_eq!(s.median, Amount::from_cents(-75_00));
        // Deviations 0, 100, 50, -150: variance (0+10000+2500+22500)/4 = 8750; sqrt = 93.5414…
        assert_eq!(s.standard_deviation, Amount::from_cents(93_54));
    }

    #[test]
    fn rounding_half_away_from_zero() {
        let s = of(&a(&[1, 2])).unwrap();
        assert_eq!(s.average, Amount::from_cents(2)); // 1.5 cents
        assert_eq!(s.median, Amount::from_cents(2));
        let s = of(&a(&[-1, -2])).unwrap();
        assert_eq!(s.average, Amount::from_cents(-2));
        let s = of(&a(&[0, 1])).unwrap();
        assert_eq!(s.standard_deviation, Amount::from_cents(1)); // 0.5 cents
        assert_eq!(of(&a(&[7])).unwrap().standard_deviation, Amount::ZERO);
        assert_eq!(of(&[]), None);
    }

    #[test]
    fn matches_float_reference() {
        let vals = a(&[123_45, -9_99, 0, 77_01, 3_14, 2_718_28]);
        let s = of(&vals).unwrap();
        let xs: Vec<f64> = vals.iter().map(|v| v.cents() as f64).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        assert_eq!(s.standard_deviation.cents(), sd.round() as i64);
    }
}
