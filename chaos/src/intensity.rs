//! The harness's own count of each supervisor's restarts, to tell whether giving up (or
//! not) was what the intensity required.
//!
//! The harness stamps a restart when it sends the kill; the root stamps it when it handles
//! the exit, a little later. Near the window's edge either answer is right, so a decision is
//! only *required* inside the window shrunk by [`MARGIN`] and only *plausible* inside the
//! window grown by it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::tree::Model;

/// Slack around the intensity window for the harness's clock against the root's.
pub const MARGIN: Duration = Duration::from_secs(1);

/// Recent restarts of every supervisor, by node index.
#[derive(Debug, Clone)]
pub struct Intensities {
    logs: Vec<VecDeque<Instant>>,
}

impl Intensities {
    /// No restarts yet, for every node of `model`.
    pub fn new(model: &Model) -> Self {
        Self {
            logs: vec![VecDeque::new(); model.nodes.len()],
        }
    }

    fn count_within(&self, sup: usize, at: Instant, window: Duration) -> u32 {
        self.logs[sup]
            .iter()
            .filter(|&&t| at.saturating_duration_since(t) < window)
            .count() as u32
    }

    /// Whether `records` more restarts at `at` surely exceed `sup`'s intensity.
    pub fn required(&self, model: &Model, (sup, at): (usize, Instant), records: u32) -> bool {
        let Some(p) = model.policy(sup) else {
            return false;
        };
        let window = p.within.saturating_sub(MARGIN);
        self.count_within(sup, at, window) + records > p.max_restarts
    }

    /// Whether `records` more restarts at `at` may exceed `sup`'s intensity.
    pub fn plausible(&self, model: &Model, (sup, at): (usize, Instant), records: u32) -> bool {
        let Some(p) = model.policy(sup) else {
            return false;
        };
        self.count_within(sup, at, p.within + MARGIN) + records > p.max_restarts
    }

    /// `sup` restarted `records` children at `at`.
    pub fn record(&mut self, sup: usize, at: Instant, records: u32) {
        for _ in 0..records {
            self.logs[sup].push_back(at);
        }
    }

    /// `sup` is a new instance (restarted, or a new root): its count starts afresh.
    pub fn reset(&mut self, sup: usize) {
        self.logs[sup].clear();
    }

    /// Every supervisor starts afresh (a new root).
    pub fn reset_all(&mut self) {
        self.logs.iter_mut().for_each(VecDeque::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragile_must_give_up_at_its_third_restart_and_may_not_at_its_second() {
        let model = Model::chaos();
        let fragile = model.index("fragile").expect("fragile");
        let mut log = Intensities::new(&model);
        let t0 = Instant::now();
        assert!(!log.plausible(&model, (fragile, t0), 2));
        log.record(fragile, t0, 2);
        let t1 = t0 + Duration::from_secs(5);
        assert!(log.required(&model, (fragile, t1), 1));
        // Long after the window both are forgotten.
        let late = t0 + Duration::from_secs(60);
        assert!(!log.plausible(&model, (fragile, late), 1));
        // At the window's edge, either answer is right.
        let edge = t0 + Duration::from_secs(30);
        assert!(log.plausible(&model, (fragile, edge), 1));
        assert!(!log.required(&model, (fragile, edge), 1));
    }
}
