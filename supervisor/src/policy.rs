//! Supervision policy as pure functions: the restart table, the strategy plan, restart
//! intensity and backoff. No processes, no clocks but the `now` passed in.
//!
//! Read it like OTP's `supervisor.erl`: one arm per (restart type × exit kind), one per
//! strategy. The tests at the bottom are the matrix.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use podsup_config::{Backoff, Intensity, Restart, Strategy};

/// How a child ended, as far as policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Finished by itself in order: a pod that sent `ShutDown` then exited 0, a process
    /// that exited 0.
    Normal,
    /// Ended because its supervisor (or the operator) stopped it.
    Shutdown,
    /// Anything else: crashed, killed, exited non-zero, failed to start, sub-supervisor
    /// gave up.
    Abnormal,
}

/// What to do about one child's exit, before intensity and strategy are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Restart according to the supervisor's strategy.
    Restart,
    /// Leave it stopped.
    Forget,
}

/// The restart table (OTP semantics).
pub fn decide(restart: Restart, exit: ExitKind) -> Decision {
    match (restart, exit) {
        (Restart::Permanent, ExitKind::Normal) => Decision::Restart,
        (Restart::Permanent, ExitKind::Abnormal) => Decision::Restart,
        (Restart::Permanent, ExitKind::Shutdown) => Decision::Forget,
        (Restart::Transient, ExitKind::Normal) => Decision::Forget,
        (Restart::Transient, ExitKind::Abnormal) => Decision::Restart,
        (Restart::Transient, ExitKind::Shutdown) => Decision::Forget,
        (Restart::Temporary, ExitKind::Normal) => Decision::Forget,
        (Restart::Temporary, ExitKind::Abnormal) => Decision::Forget,
        (Restart::Temporary, ExitKind::Shutdown) => Decision::Forget,
    }
}

/// Which children a restart touches, by index in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Siblings to stop first, in reverse start order. Never includes the failed child.
    pub stop: Vec<usize>,
    /// Children to start afterwards, in start order. Always includes the failed child.
    pub start: Vec<usize>,
}

/// The strategy table: which siblings go down and come back with child `failed` of `len`.
///
/// `Dynamic` children are independent, like `one_for_one`.
pub fn plan(strategy: Strategy, failed: usize, len: usize) -> Plan {
    debug_assert!(failed < len);
    let others_after = (failed + 1..len).rev().collect::<Vec<_>>();
    match strategy {
        Strategy::OneForOne | Strategy::Dynamic => Plan {
            stop: Vec::new(),
            start: vec![failed],
        },
        Strategy::OneForAll => Plan {
            stop: (0..len).rev().filter(|&i| i != failed).collect(),
            start: (0..len).collect(),
        },
        Strategy::RestForOne => Plan {
            stop: others_after,
            start: (failed..len).collect(),
        },
    }
}

/// Restart intensity: timestamps of recent restarts, pruned to the window.
#[derive(Debug, Clone)]
pub struct RestartLog {
    limit: Intensity,
    stamps: VecDeque<Instant>,
}

/// More than `max_restarts` restarts happened within `within`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntensityExceeded {
    /// Restarts counted in the window, this one included.
    pub restarts: u32,
    /// The configured limit.
    pub limit: Intensity,
}

impl std::fmt::Display for IntensityExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "restart intensity exceeded: {} restarts within {:?} (max {})",
            self.restarts, self.limit.within, self.limit.max_restarts
        )
    }
}

impl RestartLog {
    /// An empty log for this limit.
    pub fn new(limit: Intensity) -> Self {
        Self {
            limit,
            stamps: VecDeque::new(),
        }
    }

    /// Records a restart at `now`; an error if that makes more than `max_restarts` within
    /// the window (OTP: the restart that exceeds the intensity is not carried out).
    pub fn record(&mut self, now: Instant) -> Result<(), IntensityExceeded> {
        while let Some(&oldest) = self.stamps.front() {
            if now.saturating_duration_since(oldest) >= self.limit.within {
                self.stamps.pop_front();
            } else {
                break;
            }
        }
        self.stamps.push_back(now);
        let restarts = self.stamps.len() as u32;
        if restarts > self.limit.max_restarts {
            return Err(IntensityExceeded {
                restarts,
                limit: self.limit,
            });
        }
        Ok(())
    }
}

/// Restart delay for a child that has failed `consecutive` times in a row (1 = first).
///
/// `jitter` in `[0, 1)` spreads restarts of many children: the delay is scaled by
/// `0.9 + 0.2 * jitter`, then capped at `max`.
pub fn backoff_delay(policy: &Backoff, consecutive: u32, jitter: f64) -> Duration {
    let exp = consecutive.saturating_sub(1).min(64) as i32;
    let base = policy.initial.as_secs_f64() * policy.multiplier.powi(exp);
    let scaled = base * (0.9 + 0.2 * jitter.clamp(0.0, 1.0));
    Duration::from_secs_f64(scaled.min(policy.max.as_secs_f64()))
}

#[cfg(test)]
mod tests;
