//! SIGTERM, SIGINT, SIGHUP and SIGQUIT while the guard verifies.
//!
//! As PID 1 (a container's entrypoint) a process is not killed by signals whose disposition
//! is the default: `docker stop`'s SIGTERM would be ignored and verification of a large model
//! would run to the end. So the guard blocks these signals before it starts any thread (every
//! thread inherits the mask, and blocked signals are queued even for PID 1) and a small
//! thread takes them with `sigwait` (the scheme of tini). Nothing runs in a signal handler.
//! Before the exec the mask is put back, so that after it the signals are the command's; the
//! dispositions are never changed.
//!
//! This is the only module of the guard with `unsafe` code: calls into libc's signal API.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;

/// The signals that end the guard while it verifies (exit 128 + N).
pub const SIGNALS: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT];

fn signal_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set behind the pointer (valid, writable storage
    // of the right type); sigaddset then adds valid signal numbers to the initialised set.
    // Neither can fail with these arguments.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        let mut set = set.assume_init();
        for s in SIGNALS {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// The signals blocked in the calling thread, and the mask to put back.
pub struct Interrupts {
    set: libc::sigset_t,
    old: libc::sigset_t,
}

impl Interrupts {
    /// Block [`SIGNALS`] in the calling thread; threads it starts afterwards inherit the mask.
    /// Call it before any other thread exists, or those threads may take the signals.
    pub fn block() -> io::Result<Interrupts> {
        let set = signal_set();
        let mut old = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: `set` is an initialised sigset_t and `old` valid storage for one, which
        // pthread_sigmask fills on success. Only this thread's mask changes.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, old.as_mut_ptr()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        // SAFETY: pthread_sigmask succeeded, so it wrote the previous mask to `old`.
        let old = unsafe { old.assume_init() };
        Ok(Interrupts { set, old })
    }

    /// Start a thread that waits for one of the signals and calls `on_signal` with its number
    /// (which is expected to end the process).
    pub fn watch(&self, on_signal: impl FnOnce(i32) + Send + 'static) -> io::Result<()> {
        let set = self.set;
        std::thread::Builder::new()
            .name("modelseal-signals".into())
            .spawn(move || {
                let mut sig: libc::c_int = 0;
                loop {
                    // SAFETY: `set` is an initialised sigset_t (blocked in this thread, as it
                    // was inherited) and `sig` a valid place for the result.
                    let rc = unsafe { libc::sigwait(&set, &mut sig) };
                    if rc == 0 {
                        on_signal(sig);
                        return;
                    }
                }
            })?;
        Ok(())
    }

    /// A signal that arrived and was not taken by the watching thread yet, taken now.
    pub fn pending(&self) -> Option<i32> {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `set` is an initialised sigset_t, a null siginfo pointer is allowed, and
        // `zero` a valid timeout (poll without waiting).
        let sig = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &zero) };
        (sig > 0).then_some(sig)
    }

    /// Put back the calling thread's mask as it was before [`Interrupts::block`] (call it on
    /// the thread that blocked, right before the exec: the new program inherits that mask).
    pub fn restore(&self) -> io::Result<()> {
        // SAFETY: `old` is the initialised mask pthread_sigmask returned; the old-mask output
        // pointer may be null.
        let rc =
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(())
    }
}
