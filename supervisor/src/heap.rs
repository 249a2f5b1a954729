//! The root's heap under glibc: few arenas, and freed pages handed back.
//!
//! glibc gives threads arenas of their own (up to eight per core) and keeps what a burst
//! freed — a tree of a thousand pods starting, a crash loop, a reload — in them, where it
//! counts as the root's RSS long after the burst. The root is I/O-bound on two worker
//! threads, so it limits itself to [`ARENAS`] arenas, and its loop trims every [`PERIOD`]
//! (measured: well under 0.1 % of a CPU with a thousand pods).
//! Elsewhere than glibc both are no-ops.

use std::time::{Duration, Instant};

/// Arenas the root's allocator may use: one per tokio worker thread.
pub const ARENAS: i32 = 2;

/// How often the root loop hands free heap pages back, at most: the status tick, so a
/// burst's garbage is returned within a second of it.
pub const PERIOD: Duration = Duration::from_secs(1);

/// Caps the allocator's arenas at [`ARENAS`]. Call before the runtime's threads start.
pub fn limit_arenas() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets an allocator parameter; no thread has allocated yet.
    unsafe {
        if libc::mallopt(libc::M_ARENA_MAX, ARENAS) != 1 {
            tracing::debug!("mallopt(M_ARENA_MAX) refused; keeping glibc's default");
        }
    }
}

/// Returns free heap pages of every arena to the kernel.
pub fn release_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes the allocator's own locks and touches only its free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// When the root loop next trims: a stored deadline the loop checks on its ticks.
#[derive(Debug)]
pub struct Trim {
    next: Instant,
}

impl Trim {
    /// The first trim is due at `now`: the root loop starts right after the static tree
    /// came up, the first burst.
    pub fn new(now: Instant) -> Trim {
        Trim { next: now }
    }

    /// Trims if it is due at `now`.
    pub fn tick(&mut self, now: Instant) {
        if now >= self.next {
            release_free_memory();
            self.next = now + PERIOD;
        }
    }
}
