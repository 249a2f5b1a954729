//! A property test of pods that spawn pods on real processes: random sequences of spawn
//! (any restart type), `kill -9` of a spawned pod, `kill -9` of the spawner, `ctl stop`
//! of a spawned pod, and `kill -9` of the root followed by a restart on the same state.
//! After each step the tree is left to settle — the root has seen the step (no node still
//! shows a pid the step killed: until the root reaps a process, status rightly shows it as
//! it was), no node is starting, in backoff or stopping, every running node has a live pid,
//! and the spawner's log has caught up — then the invariants are checked:
//!
//! - every entry of the registry the spawner's log records (replayed as a restarted
//!   spawner would) is a pod `ctl status` lists, running with a live pid or stopped by
//!   the operator (restartable), at the recorded generation: no delegated scope is held
//!   by a dead pod;
//! - every spawned pod `ctl status` lists is in that registry: no scope is lost, no
//!   ghost;
//! - no live pod process is unknown to `ctl status`: nothing leaks.
//!
//! `ctl spawn` delegates no scope, so scope is checked through the registry entries that
//! carry it. Few cases, short sequences: each step runs real processes.

use std::collections::{BTreeMap, BTreeSet};

use podsup_tests::spawning::{all_spawned, replay, spawned_nodes};
use podsup_tests::{Root, WAIT, alive, nodes, output_text, signal, wait_until};
use proptest::prelude::*;
use serde_json::Value;

/// The spawner.
const BOSS: &str = "boss";

const TREE: &str = r#"
name = "spawn-model"
strategy = "one_for_one"
max_restarts = 1000
within = "10s"

[[child]]
name = "boss"
kind = "pod"
engine = "echo"
"#;

/// One step of a sequence.
#[derive(Debug, Clone)]
enum Op {
    /// `ctl spawn boss cN --restart R`.
    Spawn(&'static str),
    /// `kill -9` of the running spawned pod picked by this number.
    KillChild(usize),
    /// `kill -9` of the spawner.
    KillSpawner,
    /// `ctl stop` of the running spawned pod picked by this number.
    StopChild(usize),
    /// `kill -9` of `podsup start`, then a new one on the same runtime and state dirs.
    RestartRoot,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::sample::select(vec!["permanent", "transient", "temporary"]).prop_map(Op::Spawn),
        3 => any::<usize>().prop_map(Op::KillChild),
        1 => Just(Op::KillSpawner),
        2 => any::<usize>().prop_map(Op::StopChild),
        1 => Just(Op::RestartRoot),
    ]
}

/// A root under test and what the test has seen of it.
struct Model {
    root: Root,
    /// Spawns so far (child names are `c0`, `c1`, …, never reused).
    spawned: usize,
    /// Every pod pid `ctl status` ever reported.
    pids: BTreeSet<u32>,
    /// The steps so far, for messages.
    steps: Vec<Op>,
    /// The pid the last step killed, which no settled tree shows.
    killed: Option<u32>,
}

impl Model {
    fn start() -> Model {
        let root = Root::start(TREE);
        root.wait_running(BOSS, 1);
        Model {
            root,
            spawned: 0,
            pids: BTreeSet::new(),
            steps: Vec::new(),
            killed: None,
        }
    }

    /// The running spawned pod `pick` selects (modulo how many run), if any runs.
    fn pick_running(&self, pick: usize) -> Option<Value> {
        let running: Vec<Value> = all_spawned(&self.root.status())
            .into_iter()
            .filter(|n| n["state"] == "running" && n["pid"].is_u64())
            .collect();
        (!running.is_empty()).then(|| running[pick % running.len()].clone())
    }

    fn apply(&mut self, op: &Op) {
        self.steps.push(op.clone());
        self.killed = None;
        match op {
            Op::Spawn(restart) => {
                let child = format!("c{}", self.spawned);
                self.spawned += 1;
                let out = self
                    .root
                    .ctl(&["spawn", BOSS, &child, "--restart", restart]);
                assert!(
                    out.status.success(),
                    "{}ctl spawn {BOSS} {child}: {}",
                    self.context(),
                    output_text(&out)
                );
            }
            Op::KillChild(pick) => {
                if let Some(node) = self.pick_running(*pick) {
                    let pid = node["pid"].as_u64().expect("pid") as u32;
                    signal(pid, libc::SIGKILL);
                    self.killed = Some(pid);
                }
            }
            Op::KillSpawner => {
                let pid = self.root.pid_of(BOSS);
                signal(pid, libc::SIGKILL);
                self.killed = Some(pid);
            }
            Op::StopChild(pick) => {
                if let Some(node) = self.pick_running(*pick) {
                    let name = node["name"].as_str().expect("name");
                    let out = self.root.ctl(&["stop", name]);
                    assert!(
                        out.status.success(),
                        "{}ctl stop {name}: {}",
                        self.context(),
                        output_text(&out)
                    );
                }
            }
            Op::RestartRoot => {
                signal(self.root.pid(), libc::SIGKILL);
                self.root
                    .wait_exit(WAIT)
                    .expect("podsup start dies of SIGKILL");
                let died = wait_until(WAIT, || self.live_pods().is_empty());
                assert!(
                    died,
                    "{}pods outlived the root: {:?}",
                    self.context(),
                    self.live_pods()
                );
                self.root.start_again();
            }
        }
    }

    /// The pids seen so far that are still live pod processes.
    fn live_pods(&self) -> Vec<u32> {
        self.pids
            .iter()
            .copied()
            .filter(|&pid| alive(pid) && is_pod_worker(pid))
            .collect()
    }

    /// Waits until the root has seen the last step (no node shows the pid it killed), no
    /// node is between states, every running node has a live pid, and the spawner's
    /// registry agrees with the tree, names and generations; false if that does not
    /// happen within [`WAIT`].
    fn settle(&mut self) -> bool {
        let mut pids = BTreeSet::new();
        let killed = self.killed;
        let settled = wait_until(WAIT, || {
            let Some(status) = self.root.try_status() else {
                return false;
            };
            let all = nodes(&status["root"]);
            pids.extend(
                all.iter()
                    .filter_map(|n| n["pid"].as_u64())
                    .map(|p| p as u32),
            );
            let seen = killed.is_none_or(|killed| {
                all.iter()
                    .all(|n| n["pid"].as_u64() != Some(u64::from(killed)))
            });
            let still = all.iter().all(|n| match n["state"].as_str() {
                Some("running") => n["pid"].as_u64().is_some_and(|pid| alive(pid as u32)),
                Some("stopped") => true,
                _ => false,
            });
            seen && still
                && self.root.try_entries(BOSS).is_some_and(|entries| {
                    generations(&all_spawned(&status)) == recorded(&replay(&entries))
                })
        });
        pids.remove(&self.root.pid());
        self.pids.extend(pids);
        settled
    }

    /// The invariants, checked on the settled tree.
    fn check(&self, settled: bool) {
        let status = self.root.status();
        let entries = self.root.entries(BOSS);
        let registry = replay(&entries);
        let spawned: BTreeMap<String, Value> = all_spawned(&status)
            .into_iter()
            .map(|n| (n["name"].as_str().unwrap_or_default().to_owned(), n))
            .collect();
        let context = || {
            format!(
                "{}status: {status:#}\nregistry: {registry:#?}\n{BOSS}'s log:\n{}\nlog:\n{}",
                self.context(),
                entries
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
                self.root.log()
            )
        };
        for (name, record) in &registry {
            let Some(node) = spawned.get(name) else {
                panic!("{name} is recorded but not in the tree\n{}", context());
            };
            let restartable = match node["state"].as_str() {
                Some("running") => node["pid"].as_u64().is_some_and(|pid| alive(pid as u32)),
                Some("stopped") => true,
                _ => false,
            };
            assert!(
                restartable,
                "{name} is recorded but neither live nor restartable: {node:#}\n{}",
                context()
            );
            assert_eq!(
                record["generation"],
                node["generation"],
                "{name}: recorded generation vs the tree's\n{}",
                context()
            );
        }
        for name in spawned.keys() {
            assert!(
                registry.contains_key(name),
                "{name} is in the tree but not in {BOSS}'s registry\n{}",
                context()
            );
        }
        let listed: BTreeSet<String> = spawned_nodes(&status, BOSS)
            .iter()
            .filter_map(|n| n["name"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(
            listed,
            spawned.keys().cloned().collect(),
            "every spawned pod is listed under {BOSS}\n{}",
            context()
        );
        let current: BTreeSet<u32> = nodes(&status["root"])
            .iter()
            .filter_map(|n| n["pid"].as_u64())
            .map(|p| p as u32)
            .collect();
        let leaked: Vec<u32> = self
            .live_pods()
            .into_iter()
            .filter(|pid| !current.contains(pid))
            .collect();
        assert!(
            leaked.is_empty(),
            "live pod processes the tree does not know: {leaked:?}\n{}",
            context()
        );
        assert!(
            settled,
            "the tree did not settle (a node stuck between states, or the registry never \
             caught up)\n{}",
            context()
        );
    }

    fn context(&self) -> String {
        format!("after {:?}:\n", self.steps)
    }
}

/// Each of `nodes` by name, with its generation.
fn generations(nodes: &[Value]) -> BTreeMap<String, Value> {
    nodes
        .iter()
        .filter_map(|n| Some((n["name"].as_str()?.to_owned(), n["generation"].clone())))
        .collect()
}

/// Each record of a replayed registry by name, with its generation.
fn recorded(registry: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    registry
        .iter()
        .map(|(name, record)| (name.clone(), record["generation"].clone()))
        .collect()
}

/// Whether `pid` runs `podsup pod-worker` (and is not a reused pid).
fn is_pod_worker(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.split(|&b| b == 0).any(|arg| arg == b"pod-worker"))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10,
        failure_persistence: None,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn registry_and_tree_agree_after_any_sequence_of_spawns_kills_stops_and_root_restarts(
        ops in prop::collection::vec(op(), 8..=12)
    ) {
        let mut model = Model::start();
        for op in &ops {
            model.apply(op);
            let settled = model.settle();
            model.check(settled);
        }
    }
}
