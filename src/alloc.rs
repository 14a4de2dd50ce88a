//! Freed memory handed back to the system at the end of a phase that freed a lot of it. mimalloc
//! (the `fast-alloc` allocator) otherwise keeps freed pages a while for reuse, and they count
//! in the run's resident memory when the next phase allocates its own.

/// Return the allocator's free pages to the system now: this thread's and every worker's
/// (mimalloc heaps are per thread, and `mi_collect` collects the calling thread's).
pub fn release_freed() {
    #[cfg(feature = "fast-alloc")]
    {
        // SAFETY: `mi_collect` only walks mimalloc's own heaps; it is safe to call at any time.
        let collect = || unsafe { libmimalloc_sys::mi_collect(true) };
        rayon::broadcast(|_| collect());
        collect();
    }
}

/// Keep freed pages a second for reuse inside a phase, instead of mimalloc's default 10 ms.
/// With 10 ms, the pages a parsing or scoping step frees go back to the system between one
/// batch and the next and come back as new pages the kernel must zero: at 1M records, half the
/// CPU time of `scope` from a case was the kernel zeroing pages. `release_freed` still hands
/// freed pages back at each phase's end (it forces the purge), so the peak is unchanged.
/// An explicit `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn keep_freed_pages_for_reuse() {
    #[cfg(feature = "fast-alloc")]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // `mi_option_purge_delay` in mimalloc.h (v2 and v3); libmimalloc-sys names no constant.
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        // SAFETY: setting an option is allowed at any time; it only changes purge timing.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 1000) };
    }
}
