//! The events: `kill -9` of one pod or process, of every pod and process of one supervisor
//! at once, or of the root itself; and waiting for the tree to settle after each.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::judge::{self, KillEvent, Records, Verdict};
use crate::procs;
use crate::report::Invariant;
use crate::run::Chaos;
use crate::status::Snapshot;

/// How long a tree may take to come back after a kill.
const SETTLE: Duration = Duration::from_secs(30);
/// How long the status must stay the same to count as settled.
const STABLE: Duration = Duration::from_millis(300);
/// How long after its group leader died a process may still be in its group, and how long
/// after the root's SIGKILL a pod may still be alive.
const GRACE: Duration = Duration::from_secs(1);

impl Chaos {
    /// One kill event, judged; false if the tree did not come back.
    pub(crate) fn kill_event(&mut self) -> bool {
        let (sup, victims) = self.choose();
        let before = self.settled.clone();
        let mut killed = Vec::new();
        for &v in &victims {
            let name = self.model.nodes[v].name.clone();
            let Some(pid) = before.get(&name).and_then(|n| n.pid) else {
                self.violated(
                    Invariant::Settle,
                    format!("{name} has no pid before its kill"),
                );
                return false;
            };
            killed.push((name, pid));
        }
        let at = Instant::now();
        for (i, (name, pid)) in killed.iter().enumerate() {
            match procs::kill_leader(*pid) {
                true => self.counts.killed += 1,
                // The first kill of a group may already have made the supervisor stop the
                // others (the strategy, or giving up): the model allows for that.
                false if i > 0 => self.counts.absorbed += 1,
                false => {
                    let detail = format!("{name} (pid {pid}) was not running when killed");
                    self.violated(Invariant::Settle, detail);
                }
            }
        }
        match victims.len() {
            1 => self.counts.single_kills += 1,
            _ => self.counts.group_kills += 1,
        }
        let Some(after) = self.settle(&killed) else {
            return false;
        };
        let event = KillEvent {
            sup,
            killed: victims
                .iter()
                .filter_map(|&v| self.model.position(v))
                .collect(),
            at,
        };
        let records = Records {
            model: &self.model,
            before: &before,
            after: &after,
        };
        match judge::judge(records, &event, &mut self.intensities) {
            Ok(Verdict::Restarted { restarts }) => {
                self.counts.strategy_ok += 1;
                self.counts.restarts += restarts;
            }
            Ok(Verdict::Escalated { restarts }) => {
                self.counts.escalations += 1;
                self.counts.restarts += restarts;
            }
            Err(v) => self.violated(v.invariant, v.detail),
        }
        // Every generation that ended (killed, or stopped by the strategy) leaves nothing.
        let ended: Vec<u32> = before
            .nodes
            .iter()
            .filter_map(|(name, b)| {
                b.pid
                    .filter(|&p| after.get(name).and_then(|a| a.pid) != Some(p))
            })
            .filter(|&p| Some(p) != self.root.pid())
            .collect();
        self.check_groups_gone(&ended, "its leader ended");
        self.settled = after;
        true
    }

    /// A random pod or process, or (at the group rate) every pod and process of a random
    /// supervisor: `(supervisor, victims)`.
    fn choose(&mut self) -> (usize, Vec<usize>) {
        if self.rng.chance(self.config.group_percent) {
            let targets = self.model.group_targets();
            let sup = targets[self.rng.below(targets.len())];
            let victims: Vec<usize> = self.model.nodes[sup]
                .children
                .iter()
                .copied()
                .filter(|&c| self.model.is_leaf(c))
                .take(crate::expect::MAX_GROUP)
                .collect();
            return (sup, victims);
        }
        let leaves = self.model.leaf_indices();
        let victim = leaves[self.rng.below(leaves.len())];
        let sup = self.model.nodes[victim].parent.unwrap_or(0);
        (sup, vec![victim])
    }

    /// Nothing may be left in the process groups `pgids` (after [`GRACE`]).
    fn check_groups_gone(&mut self, pgids: &[u32], why: &str) {
        procs::wait_until(GRACE, || procs::group_members(pgids).is_empty());
        let left = procs::group_members(pgids);
        if !left.is_empty() {
            self.counts.leftovers += left.len() as u64;
            let detail = format!("processes {left:?} (group, pid) still run {GRACE:?} after {why}");
            self.violated(Invariant::GroupLeftover, detail);
        }
    }

    /// SIGKILL of the root: within 1 s no pod or process (nor anything in their groups) may
    /// be alive. Then the root is started again on the same dirs.
    pub(crate) fn root_kill(&mut self) -> bool {
        let pids = self.settled.leaf_pids(&self.model);
        self.shared.pause(true);
        self.root.kill9();
        self.counts.root_kills += 1;
        let gone =
            || pids.iter().all(|&p| !procs::alive(p)) && procs::group_members(&pids).is_empty();
        if !procs::wait_until(GRACE, gone) {
            let alive: Vec<u32> = pids.iter().copied().filter(|&p| procs::alive(p)).collect();
            let members = procs::group_members(&pids);
            self.counts.orphans += (alive.len() + members.len()) as u64;
            let detail = format!(
                "{GRACE:?} after the root's SIGKILL, children {alive:?} and group members {members:?} are alive"
            );
            self.violated(Invariant::Orphan, detail);
        }
        if let Err(e) = self.root.boot(&self.model) {
            self.violated(
                Invariant::RootAlive,
                format!("the root did not start again: {e}"),
            );
            return false;
        }
        self.shared.pause(false);
        self.intensities.reset_all();
        match self.settle(&[]) {
            Some(snap) => self.settled = snap,
            None => return false,
        }
        // A new root: its footprint is measured afresh, once it has warmed up.
        self.baseline = None;
        self.root_since = Instant::now();
        true
    }

    /// Waits until every node runs, each of `killed` under a new pid, and the status holds
    /// still for [`STABLE`]; `None` (with a violation) if that does not happen in [`SETTLE`]
    /// or the root died.
    pub(crate) fn settle(&mut self, killed: &[(String, u32)]) -> Option<Snapshot> {
        let deadline = Instant::now() + SETTLE;
        let mut held: Option<(Snapshot, Instant)> = None;
        let mut last = None;
        loop {
            if let Some(status) = self.root.exited() {
                let detail = format!(
                    "podsup start exited: {status}; see {}",
                    self.root.log_path().display()
                );
                self.violated(Invariant::RootAlive, detail);
                return None;
            }
            if let Some(snap) = self.root.snapshot() {
                let replaced = killed
                    .iter()
                    .all(|(name, pid)| snap.get(name).and_then(|n| n.pid) != Some(*pid));
                if replaced && snap.all_running(&self.model) {
                    match &held {
                        Some((prev, since)) if *prev == snap => {
                            if since.elapsed() >= STABLE {
                                return Some(snap);
                            }
                        }
                        Some(_) | None => held = Some((snap.clone(), Instant::now())),
                    }
                } else {
                    held = None;
                }
                last = Some(snap);
            }
            if Instant::now() >= deadline {
                let names: BTreeSet<&str> = killed.iter().map(|(n, _)| n.as_str()).collect();
                let waiting = last.map(|s| s.not_running(&self.model)).unwrap_or_default();
                let detail = format!(
                    "the tree did not settle within {SETTLE:?} after killing {names:?}; not running: {waiting:?}"
                );
                self.violated(Invariant::Settle, detail);
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
