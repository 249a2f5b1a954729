//! CLOCK_MONOTONIC in nanoseconds: the clock the pod-worker's start stamps use, so a
//! timestamp taken here and one written by a pod can be subtracted.

/// Now, in CLOCK_MONOTONIC nanoseconds.
pub fn now_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Sleeps a pseudo-random time in `[lo_ms, lo_ms + spread_ms)`, so samples do not
/// phase-lock with a periodic timer of the process under test.
pub fn jitter_sleep(lo_ms: u64, spread_ms: u64) {
    let extra = match spread_ms {
        0 => 0,
        s => now_ns() / 1000 % s,
    };
    std::thread::sleep(std::time::Duration::from_millis(lo_ms + extra));
}
