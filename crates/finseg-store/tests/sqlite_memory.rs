//! SQLite's allocator is a process-wide setting made before the first
//! connection opens: this test needs a process of its own, so it is an
//! integration-test binary of its own rather than a unit test beside the
//! others (which open connections on parallel threads).

use std::alloc::{GlobalAlloc, Layout, System};
use std::os::raw::c_void;
use std::sync::atomic::{AtomicU64, Ordering};

use finseg_store::sqlite::memory::{Allocator, use_allocator};
use finseg_store::{DbUrl, Store};

/// A header before each block keeps its size, which `free` is not told.
const HEADER: usize = 16;
static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size + HEADER, HEADER).unwrap()
}

unsafe extern "C" fn counting_malloc(size: usize) -> *mut c_void {
    ALLOCATED.fetch_add(1, Ordering::Relaxed);
    unsafe {
        let p = System.alloc(layout(size));
        if p.is_null() {
            return p.cast();
        }
        p.cast::<usize>().write(size);
        p.add(HEADER).cast()
    }
}

unsafe extern "C" fn counting_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    FREED.fetch_add(1, Ordering::Relaxed);
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        System.dealloc(base, layout(base.cast::<usize>().read()));
    }
}

unsafe extern "C" fn counting_usable_size(p: *const c_void) -> usize {
    unsafe { p.cast::<u8>().sub(HEADER).cast::<usize>().read() }
}

unsafe extern "C" fn counting_realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() {
        return unsafe { counting_malloc(size) };
    }
    unsafe {
        let q = counting_malloc(size);
        if !q.is_null() {
            let keep = counting_usable_size(p).min(size);
            std::ptr::copy_nonoverlapping(p.cast::<u8>(), q.cast::<u8>(), keep);
            counting_free(p);
        }
        q
    }
}

#[test]
fn sqlite_allocates_through_the_allocator_it_was_given() {
    let counting = Allocator {
        malloc: counting_malloc,
        free: counting_free,
        realloc: counting_realloc,
        usable_size: counting_usable_size,
    };
    // SAFETY: the counting functions above form one allocator over the
    // system's, with 16-byte aligned blocks.
    assert!(unsafe { use_allocator(counting) });
    // Once only: a second allocator would be ignored by SQLite.
    assert!(!unsafe { use_allocator(counting) });
    let dir = std::env::temp_dir().join(format!("finseg-sqlite-memory-{}", std::process::id()));
    let store = Store::open(DbUrl::Sqlite(dir.join("finseg.db"))).unwrap();
    let before = ALLOCATED.load(Ordering::Relaxed);
    assert!(
        before > 0,
        "opening and migrating allocated nothing through it"
    );
    {
        let mut c = store.conn().unwrap();
        // Texts large enough to leave SQLite's per-connection lookaside.
        let text = "x".repeat(5000);
        c.batch("CREATE TABLE notes (body TEXT NOT NULL)").unwrap();
        for _ in 0..100 {
            c.exec(
                "INSERT INTO notes (body) VALUES ($1)",
                &[finseg_store::P::T(&text)],
            )
            .unwrap();
        }
        let rows = c
            .query("SELECT COUNT(*), SUM(LENGTH(body)) FROM notes", &[])
            .unwrap();
        assert_eq!(rows[0][0].int(), 100);
        assert_eq!(rows[0][1].int(), 500_000);
    }
    assert!(ALLOCATED.load(Ordering::Relaxed) > before + 100);
    assert!(FREED.load(Ordering::Relaxed) > 0);
    drop(store);
    std::fs::remove_dir_all(dir).unwrap();
}
