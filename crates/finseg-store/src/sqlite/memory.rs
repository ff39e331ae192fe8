//! Where SQLite's own allocations go.
//!
//! SQLite allocates through the C library's `malloc` unless told otherwise.
//! The import's writer binds every text value as a copy (rusqlite binds
//! with `SQLITE_TRANSIENT`) and grows a record buffer per row: glibc's
//! malloc and free were 4% of an import's CPU samples, on the thread that
//! bounds its throughput. A process whose allocator is faster hands it to
//! SQLite here, before any connection is opened.

use std::os::raw::{c_int, c_void};

use rusqlite::ffi;

/// An allocator with the C shape SQLite calls: `usable_size` answers how
/// many bytes a block from `malloc` or `realloc` can hold.
#[derive(Clone, Copy)]
pub struct Allocator {
    pub malloc: unsafe extern "C" fn(usize) -> *mut c_void,
    pub free: unsafe extern "C" fn(*mut c_void),
    pub realloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    pub usable_size: unsafe extern "C" fn(*const c_void) -> usize,
}

static ALLOCATOR: std::sync::OnceLock<Allocator> = std::sync::OnceLock::new();

fn allocator() -> &'static Allocator {
    ALLOCATOR.get().expect("set before SQLite calls it")
}

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    // SQLite never asks for a negative size; zero is answered with a block.
    unsafe { (allocator().malloc)(n.max(0) as usize) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    unsafe { (allocator().free)(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    unsafe { (allocator().realloc)(p, n.max(0) as usize) }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    let n = unsafe { (allocator().usable_size)(p) };
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    // Every block of the allocators in question is 8-byte aligned.
    n.saturating_add(7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Routes SQLite's allocations to `a`. Call once, before the process opens
/// any SQLite connection. Returns false when an allocator was given before
/// (the first one stays) or SQLite is initialised already (it keeps its own).
///
/// # Safety
///
/// The four functions must form one allocator for the rest of the process:
/// `malloc` returns null or a block of at least the size asked, aligned to
/// 8 bytes; `free` and `realloc` accept null and any block `malloc` or
/// `realloc` returned and did not free yet; `realloc` keeps the block's
/// bytes up to the smaller size; `usable_size` answers for such a block
/// how many bytes it holds. SQLite calls them from any thread.
pub unsafe fn use_allocator(a: Allocator) -> bool {
    if ALLOCATOR.set(a).is_err() {
        return false;
    }
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(x_malloc),
        xFree: Some(x_free),
        xRealloc: Some(x_realloc),
        xSize: Some(x_size),
        xRoundup: Some(x_roundup),
        xInit: Some(x_init),
        xShutdown: Some(x_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to the methods and copies
    // them; sqlite3_config refuses (SQLITE_MISUSE) once SQLite is initialised.
    let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const _) };
    rc == ffi::SQLITE_OK
}
