//! A spawned pod's restart while its spawner dies too, repeated: `kill -9` of the spawner
//! and of the pod it spawned, back to back (both exits in flight at once) or one after the
//! other (the spawner back up, then its pod killed), on several spawners at once so their
//! dynamic supervisors and the root's work interleave. After every round the tree must
//! converge, and stay converged, to:
//!
//! - each spawner running again with a new live pid;
//! - each spawned pod running with a new live pid, at a generation past the killed one,
//!   with one restart counted per start after the first (`generation == restarts + 1`);
//! - each spawner's registry, replayed from its log, at that same generation (it was told
//!   `Restarted` for exactly the generation that runs).
//!
//! A status is only accepted once no node still shows a killed pid: until the root has
//! reaped a process, `ctl status` legitimately shows it as it was.

use std::collections::BTreeMap;

use podsup_tests::spawning::replay;
use podsup_tests::{Root, WAIT, alive, nodes, signal, wait_until};
use serde_json::Value;

/// Spawners, each with its own dynamic supervisor (and restart intensity).
const SPAWNERS: [&str; 4] = ["boss0", "boss1", "boss2", "boss3"];

/// Rounds per spawner: each restarts every spawned pod once, and a spawner's pods may
/// restart 5 times within 30 s before they are all reclaimed (`SPAWNED_INTENSITY`).
const ROUNDS: usize = 4;

const TREE: &str = r#"
name = "spawn-race"
strategy = "one_for_one"
max_restarts = 1000
within = "10s"

[[child]]
name = "boss0"
kind = "pod"
engine = "echo"

[[child]]
name = "boss1"
kind = "pod"
engine = "echo"

[[child]]
name = "boss2"
kind = "pod"
engine = "echo"

[[child]]
name = "boss3"
kind = "pod"
engine = "echo"
"#;

/// `spawner/c`, the one pod each spawner spawns.
fn child_of(spawner: &str) -> String {
    format!("{spawner}/c")
}

/// What one node showed before a round's kills.
#[derive(Debug, Clone, Copy)]
struct Seen {
    pid: u32,
    generation: u64,
}

/// Every node of `status` by name.
fn by_name(status: &Value) -> BTreeMap<String, Value> {
    nodes(&status["root"])
        .into_iter()
        .filter_map(|n| n["name"].as_str().map(|name| (name.to_owned(), n.clone())))
        .collect()
}

fn seen(node: &Value) -> Seen {
    Seen {
        pid: node["pid"].as_u64().expect("a running node has a pid") as u32,
        generation: node["generation"].as_u64().expect("generation"),
    }
}

/// Why `node` (called `name`) is not yet what a round must converge to after killing
/// `before`; `None` once it is.
fn not_converged(name: &str, node: Option<&Value>, before: Seen) -> Option<String> {
    let Some(node) = node else {
        return Some(format!("{name} is not in the tree"));
    };
    let pid = node["pid"].as_u64().map(|p| p as u32);
    let generation = node["generation"].as_u64().unwrap_or(0);
    let restarts = node["restarts"].as_u64().unwrap_or(0);
    if node["state"] != "running" {
        return Some(format!("{name} is {}", node["state"]));
    }
    let Some(pid) = pid.filter(|&p| p != before.pid && alive(p)) else {
        return Some(format!("{name} runs without a new live pid: {pid:?}"));
    };
    if generation <= before.generation {
        return Some(format!(
            "{name} (pid {pid}) is still at generation {generation}"
        ));
    }
    if name.contains('/') && generation != restarts + 1 {
        return Some(format!(
            "{name}: generation {generation} with {restarts} restarts"
        ));
    }
    None
}

/// Kills every spawner and its pod (`back_to_back`: all at once; otherwise each spawner,
/// then — once every spawner runs again — each pod), then waits until the tree converged.
fn round(root: &Root, back_to_back: bool, number: usize) {
    let status = root.status();
    let all = by_name(&status);
    let before: BTreeMap<String, Seen> = SPAWNERS
        .iter()
        .flat_map(|s| [s.to_string(), child_of(s)])
        .map(|name| {
            let node = all
                .get(&name)
                .unwrap_or_else(|| panic!("no {name}: {status:#}"));
            (name, seen(node))
        })
        .collect();
    for spawner in SPAWNERS {
        signal(before[spawner].pid, libc::SIGKILL);
        if back_to_back {
            signal(before[&child_of(spawner)].pid, libc::SIGKILL);
        }
    }
    if !back_to_back {
        for spawner in SPAWNERS {
            let up = wait_until(WAIT, || {
                let status = root.try_status().unwrap_or_default();
                not_converged(spawner, by_name(&status).get(spawner), before[spawner]).is_none()
            });
            assert!(
                up,
                "round {number}: {spawner} did not come back\n{}",
                root.log()
            );
        }
        for spawner in SPAWNERS {
            signal(before[&child_of(spawner)].pid, libc::SIGKILL);
        }
    }
    let mut last = String::new();
    let converged = wait_until(WAIT, || match converged(root, &before) {
        Ok(()) => true,
        Err(why) => {
            last = why;
            false
        }
    });
    assert!(
        converged,
        "round {number} ({}): {last}\nstatus: {:#}\nlog:\n{}",
        if back_to_back {
            "back to back"
        } else {
            "one after the other"
        },
        root.status(),
        root.log()
    );
}

/// Whether every spawner and pod converged after the kills of `before`, and each
/// spawner's registry records its pod's running generation.
fn converged(root: &Root, before: &BTreeMap<String, Seen>) -> Result<(), String> {
    let status = root.try_status().ok_or("ctl status failed")?;
    let all = by_name(&status);
    let killed: Vec<u32> = before.values().map(|s| s.pid).collect();
    if let Some(stale) = all.values().find(|n| {
        n["pid"]
            .as_u64()
            .is_some_and(|p| killed.contains(&(p as u32)))
    }) {
        return Err(format!("{} still shows its killed pid", stale["name"]));
    }
    for (name, was) in before {
        if let Some(why) = not_converged(name, all.get(name), *was) {
            return Err(why);
        }
    }
    for spawner in SPAWNERS {
        let child = child_of(spawner);
        let entries = root
            .try_entries(spawner)
            .ok_or_else(|| format!("ctl logs {spawner} failed"))?;
        let recorded = replay(&entries)
            .get(&child)
            .map(|record| record["generation"].clone());
        let running = &all[&child]["generation"];
        if recorded.as_ref() != Some(running) {
            return Err(format!(
                "{spawner} records {child} at generation {recorded:?}, the tree runs {running}"
            ));
        }
    }
    Ok(())
}

#[test]
fn kill_9_of_spawners_and_their_pods_converges_to_live_pods_at_the_generation_each_spawner_recorded()
 {
    let root = Root::start(TREE);
    for spawner in SPAWNERS {
        root.wait_running(spawner, 1);
        root.spawn_child(spawner, "c", "permanent");
    }
    for number in 0..ROUNDS {
        round(&root, number % 2 == 0, number);
    }
}
