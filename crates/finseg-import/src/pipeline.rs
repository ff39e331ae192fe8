//! The pipeline: cut, parse and label, write, stage — each stage on its own
//! thread, connected by bounded channels.

use std::sync::Arc;

use bytes::Bytes;
use finseg_core::Date;
use finseg_core::bulk::{LineBatch, ParsedBatch};
use finseg_store::import::{BatchOutcome, BulkImport, ImportSummary, Rejection, Stager};
use finseg_store::{Store, StoreError};
use futures_util::{Stream, StreamExt as _};

use crate::lines::{Cut, LineCutter, batch_is_full, new_batch};

/// An import's name and the number of its request's first line: a client
/// that names its import can ask how far it got and send the rest,
/// numbered on from there.
#[derive(Debug, Clone)]
pub struct ImportRun {
    pub id: Option<String>,
    pub first_line: u64,
}

impl Default for ImportRun {
    fn default() -> Self {
        ImportRun {
            id: None,
            first_line: 1,
        }
    }
}

/// Users a written batch left complete, by key, as a segment index keeps them.
pub type StagedUsers = Vec<(i64, finseg_core::segment_index::IndexedUser)>;

/// What the caller lends an import beyond the database.
#[derive(Default)]
pub struct Hooks {
    /// Turns to write: each batch is written holding one of its permits, so
    /// imports and other large writes take turns (one at a time on SQLite)
    /// instead of waiting in the database's lock.
    pub write_turns: Option<Arc<tokio::sync::Semaphore>>,
    /// Receives the users each written batch left complete, for a segment
    /// index that then need not read them back.
    pub stage: Option<Box<dyn FnMut(StagedUsers) + Send>>,
    /// Told the last committed line after each written batch (a CLI shows
    /// progress with it).
    pub progress: Option<Box<dyn FnMut(u64) + Send>>,
}

/// Why an import stopped before its end. What was committed stays:
/// every record is an idempotent upsert, so a resend from
/// `committed_through + 1` is safe.
#[derive(Debug)]
pub enum ImportError {
    /// The database failed.
    Store {
        error: StoreError,
        committed_through: u64,
    },
    /// The body broke off.
    Read {
        error: String,
        committed_through: u64,
    },
    /// A stage of the pipeline died.
    Internal(String),
}

// Over 120 lines on purpose: the stages are wired here and share their
// channels; each stage's work is a function or type of its own.
/// Imports an NDJSON stream of the client `client_pk`: its lines go to the
/// parser in batches of [`crate::IMPORT_BATCH`] (fewer when they are long:
/// [`batch_is_full`]), each batch is written in one transaction. Lines
/// that are too long or not UTF-8 are reported as rejected without being
/// parsed. The HTTP handler and the CLI both call this.
pub async fn import_stream(
    store: Arc<Store>,
    client_pk: i64,
    today: Date,
    run: ImportRun,
    hooks: Hooks,
    mut body: impl Stream<Item = Result<Bytes, String>> + Unpin,
) -> Result<ImportSummary, ImportError> {
    // Three stages on their own threads: cut lines (here), parse, write;
    // a fourth stages what was written for a segment index. The parsing
    // thread also labels, with the client's rules.
    let before = run.first_line.saturating_sub(1);
    let labeller = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = store.conn()?;
            finseg_store::rules::labeller(&mut *c, client_pk)
        })
        .await
        .map_err(|e| ImportError::Internal(format!("loading the client's rules: {e}")))?
        .map_err(|error| ImportError::Store {
            error,
            committed_through: before,
        })?
    };
    let (tx, mut line_rx) = tokio::sync::mpsc::channel::<LineBatch>(2);
    let (parsed_tx, parsed_rx) = tokio::sync::mpsc::channel::<ParsedBatch>(2);
    // Bounded, as the other channels: a slow stager holds the writer back
    // rather than batches piling up.
    let (written_tx, written_rx) = std::sync::mpsc::sync_channel::<(ParsedBatch, BatchOutcome)>(2);
    // A fourth thread stages the written batches for a segment index: on
    // the parsing thread, staging made that thread the pipeline's
    // bottleneck. Only an import whose caller keeps an index stages.
    let Hooks {
        write_turns,
        stage: mut sink,
        progress,
    } = hooks;
    let mut stager = sink.is_some().then(|| Stager::new(today));
    // Staged batches go back to the parsing thread, to be freed where they
    // were allocated.
    let (staged_tx, staged_rx) = std::sync::mpsc::channel::<ParsedBatch>();
    let staging = tokio::task::spawn_blocking(move || {
        for (batch, outcome) in written_rx.iter() {
            if let (Some(stager), Some(sink)) = (&mut stager, &mut sink) {
                sink(stager.stage(&batch, &outcome));
            }
            let _ = staged_tx.send(batch);
        }
    });
    tokio::task::spawn_blocking(move || {
        let mut scratch = finseg_core::labelling::Scratch::default();
        while let Some(batch) = line_rx.blocking_recv() {
            staged_rx.try_iter().for_each(drop);
            let parsed = ParsedBatch::parse_labelled(batch, &labeller, &mut scratch);
            if parsed_tx.blocking_send(parsed).is_err() {
                break;
            }
        }
    });
    let writer_store = store.clone();
    let writer_run = run.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let target = WriteTarget {
            store: &writer_store,
            client_pk,
            today,
            run: &writer_run,
        };
        write_batches(
            target,
            write_turns.as_deref(),
            parsed_rx,
            written_tx,
            progress,
        )
    });
    let mut early_rejections: Vec<Rejection> = Vec::new();
    let mut early_count = 0u64;
    let mut reject = |line: u64, reason: &str| {
        early_count += 1;
        if early_rejections.len() < finseg_store::import::MAX_REPORTED {
            early_rejections.push(Rejection {
                line,
                pointer: String::new(),
                field: String::new(),
                reason: reason.to_owned(),
            });
        }
    };
    let mut cutter = LineCutter::numbered_from(run.first_line);
    let mut batch = new_batch();
    let mut ready: Vec<LineBatch> = Vec::new();
    // The last line of the last batch handed to the parser.
    let mut sent_through = before;
    let mut read_error = None;
    let mut worker_gone = false;
    let mut collect = |cut: Cut<'_>, batch: &mut LineBatch, ready: &mut Vec<LineBatch>| match cut {
        Cut::Line(n, text) => {
            batch.push(n, text);
            if batch_is_full(batch) {
                ready.push(std::mem::replace(batch, new_batch()));
            }
        }
        Cut::Rejected(n, reason) => reject(n, reason),
    };

    'read: while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        cutter.feed(&chunk, &mut |cut| collect(cut, &mut batch, &mut ready));
        for full in ready.drain(..) {
            let last = full.last_line();
            if tx.send(full).await.is_err() {
                worker_gone = true;
                break 'read;
            }
            sent_through = last;
        }
    }
    if !worker_gone && read_error.is_none() {
        cutter.finish(&mut |cut| collect(cut, &mut batch, &mut ready));
        ready.push(batch);
        for full in ready.drain(..).filter(|b| !b.is_empty()) {
            let _ = tx.send(full).await;
        }
    }
    drop(tx);
    let result = worker
        .await
        .map_err(|e| ImportError::Internal(format!("import worker failed: {e}")))?;
    // The last batch is staged before the import answers (a few
    // milliseconds): the index's next refresh then reads none of it.
    let _ = staging.await;
    if let Some(id) = run.id.clone() {
        let status = match (&read_error, &result) {
            (None, Ok(_)) => "COMPLETED",
            (Some(_), _) => "INTERRUPTED",
            (None, Err(_)) => "FAILED",
        };
        // Best effort: the progress itself is committed with each batch.
        let store = store.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let mut c = store.conn()?;
            finseg_store::import::progress::set_status(&mut *c, client_pk, &id, status)
        })
        .await;
    }
    if let Some(error) = read_error {
        let committed_through = match &result {
            // Lines cut after the last batch sent were not written.
            Ok(_) => sent_through,
            Err((_, t)) => *t,
        };
        return Err(ImportError::Read {
            error,
            committed_through,
        });
    }
    match result {
        Ok(mut summary) => {
            summary.rejected_count += early_count;
            summary.lines += early_count;
            summary.rejected.extend(early_rejections);
            summary.rejected.sort_by_key(|r| r.line);
            summary
                .rejected
                .truncate(finseg_store::import::MAX_REPORTED);
            Ok(summary)
        }
        Err((error, committed_through)) => Err(ImportError::Store {
            error,
            committed_through,
        }),
    }
}

/// Where the writing stage writes: the client, its day, the named run.
struct WriteTarget<'a> {
    store: &'a Store,
    client_pk: i64,
    today: Date,
    run: &'a ImportRun,
}

/// The writing stage, on a blocking thread, fed with batches over `rx`.
fn write_batches(
    target: WriteTarget<'_>,
    turns: Option<&tokio::sync::Semaphore>,
    mut rx: tokio::sync::mpsc::Receiver<ParsedBatch>,
    written: std::sync::mpsc::SyncSender<(ParsedBatch, BatchOutcome)>,
    mut progress: Option<Box<dyn FnMut(u64) + Send>>,
) -> Result<ImportSummary, (StoreError, u64)> {
    let WriteTarget {
        store,
        client_pk,
        today,
        run,
    } = target;
    // A turn is waited for on this blocking thread (never an async one).
    let turn = || turns.and_then(|t| tokio::runtime::Handle::current().block_on(t.acquire()).ok());
    let before = run.first_line.saturating_sub(1);
    let mut imp = BulkImport::begin(store, client_pk, today).map_err(|e| (e, before))?;
    if let Some(id) = &run.id {
        imp = imp.named(id, run.first_line).map_err(|e| (e, before))?;
    }
    while let Some(batch) = rx.blocking_recv() {
        let through = imp.committed_through();
        let permit = turn();
        let outcome = imp.write_parsed(&batch).map_err(|e| (e, through))?;
        drop(permit);
        if let Some(p) = &mut progress {
            p(imp.committed_through());
        }
        // Staged on the staging thread and freed on the parsing thread,
        // not here: the writer is the pipeline's bottleneck.
        let _ = written.send((batch, outcome));
    }
    let through = imp.committed_through();
    let _permit = turn();
    imp.finish().map_err(|e| (e, through))
}
