//! Pods that spawn pods, driven by `podsup ctl` with echo pods: a spawned pod's turn is
//! reported to its spawner; `kill -9` of a spawned pod under each restart type tells the
//! spawner exactly `Crashed` then `Restarted` (or `Reclaimed`), and its registry follows;
//! `kill -9` of the spawner leaves its pods running, and a pod that died while the spawner
//! was down is reclaimed when it comes back; `kill -9` of the root brings back what is not
//! temporary; and every refusal of `ctl spawn` names the problem and leaves no trace.
//!
//! The spawner's registry is read the way a restarted spawner replays it: its session log
//! (`ctl --json logs`) folded by [`replay`].

use std::collections::BTreeSet;

use podsup_tests::spawning::{all_spawned, events_about, registry_changes, replay, spawned_nodes};
use podsup_tests::{Root, WAIT, alive, output_text, signal, wait_node, wait_until};
use serde_json::{Value, json};

/// The spawning pod of [`TREE`].
const BOSS: &str = "boss";

/// An echo spawner next to a plain process (which may not spawn).
const TREE: &str = r#"
name = "spawn"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "boss"
kind = "pod"
engine = "echo"

[[child]]
name = "proc"
kind = "process"
argv = ["sleep", "1000"]
"#;

/// The spawner under a supervisor that waits 2 s before restarting it: a window in which
/// the spawner is down and its pods are not.
const BACKOFF_TREE: &str = r#"
name = "spawn-backoff"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "crew"
kind = "supervisor"
strategy = "one_for_one"
max_restarts = 100
within = "10s"
backoff = { initial = "2s", max = "4s", multiplier = 2.0, reset_after = "60s" }

  [[child.child]]
  name = "boss"
  kind = "pod"
  engine = "echo"
"#;

/// Boots `tree` and waits until the spawner runs.
fn start(tree: &str) -> Root {
    let root = Root::start(tree);
    root.wait_running(BOSS, 1);
    root
}

/// `spawner/child`.
fn full(child: &str) -> String {
    format!("{BOSS}/{child}")
}

/// The names of the pods `ctl status` lists under the spawner.
fn listed_under_boss(root: &Root) -> BTreeSet<String> {
    spawned_nodes(&root.status(), BOSS)
        .iter()
        .filter_map(|n| n["name"].as_str().map(str::to_owned))
        .collect()
}

/// `names` as a set of owned strings.
fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// A pod event as `events_about` returns it.
fn event(kind: &str, body: Value) -> (String, Value) {
    (kind.to_owned(), body)
}

/// `Crashed` of `pod` by SIGKILL.
fn crashed_by_kill_9(pod: &str) -> (String, Value) {
    event(
        "Crashed",
        json!({ "pod_name": pod, "exit": { "Signal": libc::SIGKILL } }),
    )
}

/// Waits until the spawner's log holds `expected.len()` pod events about `pod`, then
/// checks they are exactly `expected`; returns the log.
fn assert_events_about(root: &Root, pod: &str, expected: &[(String, Value)]) -> Vec<Value> {
    let entries = root.wait_entries(
        BOSS,
        &format!("{} events about {pod}", expected.len()),
        |e| events_about(e, pod).len() >= expected.len(),
    );
    assert_eq!(
        events_about(&entries, pod),
        expected,
        "pod events about {pod} in {BOSS}'s log"
    );
    entries
}

#[test]
fn a_turn_of_a_spawned_pod_reaches_its_spawner_as_turn_ended() {
    let root = start(TREE);
    root.spawn_child(BOSS, "w", "temporary");
    assert_eq!(listed_under_boss(&root), set(&["boss/w"]));
    let out = root.ctl(&["send", "boss/w", "hello there"]);
    assert!(out.status.success(), "ctl send: {}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("hello there"),
        "the echo reply: {}",
        output_text(&out)
    );
    assert_events_about(
        &root,
        "boss/w",
        &[event("TurnEnded", json!({ "pod_name": "boss/w" }))],
    );
}

#[test]
fn the_spawners_log_records_a_spawned_pod_with_its_restart_type_and_generation() {
    let root = start(TREE);
    root.spawn_child(BOSS, "w", "transient");
    let entries = root.wait_recorded(BOSS, "boss/w");
    let changes = registry_changes(&entries);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let record = &changes[0];
    assert_eq!(record["op"], "spawned", "{record:#}");
    assert_eq!(record["name"], "boss/w", "{record:#}");
    assert_eq!(record["restart"], "transient", "{record:#}");
    assert_eq!(record["generation"], 1, "{record:#}");
    assert!(record["engine"].get("Echo").is_some(), "{record:#}");
    assert_eq!(record["scope"], json!([]), "{record:#}");
}

/// Spawns `boss/c` with `restart`, kills it with SIGKILL and checks the pod events the
/// spawner gets, its registry afterwards and what `ctl status` shows.
fn kill_9_of_a_spawned_pod(restart: &str) {
    let root = start(TREE);
    let pid = root.spawn_child(BOSS, "c", restart);
    root.wait_recorded(BOSS, "boss/c");
    signal(pid, libc::SIGKILL);
    let comes_back = restart != "temporary";
    let then = if comes_back {
        event(
            "Restarted",
            json!({ "pod_name": "boss/c", "generation": 2 }),
        )
    } else {
        event("Reclaimed", json!({ "pod_name": "boss/c" }))
    };
    let expected = [crashed_by_kill_9("boss/c"), then];
    let entries = assert_events_about(&root, "boss/c", &expected);
    let registry = replay(&entries);
    if comes_back {
        let new_pid = root.wait_running("boss/c", 2);
        assert_ne!(new_pid, pid, "generation 2 is a new process");
        assert!(alive(new_pid));
        assert_eq!(
            registry.keys().collect::<Vec<_>>(),
            ["boss/c"],
            "{registry:#?}"
        );
        assert_eq!(registry["boss/c"]["generation"], 2, "{registry:#?}");
        assert_eq!(listed_under_boss(&root), set(&["boss/c"]));
    } else {
        assert!(
            registry.is_empty(),
            "reclaimed, yet recorded: {registry:#?}"
        );
        // Reclaimed is told after the pod left the tree: no ghost, already now.
        let status = root.status();
        assert!(
            spawned_nodes(&status, BOSS).is_empty(),
            "a reclaimed pod is still listed: {status:#}"
        );
        let out = root.ctl(&["inspect", "boss/c"]);
        assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    }
    assert!(
        wait_until(WAIT, || !alive(pid)),
        "the killed generation is still alive"
    );
}

#[test]
fn kill_9_of_a_permanent_spawned_pod_tells_the_spawner_crashed_then_restarted_generation_2() {
    kill_9_of_a_spawned_pod("permanent");
}

#[test]
fn kill_9_of_a_transient_spawned_pod_tells_the_spawner_crashed_then_restarted_generation_2() {
    kill_9_of_a_spawned_pod("transient");
}

#[test]
fn kill_9_of_a_temporary_spawned_pod_tells_the_spawner_crashed_then_reclaimed_and_leaves_no_ghost()
{
    kill_9_of_a_spawned_pod("temporary");
}

#[test]
fn kill_9_of_the_spawner_leaves_its_pods_running_with_their_pids_and_generations() {
    let root = start(TREE);
    let p = root.spawn_child(BOSS, "p", "permanent");
    let t = root.spawn_child(BOSS, "t", "temporary");
    root.wait_recorded(BOSS, "boss/p");
    root.wait_recorded(BOSS, "boss/t");
    let boss = root.pid_of(BOSS);
    signal(boss, libc::SIGKILL);
    let boss_again = root.wait_running(BOSS, 2);
    assert_ne!(boss_again, boss);
    for (name, pid) in [("boss/p", p), ("boss/t", t)] {
        let node = root.node(name);
        assert_eq!(
            (&node["state"], &node["pid"], &node["generation"]),
            (&json!("running"), &json!(pid), &json!(1)),
            "{name} after the spawner's kill -9: {node:#}"
        );
        assert!(alive(pid), "{name} ({pid}) died with its spawner");
    }
    assert_eq!(listed_under_boss(&root), set(&["boss/p", "boss/t"]));
    let entries = root.entries(BOSS);
    assert_eq!(
        replay(&entries).keys().collect::<Vec<_>>(),
        ["boss/p", "boss/t"],
        "the restarted spawner's registry"
    );
    for name in ["boss/p", "boss/t"] {
        assert_eq!(
            events_about(&entries, name),
            [],
            "nothing happened to {name}"
        );
    }
    // The restarted spawner is linked to its pods: it hears about the next crash.
    signal(p, libc::SIGKILL);
    assert_events_about(
        &root,
        "boss/p",
        &[
            crashed_by_kill_9("boss/p"),
            event(
                "Restarted",
                json!({ "pod_name": "boss/p", "generation": 2 }),
            ),
        ],
    );
    root.wait_running("boss/p", 2);
}

/// How the spawner is taken down while one of its pods dies.
#[derive(Debug, Clone, Copy)]
enum Down {
    /// `kill -9`, restarted by its supervisor after a 2 s backoff.
    Killed,
    /// `ctl stop`, then `ctl start`.
    Stopped,
}

/// Spawns a permanent `p` and a temporary `t`, takes the spawner down, kills `t` while it
/// is down, brings the spawner back: `p` is kept as it was, `t` is reclaimed.
fn a_pod_that_dies_while_its_spawner_is_down(down: Down) {
    let root = start(match down {
        Down::Killed => BACKOFF_TREE,
        Down::Stopped => TREE,
    });
    let p = root.spawn_child(BOSS, "p", "permanent");
    let t = root.spawn_child(BOSS, "t", "temporary");
    root.wait_recorded(BOSS, "boss/p");
    root.wait_recorded(BOSS, "boss/t");
    match down {
        Down::Killed => {
            signal(root.pid_of(BOSS), libc::SIGKILL);
            wait_node(&root, BOSS, "backoff after kill -9", |n| {
                n["state"] == "backoff"
            });
        }
        Down::Stopped => {
            let out = root.ctl(&["stop", BOSS]);
            assert!(out.status.success(), "ctl stop: {}", output_text(&out));
            root.wait_state(BOSS, "stopped");
        }
    }
    assert!(alive(p) && alive(t), "the spawner's pods died with it");
    signal(t, libc::SIGKILL);
    let gone = wait_until(WAIT, || !listed_under_boss(&root).contains("boss/t"));
    assert!(gone, "boss/t never left the tree; log:\n{}", root.log());
    let boss = root.node(BOSS);
    assert_ne!(
        boss["state"], "running",
        "the spawner came back before boss/t was reclaimed (too slow a machine?): {boss:#}"
    );
    if let Down::Stopped = down {
        let out = root.ctl(&["start", BOSS]);
        assert!(out.status.success(), "ctl start: {}", output_text(&out));
    }
    root.wait_running(BOSS, 2);
    let entries = assert_events_about(
        &root,
        "boss/t",
        &[
            crashed_by_kill_9("boss/t"),
            event("Reclaimed", json!({ "pod_name": "boss/t" })),
        ],
    );
    assert_eq!(
        replay(&entries).keys().collect::<Vec<_>>(),
        ["boss/p"],
        "the spawner's registry after it came back"
    );
    assert_eq!(
        events_about(&entries, "boss/p"),
        [],
        "boss/p was left alone"
    );
    let node = root.node("boss/p");
    assert_eq!(
        (&node["state"], &node["pid"], &node["generation"]),
        (&json!("running"), &json!(p), &json!(1)),
        "boss/p is kept as it was: {node:#}"
    );
    assert!(alive(p));
    assert_eq!(listed_under_boss(&root), set(&["boss/p"]));
}

#[test]
fn a_pod_killed_while_its_spawner_waits_in_backoff_is_reclaimed_and_its_live_sibling_kept() {
    a_pod_that_dies_while_its_spawner_is_down(Down::Killed);
}

#[test]
fn a_pod_killed_while_its_spawner_is_stopped_is_reclaimed_and_its_live_sibling_kept() {
    a_pod_that_dies_while_its_spawner_is_down(Down::Stopped);
}

#[test]
fn a_spawn_acknowledged_to_ctl_is_on_the_spawners_record_even_if_the_spawner_dies_at_once() {
    let root = start(TREE);
    // The window is a few milliseconds wide: try it ten times.
    let children = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for (i, child) in children.into_iter().enumerate() {
        let boss = root.wait_running(BOSS, i as u64 + 1);
        let out = root.ctl(&["spawn", BOSS, child, "--restart", "permanent"]);
        assert!(out.status.success(), "ctl spawn: {}", output_text(&out));
        signal(boss, libc::SIGKILL);
    }
    root.wait_running(BOSS, children.len() as u64 + 1);
    let listed = listed_under_boss(&root);
    let all: BTreeSet<String> = children.iter().map(|c| full(c)).collect();
    assert_eq!(listed, all);
    let entries = root.wait_entries(BOSS, "every spawned pod recorded", |entries| {
        replay(entries).len() == listed.len()
    });
    assert_eq!(
        replay(&entries).keys().cloned().collect::<BTreeSet<_>>(),
        listed
    );
}

#[test]
fn kill_9_of_the_root_brings_back_permanent_and_transient_spawned_pods_and_reclaims_temporary_ones()
{
    let mut root = start(TREE);
    let before: Vec<u32> = [("p", "permanent"), ("tr", "transient"), ("t", "temporary")]
        .into_iter()
        .map(|(name, restart)| {
            let pid = root.spawn_child(BOSS, name, restart);
            root.wait_recorded(BOSS, &full(name));
            pid
        })
        .collect();
    signal(root.pid(), libc::SIGKILL);
    root.wait_exit(WAIT).expect("podsup start dies of SIGKILL");
    assert!(
        wait_until(WAIT, || before.iter().all(|&pid| !alive(pid))),
        "spawned pods outlived the root"
    );
    root.start_again();
    root.wait_running(BOSS, 1);
    for name in ["boss/p", "boss/tr"] {
        let pid = root.wait_running(name, 2);
        assert!(!before.contains(&pid), "{name} kept an old pid");
    }
    let entries = root.wait_entries(BOSS, "two respawned and one reclaimed", |entries| {
        let changes = registry_changes(entries);
        changes.iter().filter(|c| c["op"] == "respawned").count() == 2
            && !events_about(entries, "boss/t").is_empty()
    });
    let respawned: BTreeSet<(String, u64)> = registry_changes(&entries)
        .iter()
        .filter(|c| c["op"] == "respawned")
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["generation"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        respawned,
        [("boss/p".to_owned(), 2), ("boss/tr".to_owned(), 2)].into(),
        "respawned registry entries"
    );
    assert_eq!(
        events_about(&entries, "boss/t"),
        [event("Reclaimed", json!({ "pod_name": "boss/t" }))]
    );
    let registry = replay(&entries);
    assert_eq!(
        registry.keys().collect::<Vec<_>>(),
        ["boss/p", "boss/tr"],
        "{registry:#?}"
    );
    for record in registry.values() {
        assert_eq!(record["generation"], 2, "{record:#}");
    }
    let status = root.status();
    let spawned = all_spawned(&status);
    let names: BTreeSet<String> = spawned
        .iter()
        .filter_map(|n| n["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names, set(&["boss/p", "boss/tr"]), "no ghost: {status:#}");
    for node in &spawned {
        let pid = node["pid"].as_u64().expect("a pid") as u32;
        assert!(alive(pid), "{node:#}");
    }
}

#[test]
fn a_spawned_pod_stopped_by_the_operator_stays_stopped_across_a_root_kill_until_ctl_start() {
    let mut root = start(TREE);
    root.spawn_child(BOSS, "p", "permanent");
    root.wait_recorded(BOSS, "boss/p");
    let out = root.ctl(&["stop", "boss/p"]);
    assert!(out.status.success(), "ctl stop: {}", output_text(&out));
    root.wait_state("boss/p", "stopped");
    signal(root.pid(), libc::SIGKILL);
    root.wait_exit(WAIT).expect("podsup start dies of SIGKILL");
    root.start_again();
    root.wait_running(BOSS, 1);
    let mut last = Value::Null;
    let settled = wait_until(WAIT, || {
        last = spawned_nodes(&root.status(), BOSS)
            .into_iter()
            .find(|n| n["name"] == "boss/p")
            .unwrap_or(Value::Null);
        matches!(last["state"].as_str(), Some("running" | "stopped"))
    });
    assert!(
        settled,
        "boss/p never came back, not even stopped: {last:#}\nlog:\n{}",
        root.log()
    );
    assert_eq!(
        last["state"], "stopped",
        "the operator stopped boss/p before the root died: {last:#}"
    );
    let out = root.ctl(&["start", "boss/p"]);
    assert!(out.status.success(), "ctl start: {}", output_text(&out));
    root.wait_state("boss/p", "running");
}

/// Runs `ctl spawn ARGS…` expecting a refusal: exit code 1 and a message naming `kind` and
/// each of `naming`; then checks it left no trace in `ctl status` or the spawner's log.
fn assert_refused(root: &Root, args: &[&str], kind: &str, naming: &[&str]) {
    let spawned_before = all_spawned(&root.status()).len();
    let recorded_before = registry_changes(&root.entries(BOSS)).len();
    let mut argv = vec!["spawn"];
    argv.extend(args);
    let out = root.ctl(&argv);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "ctl {argv:?}: {text}");
    for word in std::iter::once(&kind).chain(naming) {
        assert!(
            text.contains(word),
            "ctl {argv:?} does not say {word:?}: {text}"
        );
    }
    let status = root.status();
    assert_eq!(
        all_spawned(&status).len(),
        spawned_before,
        "a refused spawn changed the tree: {status:#}"
    );
    let entries = root.entries(BOSS);
    assert_eq!(
        registry_changes(&entries).len(),
        recorded_before,
        "a refused spawn was recorded: {entries:#?}"
    );
}

#[test]
fn spawn_under_a_taken_name_is_refused_with_name_taken_and_the_pod_is_untouched() {
    let root = start(TREE);
    let pid = root.spawn_child(BOSS, "w", "temporary");
    root.wait_recorded(BOSS, "boss/w");
    assert_refused(&root, &[BOSS, "w"], "NameTaken", &["boss/w"]);
    let node = root.node("boss/w");
    assert_eq!(
        (&node["pid"], &node["generation"]),
        (&json!(pid), &json!(1))
    );
}

#[test]
fn spawn_with_an_invalid_name_is_refused_naming_it() {
    let root = start(TREE);
    assert_refused(&root, &[BOSS, "a/b"], "Invalid", &["a/b"]);
    assert_refused(&root, &[BOSS, ".lead"], "Invalid", &[".lead"]);
    assert_refused(&root, &[BOSS, ""], "Invalid", &["empty"]);
    assert_refused(&root, &[BOSS, "sp ace"], "Invalid", &["sp ace"]);
}

#[test]
fn spawn_by_a_process_or_a_supervisor_is_refused_only_pods_spawn_pods() {
    let root = start(TREE);
    assert_refused(&root, &["proc", "w"], "Invalid", &["proc", "not a pod"]);
    assert_refused(&root, &["root", "w"], "Invalid", &["root", "not a pod"]);
}

#[test]
fn spawn_by_an_unknown_spawner_is_refused_with_not_found() {
    let root = start(TREE);
    assert_refused(&root, &["nobody", "w"], "NotFound", &["nobody"]);
}

#[test]
fn spawn_with_an_engine_other_than_echo_or_the_spawners_own_is_refused() {
    let root = start(TREE);
    for engine in ["llm", "command", "telepathy"] {
        assert_refused(
            &root,
            &[BOSS, "w", "--engine", engine],
            "EngineNotAllowed",
            &[BOSS, engine],
        );
    }
}

#[test]
fn spawn_with_an_unknown_restart_type_is_refused_naming_it() {
    let root = start(TREE);
    let out = root.ctl(&["spawn", BOSS, "w", "--restart", "sometimes"]);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("sometimes"), "{text}");
    assert!(all_spawned(&root.status()).is_empty());
}

#[test]
fn spawn_five_deep_is_refused_with_depth_limit() {
    let root = start(TREE);
    let mut spawner = BOSS.to_owned();
    for child in ["a", "b", "c", "d"] {
        root.spawn_child(&spawner, child, "temporary");
        spawner = format!("{spawner}/{child}");
    }
    assert_eq!(spawner, "boss/a/b/c/d");
    let spawned_before = all_spawned(&root.status()).len();
    let out = root.ctl(&["spawn", &spawner, "e"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for word in ["DepthLimit", "boss/a/b/c/d/e"] {
        assert!(text.contains(word), "does not say {word:?}: {text}");
    }
    assert_eq!(all_spawned(&root.status()).len(), spawned_before);
}

#[test]
fn a_seventeenth_spawned_pod_is_refused_with_child_limit() {
    let root = start(TREE);
    for i in 1..=16 {
        root.spawn_child(BOSS, &format!("w{i}"), "temporary");
    }
    assert_refused(&root, &[BOSS, "w17"], "ChildLimit", &[BOSS, "16"]);
    assert_eq!(listed_under_boss(&root).len(), 16);
}
