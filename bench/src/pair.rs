//! podsup and the floor, both up with the same number of idle pods, for the figures that
//! measure running supervisors (restart, footprint).

use anyhow::{Context, Result};

use crate::subject::{Bins, Kind, Subject};

/// How long a cold start of the figures' pods may take.
pub const START_TIMEOUT_MS: u64 = 300_000;

/// One supervisor up with its pods.
#[derive(Debug)]
pub struct Running {
    /// The supervisor.
    pub subject: Subject,
    /// Its pods' current pids.
    pub pids: Vec<u32>,
}

impl Running {
    /// Starts `kind` with `pods` pods and waits until every pod sent `Ready`.
    pub fn start(bins: &Bins, kind: Kind, pods: usize) -> Result<Running> {
        Self::up(Subject::start(bins, kind, pods)?.0, pods)
    }

    /// Waits until every pod of the just-started `subject` sent `Ready`.
    pub fn up(mut subject: Subject, pods: usize) -> Result<Running> {
        let kind = subject.kind;
        let up = subject
            .stamps
            .wait_all_ready(pods, START_TIMEOUT_MS)
            .with_context(|| format!("{kind:?} did not come up; log:\n{}", subject.log()))?;
        Ok(Running {
            subject,
            pids: up.pids,
        })
    }
}

/// podsup and the floor with the same pods.
#[derive(Debug)]
pub struct Pair {
    /// `[podsup, floor]`.
    pub both: [Running; 2],
}

impl Pair {
    /// Starts podsup, then the floor, each with `pods` pods, and lets them settle.
    pub fn start(bins: &Bins, pods: usize) -> Result<Pair> {
        let podsup = Running::start(bins, Kind::Podsup, pods)?;
        let floor = Running::start(bins, Kind::Floor, pods)?;
        std::thread::sleep(std::time::Duration::from_millis(1000));
        Ok(Pair {
            both: [podsup, floor],
        })
    }
}

/// The order of sample `i`: podsup first on even samples, the floor first on odd ones, so
/// neither always runs right after the other.
pub fn order(i: usize) -> [usize; 2] {
    if i % 2 == 0 { [0, 1] } else { [1, 0] }
}
