//! This node's segment indexes: one [`ClientIndex`] per client, kept in
//! memory and caught up with the database by polling its sequence number.
//!
//! Partitions of balance jobs are evaluated from the index when it can
//! answer for the job's snapshot (see [`ClientIndex::partition`]); else the
//! worker reads the database as before. Every node keeps its own indexes:
//! nothing is shared but the database, so any node can take any partition.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use finseg_core::Date;
use finseg_core::segment_index::{ClientIndex, ColumnarUser, IndexedUser, Miss};
use finseg_core::segment_types::Params;
use finseg_store::import::Staged;
use finseg_store::jobs::{Cutter, UserCut};
use finseg_store::{Store, StoreError};

use crate::AppState;

#[derive(Default)]
struct Slot {
    index: RwLock<ClientIndex>,
    /// One reader of changes at a time per client.
    refreshing: Mutex<()>,
    /// Users bulk imports on this node wrote, for the next refresh to take
    /// instead of reading them back (`finseg_store::import::Stager`).
    staged: Mutex<Staged>,
}

/// Bytes of packed users staging may hold per client (a few seconds of an
/// import): beyond it users are read back, as without staging.
const STAGED_BYTES_LIMIT: usize = 64 << 20;

fn indexed_bytes(u: &IndexedUser) -> usize {
    u.user.as_ref().map_or(0, ColumnarUser::size_bytes)
}

#[derive(Default)]
pub struct SegmentIndexes {
    clients: Mutex<HashMap<i64, Arc<Slot>>>,
    /// Users refreshes took from bulk imports' staging / read from the database.
    users_staged: AtomicU64,
    users_read: AtomicU64,
}

/// The size of this node's indexes (for metrics).
#[derive(Debug, Default, Clone, Copy)]
pub struct IndexStats {
    pub clients: usize,
    pub users: usize,
    pub bytes: usize,
    /// The oldest write every client's index reflects (`None` before the
    /// first client's index exists).
    pub seq: Option<i64>,
    /// Users refreshes took from bulk imports' staging / read from the database.
    pub users_staged: u64,
    pub users_read: u64,
}

impl SegmentIndexes {
    fn slot(&self, client_pk: i64) -> Arc<Slot> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(client_pk)
            .or_insert_with(|| {
                Arc::new(Slot {
                    index: RwLock::new(ClientIndex::new(-1)),
                    refreshing: Mutex::new(()),
                    staged: Mutex::default(),
                })
            })
            .clone()
    }

    /// Hands the index users a bulk import wrote, as of their `data_seq`.
    /// Nothing is staged before the index's first build (which reads
    /// everything anyway) or beyond [`STAGED_BYTES_LIMIT`].
    pub fn stage(&self, client_pk: i64, users: Vec<(i64, IndexedUser)>) {
        if users.is_empty() {
            return;
        }
        let slot = self.slot(client_pk);
        if slot.index.read().unwrap_or_else(|e| e.into_inner()).seq() < 0 {
            return;
        }
        let mut staged = slot.staged.lock().unwrap_or_else(|e| e.into_inner());
        let mut held: usize = staged.values().map(indexed_bytes).sum();
        for (pk, user) in users {
            held += indexed_bytes(&user);
            if held > STAGED_BYTES_LIMIT {
                break;
            }
            staged.insert(pk, user);
        }
    }

    /// Catches the client's index up with the database (blocking).
    pub fn refresh(&self, store: &Store, client_pk: i64) -> Result<(), StoreError> {
        let slot = self.slot(client_pk);
        let one_reader = slot.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh_locked(&slot, store, client_pk, one_reader)
    }

    /// [`Self::refresh`], with a panic caught: the client's index, which
    /// the panic may have left half-updated, is dropped and built anew at
    /// its next refresh.
    pub fn refresh_isolated(&self, store: &Store, client_pk: i64) -> Result<(), String> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.refresh(store, client_pk)
        })) {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(payload) => {
                self.clients
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&client_pk);
                Err(format!("panicked: {}", panic_message(&*payload)))
            }
        }
    }

    /// Catches up unless another thread is doing it (a first build takes
    /// minutes at a million users: a job should not wait for it). Returns
    /// whether it ran.
    fn try_refresh(&self, store: &Store, client_pk: i64) -> Result<bool, StoreError> {
        let slot = self.slot(client_pk);
        let Ok(one_reader) = slot.refreshing.try_lock() else {
            return Ok(false);
        };
        self.refresh_locked(&slot, store, client_pk, one_reader)?;
        Ok(true)
    }

    fn refresh_locked(
        &self,
        slot: &Slot,
        store: &Store,
        client_pk: i64,
        _one_reader: std::sync::MutexGuard<'_, ()>,
    ) -> Result<(), StoreError> {
        let since = slot.index.read().unwrap_or_else(|e| e.into_inner()).seq();
        // Read without holding the index: partitions go on meanwhile.
        let mut staged =
            std::mem::take(&mut *slot.staged.lock().unwrap_or_else(|e| e.into_inner()));
        let changes = {
            let mut c = store.conn()?;
            finseg_store::segment_index::changes_since_staged(
                &mut *c,
                client_pk,
                since,
                &mut staged,
            )
        };
        // What was staged meanwhile is newer than what this read left.
        if !staged.is_empty() {
            let mut slot_staged = slot.staged.lock().unwrap_or_else(|e| e.into_inner());
            for (pk, user) in staged {
                slot_staged.entry(pk).or_insert(user);
            }
        }
        let changes = changes?;
        let started = std::time::Instant::now();
        let mut index = slot.index.write().unwrap_or_else(|e| e.into_inner());
        let done = finseg_store::segment_index::apply(&mut index, changes);
        self.users_staged
            .fetch_add(done.staged as u64, Ordering::Relaxed);
        self.users_read
            .fetch_add((done.reloaded - done.staged) as u64, Ordering::Relaxed);
        if done.reloaded + done.erased > 0 {
            tracing::debug!(
                client = client_pk,
                reloaded = done.reloaded,
                staged = done.staged,
                erased = done.erased,
                users = index.len(),
                bytes = index.size_bytes(),
                apply_ms = started.elapsed().as_millis() as u64,
                "segment index refreshed"
            );
        }
        Ok(())
    }

    /// Runs `f` over the partition's users as of `snapshot`, or returns
    /// `None` when the database has to answer (blocking).
    pub fn with_partition<R>(
        &self,
        store: &Store,
        client_pk: i64,
        range: RangeInclusive<i64>,
        snapshot: i64,
        f: impl FnOnce(Vec<(i64, &ColumnarUser)>) -> R,
    ) -> Result<Option<R>, StoreError> {
        let slot = self.slot(client_pk);
        for _ in 0..3 {
            let built = {
                let index = slot.index.read().unwrap_or_else(|e| e.into_inner());
                match index.partition(range.clone(), snapshot) {
                    Ok(users) => return Ok(Some(f(users))),
                    Err(Miss::Changed) => return Ok(None),
                    Err(Miss::Behind) => index.seq() >= 0,
                }
            };
            // The snapshot was committed before the job was created, so one
            // refresh reaches it: a catch-up is short, so wait for it. A
            // first build takes minutes at a million users: while another
            // thread builds, the database answers instead.
            if built {
                self.refresh(store, client_pk)?;
            } else if !self.try_refresh(store, client_pk)? {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// The client's users cut into ranges of `size` users as of the
    /// newest write, or `None` while the index is first built (blocking).
    /// It saves a job's creation a pass over the keys in the database: at a
    /// million users on a cold page cache that pass took most of a second.
    pub fn cut(
        &self,
        store: &Store,
        client_pk: i64,
        size: usize,
    ) -> Result<Option<UserCut>, StoreError> {
        let slot = self.slot(client_pk);
        // A catch-up after the latest writes is short (and reads nothing
        // when there are none); a first build is not.
        if slot.index.read().unwrap_or_else(|e| e.into_inner()).seq() < 0 {
            return Ok(None);
        }
        self.refresh(store, client_pk)?;
        let index = slot.index.read().unwrap_or_else(|e| e.into_inner());
        let mut cutter = Cutter::new(size);
        index.keys().for_each(|pk| cutter.push(pk));
        Ok(Some(cutter.finish(index.seq())))
    }

    /// A copy of the client's indexed users (for tests and diagnostics).
    pub fn users(&self, client_pk: i64) -> (i64, Vec<(i64, IndexedUser)>) {
        let slot = self.slot(client_pk);
        let index = slot.index.read().unwrap_or_else(|e| e.into_inner());
        let users = index.users().map(|(pk, u)| (pk, u.clone())).collect();
        (index.seq(), users)
    }

    pub fn stats(&self) -> IndexStats {
        let slots: Vec<Arc<Slot>> = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut s = IndexStats {
            clients: slots.len(),
            users_staged: self.users_staged.load(Ordering::Relaxed),
            users_read: self.users_read.load(Ordering::Relaxed),
            ..IndexStats::default()
        };
        for slot in slots {
            let index = slot.index.read().unwrap_or_else(|e| e.into_inner());
            s.users += index.len();
            s.bytes += index.size_bytes();
            s.seq = Some(s.seq.map_or(index.seq(), |seq| seq.min(index.seq())));
        }
        s
    }
}

/// Whether this job's partitions are evaluated from the index.
pub fn serves(state: &AppState, params: &Params) -> bool {
    state.config.segment_index && params.served_by_index()
}

/// Evaluates one user from the index (for the worker).
pub fn evaluate(
    user: &ColumnarUser,
    params: &Params,
    creation_date: Date,
) -> finseg_core::segments::Rendered {
    params
        .render_indexed(creation_date, user)
        .expect("only parameters the index serves reach it")
}

/// Keeps every client's index caught up, so that a job finds it ready.
/// One client's failure (an error or a panic) is logged and counted and
/// costs only that client: the others are refreshed all the same, and the
/// failed one is tried again at the next round, its index rebuilt.
pub async fn refresh_loop(state: AppState) {
    let every = Duration::from_millis(state.config.index_refresh_ms.max(10));
    let mut seen = (-1, 0);
    loop {
        let s = state.clone();
        let refreshed = tokio::task::spawn_blocking(move || -> Result<(i64, usize), StoreError> {
            let mut c = s.store.conn()?;
            let seq = finseg_store::data::current_seq(&mut *c)?;
            let clients = finseg_store::clients::all_pks(&mut *c)?;
            drop(c);
            // A new client gets its (empty) index before its first import,
            // which can then stage what it writes.
            if (seq, clients.len()) == seen {
                return Ok(seen);
            }
            let n = clients.len();
            let mut failed = false;
            for client_pk in clients {
                if let Err(error) = s.indexes.refresh_isolated(&s.store, client_pk) {
                    failed = true;
                    s.metrics
                        .index_refresh_failures
                        .inc();
                    tracing::error!(client = client_pk, %error, "segment index refresh of a client failed");
                }
            }
            Ok(if failed { seen } else { (seq, n) })
        })
        .await;
        match refreshed {
            Ok(Ok(now)) => seen = now,
            Ok(Err(e)) => tracing::warn!(error = %e, "segment index refresh failed"),
            Err(e) => tracing::warn!(error = %e, "segment index refresh panicked"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The text of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
