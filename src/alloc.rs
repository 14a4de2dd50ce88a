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
