//! Heap settings for one-shot bulk commands (`xiangzhi import …`, `ledger import`).
//!
//! glibc grows a thread's arena a few pages at a time and gives memory back as soon as the
//! top of the heap is free. SQLite's page cache and sorter run on a runtime worker thread,
//! so a 680,000-person import made 315,000 `mprotect` calls, and the kernel zeroed the same
//! pages again after every give-back. A command that ends in seconds keeps what it took
//! instead; a long-running server keeps glibc's defaults.

/// Grow the heap in 64 MB steps and never trim or map large blocks separately.
pub fn hold_for_bulk_work() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called from `main` before the
    // runtime starts any thread, and a refused setting leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        // glibc's ceiling for this one (32 MB on 64-bit); larger values are refused
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}
