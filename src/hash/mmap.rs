//! mmap windows: map one window of a file, let the engine hash it, unmap it. Memory stays at
//! one window whatever the file size, and no copy is made.
//!
//! The hazard of mmap is a file that shrinks while mapped: touching a page past the new end
//! raises SIGBUS, which would kill the process. A process-wide SIGBUS handler recognises faults
//! inside the windows we have registered, maps a page of zeros over the faulting page so the
//! access completes, and marks the window as faulted; the window's hash is then discarded and
//! the file reported as changed. A SIGBUS anywhere else gets the default action (a real bug).
//!
//! The handler is process-wide state, so the library never installs it on its own: the program
//! calls [`install_sigbus_guard`] once (the `modelseal` binary does, at start). Until then the
//! engine reads files instead of mapping them.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

/// How many windows may be mapped at once (files hashed in parallel).
const SLOTS: usize = 64;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    faulted: AtomicBool,
    busy: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
    busy: AtomicBool::new(false),
};
static SLOTS_TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
static INSTALL: Once = Once::new();
static GUARDED: AtomicBool = AtomicBool::new(false);

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    for slot in &SLOTS_TABLE {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Acquire);
        if len != 0 && addr >= start && addr < start + len {
            let page = page_size();
            let at = addr & !(page - 1);
            // SAFETY: `at` is a page inside a window we mapped and still own (the slot is
            // registered for exactly as long as the mapping lives). Replacing that page with
            // anonymous zeros only changes what our own hashers read, and they discard it.
            // mmap is a plain system call and safe to use in a signal handler on Linux.
            let r = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if r != libc::MAP_FAILED {
                slot.faulted.store(true, Ordering::Release);
                return;
            }
        }
    }
    // Not ours: restore the default action and return; the fault repeats and kills us as a
    // SIGBUS would have.
    // SAFETY: resetting a disposition to SIG_DFL is async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// Install the process-wide SIGBUS handler that turns a file shrinking under a mapping into a
/// "file changed" error. Call it once, early, from the program (not from a library): it
/// replaces any SIGBUS disposition the process had. Without it, files are read, not mapped.
pub fn install_sigbus_guard() {
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid starting value; we set a handler with the
        // SA_SIGINFO signature and keep other signals unblocked.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0 {
                GUARDED.store(true, Ordering::Release);
            }
        }
    });
}

/// Whether the SIGBUS guard is installed (mapping files is then safe).
pub fn guarded() -> bool {
    GUARDED.load(Ordering::Acquire)
}

/// One mapped window, registered with the SIGBUS handler for its lifetime.
pub(crate) struct Window {
    ptr: *mut libc::c_void,
    len: usize,
    slot: &'static Slot,
}

impl Window {
    /// Map `len` bytes of `fd` at `offset`, every page faulted in at once (`MAP_POPULATE`), on
    /// this thread: a window is read by the one thread that maps it (BLAKE3 on every core gives
    /// each thread a subtree and windows of its own).
    pub(crate) fn map(fd: libc::c_int, offset: u64, len: usize) -> std::io::Result<Window> {
        let slot = loop {
            if let Some(s) = SLOTS_TABLE.iter().find(|s| {
                s.busy
                    .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            }) {
                break s;
            }
            std::thread::yield_now();
        };
        // SAFETY: mapping a read-only private view of an open descriptor at a page-aligned
        // offset; the kernel picks the address. Failure is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_POPULATE,
                fd,
                offset as libc::off_t,
            )
        };
        if ptr == libc::MAP_FAILED {
            slot.busy.store(false, Ordering::Release);
            return Err(std::io::Error::last_os_error());
        }
        slot.faulted.store(false, Ordering::Release);
        slot.start.store(ptr as usize, Ordering::Release);
        slot.len.store(len, Ordering::Release);
        Ok(Window { ptr, len, slot })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes and lives as long as `self`. Its content
        // can change under us (another process writing the file): we treat it as plain bytes,
        // never as anything with invariants, and the file identity is checked after hashing.
        // A page past a shrunken end is replaced with zeros by the SIGBUS handler and the
        // window is marked faulted.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }

    pub(crate) fn faulted(&self) -> bool {
        self.slot.faulted.load(Ordering::Acquire)
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        self.slot.len.store(0, Ordering::Release);
        self.slot.start.store(0, Ordering::Release);
        // SAFETY: unmapping exactly the region we mapped; no slice of it outlives `self`.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
        self.slot.busy.store(false, Ordering::Release);
    }
}
