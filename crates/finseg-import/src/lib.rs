//! The bulk import, with one home: a stream of NDJSON lines (the bulk
//! format, one record per line) cut into numbered lines, batched, parsed
//! and labelled, written one database transaction a batch, and staged for
//! a segment index, with a summary of what was written and what was
//! rejected line by line.
//!
//! The HTTP handler (`POST /api/v1/import`) turns headers into a decoded
//! stream and calls [`import_stream`]; the CLI (`finseg import`, `finseg
//! demo`) calls it with a file or a generated population. The store only
//! writes the typed records it is given (`finseg_store::import::BulkImport`).
#![forbid(unsafe_code)]

pub mod lines;
mod pipeline;

pub use lines::{IMPORT_BATCH, IMPORT_BATCH_BYTES, MAX_LINE};
pub use pipeline::{Hooks, ImportError, ImportRun, StagedUsers, import_stream};
