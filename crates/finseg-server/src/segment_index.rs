//! This node's segment indexes: one [`ClientIndex`] per client, kept in
//! memory and caught up with the database by polling its sequence number.
//!
//! Partitions of balance jobs are evaluated from the index when it can
//! answer for the job's snapshot (see [`ClientIndex::partition`]); else the
//! worker reads the database as before. Every node keeps its own indexes:
//! nothing is shared but the database, so any node can take any partition.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use finseg_core::Date;
use finseg_core::columnar::{ClientIndex, ColumnarUser, Miss};
use finseg_core::segments::params::Params;
use finseg_store::jobs::{Cutter, UserCut};
use finseg_store::{Store, StoreError};

use crate::AppState;

#[derive(Default)]
struct Slot {
    index: RwLock<ClientIndex>,
    /// One reader of changes at a time per client.
    refreshing: Mutex<()>,
}

#[derive(Default)]
pub struct SegmentIndexes {
    clients: Mutex<HashMap<i64, Arc<Slot>>>,
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
                })
            })
            .clone()
    }

    /// Catches the client's index up with the database (blocking).
    pub fn refresh(&self, store: &Store, client_pk: i64) -> Result<(), StoreError> {
        let slot = self.slot(client_pk);
        let one_reader = slot.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        Self::refresh_locked(&slot, store, client_pk, one_reader)
    }

    /// Catches up unless another thread is doing it (a first build takes
    /// minutes at a million users: a job should not wait for it). Returns
    /// whether it ran.
    fn try_refresh(&self, store: &Store, client_pk: i64) -> Result<bool, StoreError> {
        let slot = self.slot(client_pk);
        let Ok(one_reader) = slot.refreshing.try_lock() else {
            return Ok(false);
        };
        Self::refresh_locked(&slot, store, client_pk, one_reader)?;
        Ok(true)
    }

    fn refresh_locked(
        slot: &Slot,
        store: &Store,
        client_pk: i64,
        _one_reader: std::sync::MutexGuard<'_, ()>,
    ) -> Result<(), StoreError> {
        let since = slot.index.read().unwrap_or_else(|e| e.into_inner()).seq();
        // Read without holding the index: partitions go on meanwhile.
        let changes = {
            let mut c = store.conn()?;
            finseg_store::index::changes_since(&mut *c, client_pk, since)?
        };
        let started = std::time::Instant::now();
        let mut index = slot.index.write().unwrap_or_else(|e| e.into_inner());
        let done = finseg_store::index::apply(&mut index, changes);
        if done.reloaded + done.erased > 0 {
            tracing::debug!(
                client = client_pk,
                reloaded = done.reloaded,
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
    state.config.segment_index && finseg_core::columnar::serves(params)
}

/// Evaluates one user from the index (for the worker).
pub fn evaluate(
    user: &ColumnarUser,
    params: &Params,
    creation_date: Date,
) -> finseg_core::segments::Rendered {
    user.evaluate(params, creation_date)
        .expect("only segment types the index serves reach it")
}

/// Keeps every client's index caught up, so that a job finds it ready.
pub async fn refresh_loop(state: AppState) {
    let every = Duration::from_millis(state.config.index_refresh_ms.max(10));
    let mut seen = -1;
    loop {
        let s = state.clone();
        let refreshed = tokio::task::spawn_blocking(move || -> Result<i64, StoreError> {
            let mut c = s.store.conn()?;
            let seq = finseg_store::data::current_seq(&mut *c)?;
            if seq == seen {
                return Ok(seq);
            }
            let clients = finseg_store::clients::all_pks(&mut *c)?;
            drop(c);
            for client_pk in clients {
                s.indexes.refresh(&s.store, client_pk)?;
            }
            Ok(seq)
        })
        .await;
        match refreshed {
            Ok(Ok(seq)) => seen = seq,
            Ok(Err(e)) => tracing::warn!(error = %e, "segment index refresh failed"),
            Err(e) => tracing::warn!(error = %e, "segment index refresh panicked"),
        }
        tokio::time::sleep(every).await;
    }
}
