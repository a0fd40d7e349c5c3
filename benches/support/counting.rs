//! A counting global allocator that counts only on the thread that switched
//! counting on (a thread-local flag), for `benches/memory.rs` (`#[path]`-
//! included; not a bench target of its own) and `tests/alloc.rs`.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn note_alloc(new: usize, old: usize) {
    // `try_with`: the allocator may run while this thread's locals are torn
    // down. The locals are `const`-initialised `Cell`s without destructors, so
    // touching them never allocates.
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            ALLOCS.with(|c| c.set(c.get() + 1));
            BYTES.with(|c| c.set(c.get() + new as u64));
            LIVE.with(|live| {
                let now = live.get() + new as i64 - old as i64;
                live.set(now);
                PEAK.with(|p| p.set(p.get().max(now)));
            });
        }
    });
}

fn note_free(size: usize) {
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            LIVE.with(|live| live.set(live.get() - size as i64));
        }
    });
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size(), 0);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size(), 0);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc(new_size, layout.size());
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What the allocator saw on this thread while `f` ran.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// `alloc`, `alloc_zeroed` and `realloc` calls.
    pub allocs: u64,
    /// Bytes requested by them.
    pub bytes: u64,
    /// Highest amount of live memory allocated during `f` (bytes).
    pub peak: i64,
}

pub fn count<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    ALLOCS.with(|c| c.set(0));
    BYTES.with(|c| c.set(0));
    LIVE.with(|c| c.set(0));
    PEAK.with(|c| c.set(0));
    ACTIVE.with(|a| a.set(true));
    let r = f();
    ACTIVE.with(|a| a.set(false));
    let stats = Stats {
        allocs: ALLOCS.with(Cell::get),
        bytes: BYTES.with(Cell::get),
        peak: PEAK.with(Cell::get),
    };
    (r, stats)
}
