//! What every fuzz target shares: an allocator that aborts on any single allocation over
//! [`MAX_ALLOCATION`] while a target body runs. The bodies use limits of at most 16 KiB
//! (`tradewire::fuzzing`), so no input may make a parser allocate anywhere near 1 MiB at
//! once, whatever length a header claims; libFuzzer's `-malloc_limit_mb` does the same only
//! under a sanitizer, and these targets are built without one (`-s none`, safe Rust).
//! libFuzzer's `-rss_limit_mb` bounds the total.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// The largest single allocation a target body may make.
pub const MAX_ALLOCATION: usize = 1 << 20;

static ARMED: AtomicBool = AtomicBool::new(false);

struct Capped;

unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

fn check(size: usize) {
    if size > MAX_ALLOCATION && ARMED.load(Ordering::Relaxed) {
        // No message: printing could allocate. libFuzzer reports the abort and keeps the input.
        std::process::abort();
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;

/// Runs a target body with the allocation cap on.
pub fn run(body: fn(&[u8]), data: &[u8]) {
    ARMED.store(true, Ordering::Relaxed);
    body(data);
    ARMED.store(false, Ordering::Relaxed);
}
