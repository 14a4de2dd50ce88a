//! A memory map of evidence that cannot kill the run. When a mapped file shrinks while it is
//! read (a live export still being written, a file on a network share), touching a page past
//! its new end raises SIGBUS, which would end the process with no output. Mapped inputs are
//! registered here; a SIGBUS inside one of them puts zero-filled pages over the rest of that
//! map, marks it, and the read goes on: the reader sees NUL bytes (damaged rows, rejected as
//! such) and `ingest` reports the file as changed while read. A SIGBUS anywhere else goes to
//! the handler that was there before, as if this one did not exist.

#[cfg(unix)]
mod imp {
    use std::sync::Once;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Files mapped at once (one per file being parsed); a further file is read instead.
    const SLOTS: usize = 64;

    static START: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static LEN: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static FAULTED: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static INSTALL: Once = Once::new();
    static mut PREVIOUS: Option<libc::sigaction> = None;

    extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for a SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        let page = PAGE.load(Ordering::Relaxed);
        for slot in 0..SLOTS {
            let start = START[slot].load(Ordering::Acquire);
            let len = LEN[slot].load(Ordering::Acquire);
            if start == 0 || addr < start || addr >= start + len {
                continue;
            }
            let from = addr & !(page - 1);
            let end = (start + len).div_ceil(page) * page;
            // SAFETY: [from, end) lies inside this slot's live map (registered until unmapped),
            // so MAP_FIXED replaces only pages of that map. mmap is a plain system call.
            let zeros = unsafe {
                libc::mmap(
                    from as *mut libc::c_void,
                    end - from,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zeros != libc::MAP_FAILED {
                FAULTED[slot].store(true, Ordering::Release);
                return;
            }
        }
        // Not ours (or not mendable): the previous disposition handles the fault, which recurs.
        // SAFETY: PREVIOUS is written once, before this handler is installed.
        unsafe {
            let previous = std::ptr::addr_of!(PREVIOUS).read();
            match previous {
                Some(action) => libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()),
                None => {
                    libc::signal(libc::SIGBUS, libc::SIG_DFL);
                    0
                }
            };
        }
    }

    fn install() {
        INSTALL.call_once(|| {
            // SAFETY: sysconf and sigaction with a zeroed, then filled, sigaction struct; the
            // previous action is stored before the new handler can run.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut previous: libc::sigaction = std::mem::zeroed();
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) == 0 {
                    std::ptr::addr_of_mut!(PREVIOUS).write(Some(previous));
                }
                libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
            }
        });
    }

    /// A registered map; unregister it before it is unmapped.
    pub struct Guard(usize);

    pub fn register(start: *const u8, len: usize) -> Option<Guard> {
        install();
        (0..SLOTS).find_map(|slot| {
            // Claim a free slot by its length first, then publish the start the handler checks.
            LEN[slot]
                .compare_exchange(0, len, Ordering::AcqRel, Ordering::Relaxed)
                .ok()?;
            FAULTED[slot].store(false, Ordering::Release);
            START[slot].store(start as usize, Ordering::Release);
            Some(Guard(slot))
        })
    }

    impl Guard {
        pub fn faulted(&self) -> bool {
            FAULTED[self.0].load(Ordering::Acquire)
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            START[self.0].store(0, Ordering::Release);
            LEN[self.0].store(0, Ordering::Release);
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub struct Guard;
    pub fn register(_: *const u8, _: usize) -> Option<Guard> {
        None
    }
    impl Guard {
        pub fn faulted(&self) -> bool {
            false
        }
    }
}

pub use imp::{Guard, register};
