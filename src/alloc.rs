//! Freed memory handed back to the system at the end of a phase that freed a lot of it. mimalloc
//! (the `fast-alloc` allocator) otherwise keeps freed pages a while for reuse, and they count
//! in the run's resident memory when the next phase allocates its own.

/// No transparent huge pages for this process, before anything large is allocated. mimalloc
/// asks for them (`MADV_HUGEPAGE`), and each first touch then zeroes 2 MiB; each purge of
/// freed memory splits one, and the next touch zeroes it again. With them, the kernel's page
/// zeroing was about half of the CPU time of `scope` from a case (`perf`, 200k records: system
/// time 0.6–1.0 s; without, 0.2 s, and 15 % less resident memory).
pub fn no_huge_pages() {
    #[cfg(all(feature = "fast-alloc", target_os = "linux"))]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process's memory map; the call
    // reads no memory of ours. If it fails, huge pages stay allowed, which is only slower.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

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
