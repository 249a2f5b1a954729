//! One supervisor's children as a pure state machine.
//!
//! The supervisor actor feeds it what happened (a child exited, a start succeeded, the
//! operator asked for something, a backoff deadline passed) and carries out the
//! [`Action`]s it returns. Nothing here touches a process or sleeps, so the whole
//! strategy × restart type × exit kind × intensity matrix is tested in `core/tests.rs`.

use std::time::{Duration, Instant};

use podsup_config::{Backoff, Intensity, Restart, Strategy};

use crate::policy::{self, Decision, ExitKind, RestartLog};

/// Where a child is in its life, as its supervisor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildState {
    /// Not running and not scheduled to run.
    Stopped,
    /// Not running; scheduled to start as part of a restart that is being carried out.
    Pending,
    /// Up since this instant (Ready for pods, exec'd for processes).
    Running {
        /// When it became ready.
        since: Instant,
    },
    /// Waiting for its restart delay.
    Backoff {
        /// When it may start.
        until: Instant,
    },
    /// Its failure made the supervisor give up.
    Failed,
}

/// What the supervisor actor must do next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Stop this child per its shutdown spec, then report [`SupCore::stopped`].
    Stop(usize),
    /// Start this child, then report [`SupCore::started`] or [`SupCore::exited`].
    Start(usize),
    /// Call [`SupCore::wake`] at this instant.
    WakeAt(Instant),
    /// Intensity exceeded: stop every child in reverse start order and fail upward.
    Escalate(String),
}

/// One child as its supervisor tracks it.
#[derive(Debug, Clone)]
pub struct ChildCore {
    /// Unique name.
    pub name: String,
    /// Restart type.
    pub restart: Restart,
    /// Current state.
    pub state: ChildState,
    /// Start attempts so far, failed ones included: the generation of the latest attempt
    /// (the running generation when running). Never repeats.
    pub generation: u64,
    /// Restart attempts so far (start attempts after the first, failed ones included).
    pub restarts: u64,
    /// Restarts in a row without a stable run, for backoff.
    pub consecutive: u32,
    /// Stopped by the operator: no strategy brings it back until the operator starts it.
    pub held: bool,
}

/// Refusals of operator requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// `start` on a running child.
    #[error("{0} is already running")]
    AlreadyRunning(String),
    /// `stop` on a child the operator already stopped.
    #[error("{0} is already stopped")]
    AlreadyStopped(String),
}

/// A supervisor's policy and children.
#[derive(Debug, Clone)]
pub struct SupCore {
    strategy: Strategy,
    log: RestartLog,
    backoff: Option<Backoff>,
    /// Children in start order.
    pub children: Vec<ChildCore>,
}

impl SupCore {
    /// A supervisor whose children are all stopped.
    pub fn new(strategy: Strategy, intensity: Intensity, backoff: Option<Backoff>) -> Self {
        Self {
            strategy,
            log: RestartLog::new(intensity),
            backoff,
            children: Vec::new(),
        }
    }

    /// Replaces the policy (a reload); the restart history starts afresh.
    pub fn set_policy(
        &mut self,
        strategy: Strategy,
        intensity: Intensity,
        backoff: Option<Backoff>,
    ) {
        self.strategy = strategy;
        self.log = RestartLog::new(intensity);
        self.backoff = backoff;
    }

    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Appends a stopped child; returns its index.
    pub fn add(&mut self, name: String, restart: Restart) -> usize {
        self.children.push(ChildCore {
            name,
            restart,
            state: ChildState::Stopped,
            generation: 0,
            restarts: 0,
            consecutive: 0,
            held: false,
        });
        self.children.len() - 1
    }

    /// Removes a stopped child (dynamic children); indices after it shift down.
    pub fn remove(&mut self, idx: usize) -> ChildCore {
        self.children.remove(idx)
    }

    /// Index of the child called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.children.iter().position(|c| c.name == name)
    }

    /// Whether a `Start(idx)` action should still be carried out.
    pub fn wants_start(&self, idx: usize) -> bool {
        let c = &self.children[idx];
        !c.held && matches!(c.state, ChildState::Pending | ChildState::Stopped)
    }

    /// Whether the child is up.
    pub fn is_running(&self, idx: usize) -> bool {
        matches!(self.children[idx].state, ChildState::Running { .. })
    }

    /// A start attempt begins; returns its generation. Every attempt is a new generation,
    /// so nothing addressed to an attempt that failed can reach a later one, and every
    /// attempt after the first is a restart whether or not it comes up: an operator
    /// watching a crash loop sees the counts rise (systemd's `NRestarts` counts the same
    /// way; OTP counts a failed restart against the intensity, as [`SupCore::exited`]
    /// does).
    pub fn starting(&mut self, idx: usize) -> u64 {
        let c = &mut self.children[idx];
        if c.generation > 0 {
            c.restarts += 1;
        }
        c.generation += 1;
        c.generation
    }

    /// The attempt begun by [`SupCore::starting`] is up and ready.
    pub fn started(&mut self, idx: usize, now: Instant) {
        self.children[idx].state = ChildState::Running { since: now };
    }

    /// The child was stopped by an [`Action::Stop`] or an operator stop.
    pub fn stopped(&mut self, idx: usize) {
        let c = &mut self.children[idx];
        if !matches!(c.state, ChildState::Pending) {
            c.state = ChildState::Stopped;
        }
    }

    /// The child ended by itself (or failed to start): apply restart type, intensity and
    /// strategy.
    pub fn exited(&mut self, idx: usize, exit: ExitKind, now: Instant) -> Vec<Action> {
        let ran_for = match self.children[idx].state {
            ChildState::Running { since } => now.saturating_duration_since(since),
            ChildState::Stopped
            | ChildState::Pending
            | ChildState::Backoff { .. }
            | ChildState::Failed => Duration::ZERO,
        };
        self.children[idx].state = ChildState::Stopped;
        if self.children[idx].held {
            return Vec::new();
        }
        match policy::decide(self.children[idx].restart, exit) {
            Decision::Forget => Vec::new(),
            Decision::Restart => self.restart(idx, ran_for, now),
        }
    }

    fn restart(&mut self, idx: usize, ran_for: Duration, now: Instant) -> Vec<Action> {
        if let Err(exceeded) = self.log.record(now) {
            self.children[idx].state = ChildState::Failed;
            let name = &self.children[idx].name;
            return vec![Action::Escalate(format!("{exceeded}; last was {name}"))];
        }
        let stable = self
            .backoff
            .as_ref()
            .is_some_and(|b| ran_for >= b.reset_after);
        let c = &mut self.children[idx];
        c.consecutive = if stable {
            1
        } else {
            c.consecutive.saturating_add(1)
        };

        let plan = policy::plan(self.strategy, idx, self.children.len());
        let mut actions = Vec::new();
        let mut starts = Vec::new();
        for &j in &plan.stop {
            let sibling = &self.children[j];
            let live = matches!(
                sibling.state,
                ChildState::Running { .. } | ChildState::Backoff { .. } | ChildState::Pending
            );
            if !live || sibling.held {
                continue;
            }
            if matches!(sibling.state, ChildState::Running { .. }) {
                actions.push(Action::Stop(j));
            }
            // A temporary sibling taken down with the group is not brought back (OTP).
            self.children[j].state = match sibling.restart {
                Restart::Temporary => ChildState::Stopped,
                Restart::Permanent | Restart::Transient => ChildState::Pending,
            };
        }
        for &j in &plan.start {
            if j == idx || self.children[j].state == ChildState::Pending {
                starts.push(j);
            }
        }
        match self.delay(idx, now) {
            None => {
                for &j in &starts {
                    self.children[j].state = ChildState::Pending;
                    actions.push(Action::Start(j));
                }
            }
            Some(until) => {
                for &j in &starts {
                    self.children[j].state = ChildState::Backoff { until };
                }
                actions.push(Action::WakeAt(until));
            }
        }
        actions
    }

    fn delay(&self, idx: usize, now: Instant) -> Option<Instant> {
        let backoff = self.backoff.as_ref()?;
        let c = &self.children[idx];
        let jitter = jitter_for(&c.name, c.generation);
        Some(now + policy::backoff_delay(backoff, c.consecutive, jitter))
    }

    /// A [`Action::WakeAt`] deadline passed: start what is due, in order.
    pub fn wake(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for (j, c) in self.children.iter_mut().enumerate() {
            if let ChildState::Backoff { until } = c.state {
                if until <= now {
                    c.state = ChildState::Pending;
                    actions.push(Action::Start(j));
                }
            }
        }
        actions
    }

    /// The nearest backoff deadline, if any child is waiting.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.children
            .iter()
            .filter_map(|c| match c.state {
                ChildState::Backoff { until } => Some(until),
                ChildState::Stopped
                | ChildState::Pending
                | ChildState::Running { .. }
                | ChildState::Failed => None,
            })
            .min()
    }

    /// Operator stop: hold the child down until [`SupCore::start`].
    pub fn stop(&mut self, idx: usize) -> Result<Vec<Action>, OpError> {
        let c = &mut self.children[idx];
        if c.held {
            return Err(OpError::AlreadyStopped(c.name.clone()));
        }
        c.held = true;
        Ok(match c.state {
            ChildState::Running { .. } => vec![Action::Stop(idx)],
            ChildState::Stopped
            | ChildState::Pending
            | ChildState::Backoff { .. }
            | ChildState::Failed => {
                c.state = ChildState::Stopped;
                Vec::new()
            }
        })
    }

    /// Operator start: release the hold and start now.
    pub fn start(&mut self, idx: usize) -> Result<Vec<Action>, OpError> {
        let c = &mut self.children[idx];
        if let ChildState::Running { .. } = c.state {
            return Err(OpError::AlreadyRunning(c.name.clone()));
        }
        c.held = false;
        c.consecutive = 0;
        c.state = ChildState::Pending;
        Ok(vec![Action::Start(idx)])
    }

    /// Operator restart: stop (if running) and start again; only this child.
    pub fn restart_child(&mut self, idx: usize) -> Vec<Action> {
        let c = &mut self.children[idx];
        c.held = false;
        c.consecutive = 0;
        let running = matches!(c.state, ChildState::Running { .. });
        c.state = ChildState::Pending;
        match running {
            true => vec![Action::Stop(idx), Action::Start(idx)],
            false => vec![Action::Start(idx)],
        }
    }
}

/// A deterministic jitter in `[0, 1)` from the child's name and generation, so restarts of
/// many children spread out without a random number generator.
fn jitter_for(name: &str, generation: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ generation;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests;
