//! CPU clocks and settings shared by the CPU-time benches (`call_cpu`, `concurrent_calls`),
//! included with `#[path]`.

#![allow(dead_code)]

use std::time::Duration;

/// A positive number from the environment variable `name`, else `default`.
pub fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// CPU time of the whole process (all threads), user + system.
pub fn process_cpu() -> Duration {
    // SAFETY: getrusage writes into the struct we pass; RUSAGE_SELF is always valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU time of the calling thread.
pub fn thread_cpu() -> Duration {
    // SAFETY: clock_gettime writes into the struct we pass; the clock id is valid on Linux.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
