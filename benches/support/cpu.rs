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

/// The CPU clocks of this process's threads named `name` (Linux: `/proc/self/task/*/comm`; a
/// thread's CPU clock id is made from its id as glibc's `pthread_getcpuclockid` makes it). Found
/// once: the threads must exist already (the replay servers' threads, started before any row).
pub fn thread_clocks_named(name: &str) -> Vec<libc::clockid_t> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    // The kernel keeps the first 15 bytes of a thread's name.
    let name = &name.as_bytes()[..name.len().min(15)];
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read(t.path().join("comm"))
                .is_ok_and(|c| c.strip_suffix(b"\n").unwrap_or(&c) == name)
        })
        .filter_map(|t| t.file_name().to_str()?.parse::<libc::pid_t>().ok())
        // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): (~tid << 3) | CPUCLOCK_PERTHREAD_MASK | 2.
        .map(|tid| ((!tid) << 3) | 4 | 2)
        .collect()
}

/// The CPU time of the threads whose clocks are `clocks` (zero for a thread that has ended).
pub fn clocks_cpu(clocks: &[libc::clockid_t]) -> Duration {
    clocks
        .iter()
        .map(|&clock| {
            // SAFETY: clock_gettime writes into the struct we pass; an invalid clock id only
            // makes it return an error.
            let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
            match unsafe { libc::clock_gettime(clock, &mut ts) } {
                0 => Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                _ => Duration::ZERO,
            }
        })
        .sum()
}
