//! Limits that keep one client from hurting the others: failed token
//! requests per client id and per source address, how many secrets are
//! checked at once (argon2 is made to be expensive: a flood of guesses
//! would otherwise take every core from everyone's requests), and how many
//! large writes one client has in flight, and the node at once.

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

/// Large writes in flight: at most `per_client` a client (more get 429),
/// and JSON batches and the batches of bulk imports written one at a time
/// on SQLite (which has one writer anyway: they queue here, in order,
/// rather than in SQLite's lock, where a wait of more than its busy
/// timeout failed with "database is locked"), a few at a time on
/// PostgreSQL. The queue also bounds the memory of
/// parsed batches to the slots' worth.
pub struct WriteAdmission {
    per_client: usize,
    in_flight: Mutex<HashMap<i64, usize>>,
    batch_slots: std::sync::Arc<tokio::sync::Semaphore>,
}

/// A client's admitted write; its place is given back when dropped.
pub struct WriteTicket {
    admission: std::sync::Arc<WriteAdmission>,
    client_pk: i64,
}

impl WriteAdmission {
    pub fn new(per_client: usize, batch_slots: usize) -> Self {
        WriteAdmission {
            per_client: per_client.max(1),
            in_flight: Mutex::new(HashMap::new()),
            batch_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(batch_slots.max(1))),
        }
    }

    /// Large writes running or waiting on this node, over every client.
    pub fn in_flight(&self) -> usize {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        in_flight.values().sum()
    }

    /// Waits for the turn of a JSON batch to be parsed and written.
    pub async fn batch_slot(
        &self,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, crate::problem::Problem> {
        self.batch_slots
            .acquire()
            .await
            .map_err(|_| crate::problem::Problem::internal("the write queue is closed"))
    }

    /// The turns to write, for a bulk import's batches
    /// ([`finseg_import::Hooks::write_turns`]): imports take turns batch by
    /// batch with each other and with JSON batches, in order, instead of
    /// waiting in SQLite's lock.
    pub fn turns(&self) -> std::sync::Arc<tokio::sync::Semaphore> {
        self.batch_slots.clone()
    }

    /// Admits one more large write of the client, or refuses it (429).
    pub fn admit(
        self: &std::sync::Arc<Self>,
        client_pk: i64,
    ) -> Result<WriteTicket, crate::problem::Problem> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = in_flight.entry(client_pk).or_insert(0);
        if *n >= self.per_client {
            return Err(crate::problem::Problem::too_many_requests(
                format!(
                    "this client has {} large writes (batches, imports, statement files) in flight, the most it may; send this one when one of them has finished",
                    self.per_client
                ),
                1,
            ));
        }
        *n += 1;
        Ok(WriteTicket {
            admission: self.clone(),
            client_pk,
        })
    }
}

impl Drop for WriteTicket {
    fn drop(&mut self) {
        let mut in_flight = self
            .admission
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = in_flight.get_mut(&self.client_pk) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&self.client_pk);
            }
        }
    }
}

/// A client's job creation refused for a limit is refused again for a
/// short while without reading the database or cutting the client's users:
/// a client that floods past its limit costs little more than its requests.
/// Deleting a job forgets the refusal (the limit may no longer hold).
pub struct RecentRefusals {
    entries: Mutex<HashMap<i64, (Instant, finseg_store::jobs::LimitReached)>>,
}

/// How long a refusal is repeated without looking again.
const REFUSAL_MEMORY: Duration = Duration::from_secs(1);

impl Default for RecentRefusals {
    fn default() -> Self {
        RecentRefusals {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl RecentRefusals {
    pub fn get(&self, client_pk: i64) -> Option<finseg_store::jobs::LimitReached> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&client_pk)
            .filter(|(at, _)| at.elapsed() < REFUSAL_MEMORY)
            .map(|(_, limit)| *limit)
    }

    pub fn remember(&self, client_pk: i64, limit: finseg_store::jobs::LimitReached) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, (at, _)| at.elapsed() < REFUSAL_MEMORY);
        }
        entries.insert(client_pk, (Instant::now(), limit));
    }

    pub fn forget(&self, client_pk: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&client_pk);
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
