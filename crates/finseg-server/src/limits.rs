//! Limits that keep one client from hurting the others: failed token
//! requests per client id and per source address, and how many secrets
//! are checked at once (argon2 is made to be expensive: a flood of guesses
//! would otherwise take every core from everyone's requests).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked at most; beyond it, windows that ended are forgotten (and,
/// under a flood of distinct keys, all of them: the limit fails open
/// rather than growing without bound).
const MAX_KEYS: usize = 100_000;

/// Failed attempts per key in fixed one-minute windows.
pub struct FailedAttempts {
    per_window: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailedAttempts {
    pub fn new(per_minute: u32) -> Self {
        FailedAttempts {
            per_window: per_minute.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until `key` may try again, when it failed as often as it
    /// may in its current window.
    pub fn blocked(&self, key: &str) -> Option<u64> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (start, failures) = windows.get(key)?;
        let elapsed = start.elapsed();
        (elapsed < WINDOW && *failures >= self.per_window)
            .then(|| (WINDOW - elapsed).as_secs().max(1))
    }

    /// Counts a failed attempt of `key`.
    pub fn failed(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_KEYS && !windows.contains_key(key) {
            windows.retain(|_, (start, _)| start.elapsed() < WINDOW);
            if windows.len() >= MAX_KEYS {
                windows.clear();
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

/// The address a request came from (the TCP peer), when the server
/// records it. Behind a proxy this is the proxy: limits per address then
/// apply to all clients behind it, and the per-client-id limit still holds.
pub struct PeerAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_their_key_only_until_the_window_ends() {
        let f = FailedAttempts::new(3);
        for _ in 0..2 {
            f.failed("a");
        }
        assert_eq!(f.blocked("a"), None);
        f.failed("a");
        let wait = f.blocked("a").unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(f.blocked("b"), None);
        // An ended window counts afresh.
        f.windows.lock().unwrap().get_mut("a").unwrap().0 -= WINDOW;
        assert_eq!(f.blocked("a"), None);
        f.failed("a");
        assert_eq!(f.blocked("a"), None);
    }
}
