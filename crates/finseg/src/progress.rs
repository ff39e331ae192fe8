//! Progress of long CLI work on stderr: the first update, then at most one
//! line every two seconds, so that a terminal and a log both show it.

use std::time::{Duration, Instant};

pub(crate) struct Progress {
    what: &'static str,
    last: Option<Instant>,
}

impl Progress {
    pub(crate) fn new(what: &'static str) -> Self {
        Progress { what, last: None }
    }

    /// Prints `line()` if the last print is two seconds old (or there was none).
    pub(crate) fn update(&mut self, line: impl FnOnce() -> String) {
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
        {
            return;
        }
        self.last = Some(Instant::now());
        eprintln!("finseg {}: {}", self.what, line());
    }
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
