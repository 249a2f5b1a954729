//! The memory ceiling (`memory_max`): a running child's resident memory is sampled once a
//! second from `/proc/PID/status`, and a child that stays above its ceiling for
//! [`SAMPLES_OVER`] samples in a row is reported to its link, which kills it as a failure.

use std::fmt;
use std::time::Duration;

use ractor::ActorRef;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::LinkMsg;

/// Time between two samples.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Consecutive samples above the ceiling that make a child exceed it; a single spike (a
/// short-lived buffer) does not.
pub const SAMPLES_OVER: u32 = 3;

const MIB: u64 = 1 << 20;

/// A child found above its ceiling for [`SAMPLES_OVER`] samples in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// The last sample, in bytes.
    pub rss: u64,
    /// The ceiling, in bytes.
    pub max: u64,
}

impl fmt::Display for Exceeded {
    /// `memory ceiling exceeded: RSS 300 MiB > 100 MiB`, the exit reason operators see.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "memory ceiling exceeded: RSS {} MiB > {} MiB",
            self.rss / MIB,
            self.max / MIB
        )
    }
}

/// Counts consecutive samples above a ceiling; pure, so it is tested without processes.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    max: u64,
    over: u32,
}

impl Ceiling {
    /// A ceiling of `max` bytes, with no sample above it yet.
    pub fn new(max: u64) -> Ceiling {
        Ceiling { max, over: 0 }
    }

    /// Takes one sample of `rss` bytes: `Some` once [`SAMPLES_OVER`] samples in a row
    /// were above the ceiling; a sample at or below it starts the count again.
    pub fn sample(&mut self, rss: u64) -> Option<Exceeded> {
        if rss <= self.max {
            self.over = 0;
            return None;
        }
        self.over += 1;
        (self.over >= SAMPLES_OVER).then_some(Exceeded { rss, max: self.max })
    }
}

/// The sampling task of one running child; dropping it (with the link's state) ends it.
#[derive(Debug)]
pub struct Watch(JoinHandle<()>);

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Samples `pid` every [`SAMPLE_EVERY`] against a ceiling of `max` bytes and sends
/// [`LinkMsg::MemoryCeiling`] to `link` once it is exceeded. Ends by itself when the
/// process is gone (no status, or a zombie without `VmRSS`).
pub fn watch(pid: u32, max: u64, link: ActorRef<LinkMsg>) -> Watch {
    Watch(tokio::spawn(async move {
        let mut ceiling = Ceiling::new(max);
        let mut ticks = tokio::time::interval(SAMPLE_EVERY);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(rss) = rss_of(pid) else {
                return;
            };
            if let Some(exceeded) = ceiling.sample(rss) {
                if let Err(e) = link.send_message(LinkMsg::MemoryCeiling(exceeded)) {
                    tracing::debug!(pid, %e, "link gone before its memory ceiling was reported");
                }
                return;
            }
        }
    }))
}

/// Resident memory of `pid` in bytes (`VmRSS` of `/proc/PID/status`); `None` when the
/// process is gone.
fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_rss(&status)
}

/// `VmRSS:     1234 kB` → 1234 × 1024.
fn parse_rss(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_samples_in_a_row_exceed_the_ceiling() {
        let mut ceiling = Ceiling::new(100 * MIB);
        assert_eq!(ceiling.sample(300 * MIB), None);
        assert_eq!(ceiling.sample(300 * MIB), None);
        let exceeded = ceiling.sample(301 * MIB);
        assert_eq!(
            exceeded,
            Some(Exceeded {
                rss: 301 * MIB,
                max: 100 * MIB
            })
        );
        assert_eq!(
            exceeded.map(|e| e.to_string()).as_deref(),
            Some("memory ceiling exceeded: RSS 301 MiB > 100 MiB")
        );
    }

    #[test]
    fn a_sample_at_or_below_the_ceiling_starts_the_count_again() {
        let mut ceiling = Ceiling::new(100 * MIB);
        for rss in [200, 200, 100, 200, 200, 50, 200, 200] {
            assert_eq!(ceiling.sample(rss * MIB), None, "{rss}");
        }
        assert!(ceiling.sample(200 * MIB).is_some());
    }

    #[test]
    fn a_child_killed_for_its_ceiling_failed_whatever_its_status_says() {
        use podsup_wire::ExitStatus;

        use crate::link::{Fault, classify};
        use crate::policy::ExitKind;

        let exceeded = Exceeded {
            rss: 300 * MIB,
            max: 100 * MIB,
        };
        let statuses = [
            (false, false, ExitStatus::Signal(libc::SIGKILL)),
            (true, false, ExitStatus::Signal(libc::SIGKILL)),
            (true, true, ExitStatus::Code(0)),
            (false, false, ExitStatus::Code(0)),
        ];
        for (is_pod, orderly, status) in statuses {
            let fault = Some(Fault::MemoryCeiling(exceeded));
            let ended = classify(is_pod, orderly, Ok(status), fault);
            assert_eq!(ended.kind, ExitKind::Abnormal, "{status:?}");
            assert_eq!(
                ended.last.reason,
                "memory ceiling exceeded: RSS 300 MiB > 100 MiB"
            );
            assert_eq!(ended.last.status, Some(status));
        }
    }

    #[test]
    fn rss_is_read_from_the_status_text() {
        let status = "Name:\tpython3\nVmPeak:\t  400000 kB\nVmRSS:\t  307200 kB\nThreads:\t1\n";
        assert_eq!(parse_rss(status), Some(300 * MIB));
        assert_eq!(parse_rss("Name:\tzombie\nState:\tZ (zombie)\n"), None);
        let own = rss_of(std::process::id()).expect("this process has a VmRSS");
        assert!(own > 0);
    }
}
