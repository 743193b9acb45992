//! A global allocator that counts, per thread, the bytes currently allocated and their peak.

#![allow(unsafe_code)] // GlobalAlloc is an unsafe trait; this only forwards to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Forwards to the system allocator and counts per thread.
pub(crate) struct Counting;

fn add(delta: isize) {
    // `try_with`: during thread teardown the counters may be gone; the count then no longer matters.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to `System` with the same arguments; the counters are plain
// thread-local integers that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Bytes this thread has allocated and not freed.
pub(crate) fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

/// The highest `live_bytes` since the last reset.
pub(crate) fn peak_bytes() -> isize {
    PEAK.with(Cell::get)
}

/// Starts a new peak measurement from the current live bytes.
pub(crate) fn reset_peak() {
    PEAK.with(|p| p.set(live_bytes()));
}
