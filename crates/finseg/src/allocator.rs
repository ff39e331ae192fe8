//! The process's allocator: mimalloc, with shrinking reallocations moved
//! into a block of the new size.
//!
//! mimalloc (like most allocators) answers a `realloc` to a size that is
//! still at least half of the block with the same block, so
//! `Vec::into_boxed_slice` and `shrink_to_fit` free nothing. The segment
//! index is built of such slices (a column grown while reading, then
//! boxed), so without this the index keeps far more resident memory than
//! it holds data. Shrinks are rare outside building columns, so the copies
//! cost nothing measurable.

use std::alloc::{GlobalAlloc, Layout};
use std::os::raw::{c_int, c_long, c_void};

// mimalloc's C functions, linked in by the mimalloc crate.
unsafe extern "C" {
    fn mi_malloc(size: usize) -> *mut c_void;
    fn mi_free(p: *mut c_void);
    fn mi_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn mi_usable_size(p: *const c_void) -> usize;
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
    fn mi_option_set(option: c_int, value: c_long);
}

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t` (a test checks
/// it by its default).
const MI_OPTION_PURGE_DELAY: c_int = 15;

/// Freed memory stays with the process, to be taken again, rather than
/// going back to the system a second after it was freed (mimalloc's
/// default), unless `MIMALLOC_PURGE_DELAY` says otherwise.
///
/// An import's batches are allocated and freed many times a second, and
/// how many are in flight varies: memory freed at a low was given back,
/// then faulted in and zeroed again at the next high, 300,000 times for
/// the parsing thread alone in a large import, each a fault and a zeroed page; on a VM whose host backs
/// memory on first touch each of those costs more again. Keeping it
/// trades some resident memory at the peak for far fewer page faults. The
/// process's memory is the segment index and recycled buffers: what it
/// frees, it takes again.
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an option by its number; mimalloc reads options
        // atomically, so this may run while other threads allocate.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// Hands SQLite's own allocations to mimalloc too (see
/// [`finseg_store::sqlite::memory`]); call before any connection opens.
pub fn route_sqlite_to_mimalloc() {
    use finseg_store::sqlite::memory::{Allocator, use_allocator};
    // SAFETY: mimalloc's C functions are one allocator, thread-safe, with
    // blocks aligned to at least 8 bytes.
    let routed = unsafe {
        use_allocator(Allocator {
            malloc: mi_malloc,
            free: mi_free,
            realloc: mi_realloc,
            usable_size: mi_usable_size,
        })
    };
    debug_assert!(routed, "SQLite was initialised before main");
}

pub struct CompactingMiMalloc;

unsafe impl GlobalAlloc for CompactingMiMalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            return unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        }
        // SAFETY: the caller guarantees that `new_size`, rounded up to
        // `layout.align()`, does not overflow (GlobalAlloc::realloc).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let moved = unsafe { mimalloc::MiMalloc.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least `new_size` bytes and are distinct.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, moved, new_size);
                mimalloc::MiMalloc.dealloc(ptr, layout);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option's number names the purge delay: its default (1,000 ms
    /// in mimalloc 3, set in `src/options.c`) is no other option's.
    #[test]
    fn freed_memory_is_kept_by_the_purge_delay_option() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, 1000);
        keep_freed_memory();
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, -1);
    }

    #[test]
    fn a_shrink_moves_into_a_block_of_the_new_size_and_keeps_the_bytes() {
        let a = CompactingMiMalloc;
        let layout = Layout::from_size_align(4096, 8).unwrap();
        unsafe {
            let p = a.alloc(layout);
            for i in 0..4096 {
                *p.add(i) = i as u8;
            }
            // 3,000 of 4,096 bytes: mimalloc alone keeps the block.
            let q = a.realloc(p, layout, 3000);
            assert_ne!(p, q);
            assert!((0..3000).all(|i| *q.add(i) == i as u8));
            // Growth is mimalloc's own (in place where it can).
            let small = Layout::from_size_align(3000, 8).unwrap();
            let r = a.realloc(q, small, 3500);
            assert!((0..3000).all(|i| *r.add(i) == i as u8));
            a.dealloc(r, Layout::from_size_align(3500, 8).unwrap());
        }
    }
}
