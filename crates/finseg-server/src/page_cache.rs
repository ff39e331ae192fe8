//! Pages of finished results this node has sent, kept so that the next
//! request for the same page reads one job row instead of its members.
//!
//! A finished result changes in one way only: erasure removes a user's
//! entry and lowers the job's `users_matched`. A cached page therefore
//! carries the `users_matched` it was built with, and it is served only
//! while the job row (read for every request, on any node, scoped by the
//! tenant) still shows that count. Deletion and expiry remove the job row,
//! so a cached page of a deleted job is never served either.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;

/// Bytes of pages kept at most; the cache starts over when full.
const CAPACITY_BYTES: usize = 64 << 20;
/// Pages larger than this are not kept.
const MAX_PAGE_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The tenant and its job id (the lookup every request makes).
    pub client_pk: i64,
    pub job_id: String,
    pub offset: i64,
    pub limit: i64,
    /// The response format (JSON, NDJSON, CSV).
    pub format: u8,
}

#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    pages: HashMap<PageKey, (i64, Bytes)>,
    bytes: usize,
}

impl PageCache {
    /// The page, if it was built while the job had `users_matched` members.
    pub fn get(&self, key: &PageKey, users_matched: i64) -> Option<Bytes> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .pages
            .get(key)
            .filter(|(matched, _)| *matched == users_matched)
            .map(|(_, body)| body.clone())
    }

    pub fn put(&self, key: PageKey, users_matched: i64, body: Bytes) {
        if body.len() > MAX_PAGE_BYTES {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.bytes + body.len() > CAPACITY_BYTES {
            inner.pages.clear();
            inner.bytes = 0;
        }
        inner.bytes += body.len();
        if let Some((_, old)) = inner.pages.insert(key, (users_matched, body)) {
            inner.bytes -= old.len();
        }
    }

    /// Whether a page of the job is kept (any count), to skip reading members.
    pub fn has(&self, key: &PageKey) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.pages.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_only_for_its_member_count() {
        let cache = PageCache::default();
        let key = PageKey {
            client_pk: 1,
            job_id: "j".into(),
            offset: 0,
            limit: 100,
            format: 0,
        };
        assert!(cache.get(&key, 3).is_none());
        cache.put(key.clone(), 3, Bytes::from_static(b"page"));
        assert!(cache.has(&key));
        assert_eq!(cache.get(&key, 3).unwrap(), Bytes::from_static(b"page"));
        // A member was erased: the count fell, the page is stale.
        assert!(cache.get(&key, 2).is_none());
        cache.put(key.clone(), 2, Bytes::from_static(b"pag"));
        assert_eq!(cache.get(&key, 2).unwrap(), Bytes::from_static(b"pag"));
    }
}
