//! The embedded SQLite database's fast path: the one module of the store
//! that calls C (`unsafe`; the crate denies it everywhere else).
//!
//! Safety argument, for every `unsafe` block below this module:
//! - `conn`: statements prepared by `sqlite3_prepare_v3` on the
//!   connection's own handle are finalized exactly once, before the
//!   connection closes (they are dropped first), and are used only through
//!   the connection they belong to; text bound without a copy
//!   (`SQLITE_STATIC`) is read only by the `sqlite3_step` of the same call,
//!   which runs after every parameter was bound again (the count is
//!   checked), so a binding left pointing into rows already released is
//!   never read; error messages are copied from the handle they belong to
//!   right after the call that failed.
//! - `memory`: SQLite's allocator is configured once, before any
//!   connection opens (`sqlite3_config` refuses afterwards), with functions
//!   whose caller promised they form an allocator (`use_allocator` is an
//!   `unsafe fn` for that reason).
//! - `drop_cached_pages`: advice on an open file's descriptor; the kernel
//!   may ignore it and it changes no data.
#![allow(unsafe_code)]

mod conn;
pub mod memory;

pub use conn::SqliteConn;

/// Tells the kernel that the pages of `file` from byte `from` on will not
/// be read again (the WAL's appended pages after a checkpoint), so that
/// they leave the page cache before other data does. A hint only.
pub(crate) fn drop_cached_pages(file: &std::fs::File, from: i64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: an open file's descriptor; advice only, whatever it returns.
        unsafe { libc::posix_fadvise(file.as_raw_fd(), from, 0, libc::POSIX_FADV_DONTNEED) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, from);
}
