//! Checkpoints: no zombie children of the root, its fds and RSS near their baseline, every
//! successful `ctl send` committed, and `ctl status` never unanswered for long.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::load::Sent;
use crate::procs;
use crate::report::Invariant;
use crate::run::{Chaos, STATUS_BOUND, WARM_UP};

/// How long a zombie child of the root may wait to be reaped.
const REAP_GRACE: Duration = Duration::from_secs(1);

/// How many lost inputs one violation lists.
const SHOWN: usize = 5;

/// Pods whose logs a checkpoint other than the last one reads.
const SAMPLED_PODS: usize = 6;

impl Chaos {
    /// Runs every check; `last` is the final one, after the load stopped.
    pub(crate) fn checkpoint(&mut self, last: bool) {
        self.counts.checkpoints += 1;
        let started = Instant::now();
        let Some(root) = self.root.pid() else {
            return;
        };
        self.check_zombies(root);
        self.check_footprint(root, last);
        self.check_committed(last);
        self.check_status_gaps();
        let polls = self.shared.polls();
        println!(
            "podsup-chaos: checkpoint {}{}: events {} single / {} group / {} root, restarts {}, escalations {}, sends {} ok / {} failed, root {} (baseline {}), longest status gap {} ms, violations {} ({} ms)",
            self.counts.checkpoints,
            if last { " (final)" } else { "" },
            self.counts.single_kills,
            self.counts.group_kills,
            self.counts.root_kills,
            self.counts.restarts,
            self.counts.escalations,
            self.shared.sent().len(),
            self.shared.failed(),
            self.counts.last,
            self.baseline
                .map_or("taken now".to_owned(), |b| b.to_string()),
            polls.max_gap.as_millis(),
            self.violations.len(),
            started.elapsed().as_millis()
        );
    }

    fn check_zombies(&mut self, root: u32) {
        let zombies = procs::zombies_of(root);
        if zombies.is_empty() {
            return;
        }
        let still = |z: &u32| procs::stat(*z).is_some_and(|s| s.state == 'Z' && s.ppid == root);
        procs::wait_until(REAP_GRACE, || !zombies.iter().any(still));
        let stayed: Vec<u32> = zombies.iter().copied().filter(still).collect();
        if !stayed.is_empty() {
            self.counts.zombies += stayed.len() as u64;
            let detail =
                format!("zombie children of the root {stayed:?} not reaped within {REAP_GRACE:?}");
            self.violated(Invariant::Zombie, detail);
        }
    }

    fn check_footprint(&mut self, root: u32, last: bool) {
        let Some(now) = procs::footprint(root) else {
            return;
        };
        self.counts.last = now;
        let Some(baseline) = self.baseline else {
            if self.root_since.elapsed() >= WARM_UP {
                self.baseline = Some(now);
                self.counts.baseline = now;
            }
            return;
        };
        if !now.within(&baseline) {
            let when = if last {
                "at the end"
            } else {
                "at a checkpoint"
            };
            let detail = format!(
                "root {when}: {now}, baseline {baseline} (allowed +{} fds, RSS +50% or +10 MiB)",
                crate::report::Footprint::FD_SLACK
            );
            self.violated(Invariant::Footprint, detail);
        }
    }

    /// Every successful send so far must be in its pod's session log: for every pod at the
    /// end (`all`), for a rotating few at other checkpoints, which keeps them short.
    fn check_committed(&mut self, all: bool) {
        let sent = self.shared.sent();
        let mut by_pod: BTreeMap<&str, Vec<&Sent>> = BTreeMap::new();
        for s in &sent {
            by_pod.entry(s.pod.as_str()).or_default().push(s);
        }
        let take = if all {
            by_pod.len()
        } else {
            SAMPLED_PODS.min(by_pod.len())
        };
        let skip = if all {
            0
        } else {
            self.sample_from % by_pod.len().max(1)
        };
        self.sample_from += take;
        let ctl = self.root.ctl();
        let mut verified = 0;
        for (pod, sends) in by_pod.iter().cycle().skip(skip).take(take) {
            let inputs = match ctl.user_inputs(pod) {
                Ok(inputs) => inputs,
                Err(e) => {
                    self.violated(
                        Invariant::Committed,
                        format!("cannot read {pod}'s log: {e}"),
                    );
                    continue;
                }
            };
            let lost: Vec<&str> = sends
                .iter()
                .filter(|s| !inputs.contains(&s.text))
                .map(|s| s.text.as_str())
                .collect();
            verified += (sends.len() - lost.len()) as u64;
            let lost: Vec<&str> = lost
                .into_iter()
                .filter(|t| self.reported_lost.insert((*t).to_owned()))
                .collect();
            if !lost.is_empty() {
                let shown: Vec<&str> = lost.iter().take(SHOWN).copied().collect();
                let detail = format!(
                    "{} successful sends to {pod} are not in its session log, e.g. {shown:?}",
                    lost.len()
                );
                self.violated(Invariant::Committed, detail);
            }
        }
        if all {
            self.counts.sends_verified = verified;
        }
    }

    fn check_status_gaps(&mut self) {
        let polls = self.shared.polls();
        self.counts.status_polls = polls.ok;
        self.counts.status_failures = polls.failed;
        self.counts.status_max_gap = polls.max_gap;
        if polls.max_gap > STATUS_BOUND && !self.gap_reported {
            self.gap_reported = true;
            let detail = format!(
                "ctl status went unanswered for {} ms (bound {} ms)",
                polls.max_gap.as_millis(),
                STATUS_BOUND.as_millis()
            );
            self.violated(Invariant::Responsive, detail);
        }
    }
}
