//! What the root's own loop tells systemd between events: `WATCHDOG=1` at half the
//! watchdog timeout and `STATUS=` whenever the summary changed. Both are stored deadlines
//! the loop waits on ([`Heartbeat::next_deadline`]); they are sent only when the loop runs,
//! so a wedged root stops pinging and systemd kills and restarts it.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Counts, Notifier, NotifyError, status_line};

/// How often the status summary is recomputed (and sent if it changed).
pub const STATUS_PERIOD: Duration = Duration::from_secs(1);

/// Test-only: names a file whose existence wedges the root's loop (see
/// [`wedge_if_requested`]).
pub const WEDGE_FILE_ENV: &str = "PODSUP_TEST_WEDGE_FILE";

/// How long the wedged loop waits between looks at the wedge file.
const WEDGE_POLL: Duration = Duration::from_millis(20);

/// The root loop's notifications and their deadlines.
#[derive(Debug)]
pub struct Heartbeat {
    notifier: Notifier,
    /// Half of `WATCHDOG_USEC`, when systemd wants pings from us.
    watchdog: Option<Duration>,
    next_watchdog: Instant,
    next_status: Instant,
    /// The summary systemd has, so unchanged summaries are not resent.
    last_status: Option<String>,
    /// A send failed and was logged; later failures are logged quietly until one succeeds.
    failing: bool,
}

impl Heartbeat {
    /// A heartbeat for the service manager named in the environment (none: every
    /// notification is a no-op). An unusable environment is logged and ignored: a root
    /// that cannot notify still supervises.
    pub fn from_env(now: Instant) -> Heartbeat {
        let notifier = Notifier::from_env().unwrap_or_else(|e| {
            tracing::warn!(%e, "systemd notifications disabled");
            Notifier::disabled()
        });
        if notifier.is_enabled() {
            tracing::info!(watchdog = ?notifier.watchdog_interval(), "notifying systemd");
        }
        Heartbeat::new(notifier, now)
    }

    /// A heartbeat sending through `notifier`; the first ping is due at once.
    pub fn new(notifier: Notifier, now: Instant) -> Heartbeat {
        Heartbeat {
            watchdog: notifier.watchdog_interval(),
            notifier,
            next_watchdog: now,
            next_status: now,
            last_status: None,
            failing: false,
        }
    }

    /// `STATUS=` while the static tree starts (before [`Heartbeat::ready`]).
    pub fn starting(&mut self, tree: &str) {
        let status = format!("starting tree {tree}");
        let sent = self.notifier.status(&status);
        self.report(sent);
    }

    /// `READY=1` with the summary: call once every static child is ready.
    pub fn ready(&mut self, counts: &Counts) {
        let status = status_line(counts);
        let sent = self.notifier.ready(&status);
        self.report(sent);
        self.last_status = Some(status);
    }

    /// When [`Heartbeat::tick`] next has something to do.
    pub fn next_deadline(&self) -> Instant {
        match self.watchdog {
            Some(_) => self.next_watchdog.min(self.next_status),
            None => self.next_status,
        }
    }

    /// Sends what is due at `now`: `WATCHDOG=1`, and `STATUS=` if `counts` reads
    /// differently from what systemd shows. Call from the root loop, never from another
    /// task: that the loop runs is what the ping vouches for.
    pub fn tick(&mut self, counts: &Counts, now: Instant) {
        if let Some(interval) = self.watchdog {
            if now >= self.next_watchdog {
                let sent = self.notifier.watchdog();
                self.report(sent);
                // From now, not from the missed deadline: no burst after a stall.
                self.next_watchdog = now + interval;
            }
        }
        if now >= self.next_status {
            let status = status_line(counts);
            if self.last_status.as_ref() != Some(&status) {
                let sent = self.notifier.status(&status);
                self.report(sent);
                self.last_status = Some(status);
            }
            self.next_status = now + STATUS_PERIOD;
        }
    }

    /// `STOPPING=1`: the orderly shutdown begins.
    pub fn stopping(&mut self) {
        let sent = self.notifier.stopping("stopping the tree");
        self.report(sent);
    }

    fn report(&mut self, sent: Result<(), NotifyError>) {
        match (sent, self.failing) {
            (Ok(()), false) => {}
            (Ok(()), true) => {
                tracing::info!("systemd notifications delivered again");
                self.failing = false;
            }
            (Err(e), false) => {
                tracing::warn!(%e, "systemd notification lost");
                self.failing = true;
            }
            (Err(e), true) => tracing::debug!(%e, "systemd notification lost"),
        }
    }
}

/// Test-only hook for the watchdog tests: when `PODSUP_TEST_WEDGE_FILE` is set and that
/// file exists, blocks the calling thread — the root's loop — until the file is removed,
/// as a deadlocked root would. The root calls it on every heartbeat tick; without the
/// variable it returns at once. Not for production use.
pub fn wedge_if_requested() {
    static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        std::env::var_os(WEDGE_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let Some(file) = file else {
        return;
    };
    if !file.exists() {
        return;
    }
    tracing::warn!(file = %file.display(), "test hook: root loop wedged");
    while file.exists() {
        std::thread::sleep(WEDGE_POLL);
    }
    tracing::warn!(file = %file.display(), "test hook: root loop released");
}
