//! The main crate's only `unsafe` code: two libc calls, each with its SAFETY note. Everything else in gohsp is safe
//! Rust (`#![deny(unsafe_code)]` in lib.rs); the SIMD kernels live in the gohsp-kernels crate.
#![allow(unsafe_code, reason = "libc calls with no safe wrapper in std")]

/// Sets glibc malloc parameters (`mallopt(param, value)` for each pair); returns whether every call succeeded.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn mallopt_all(settings: &[(libc::c_int, libc::c_int)]) -> bool {
    // SAFETY: mallopt only changes allocator parameters; it is called before any other thread exists.
    settings.iter().all(|&(param, value)| unsafe { libc::mallopt(param, value) } == 1)
}

/// Installs `handler` for `signal`; returns whether it was installed.
pub(crate) fn install_signal_handler(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) -> bool {
    let handler = handler as libc::sighandler_t;
    // SAFETY: the handlers passed here only store to an atomic, which is async-signal-safe.
    let previous = unsafe { libc::signal(signal, handler) };
    previous != libc::SIG_ERR
}
