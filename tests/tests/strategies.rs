//! Restart strategies on real processes: `one_for_one`, `one_for_all` and `rest_for_one`
//! under a supervisor mixing pods and plain processes, each after a `kill -9` of a middle
//! child, and a nested supervisor that contains a restart of one of its own children.

use podsup_tests::{Root, alive, signal, wait_node};

/// The four children of every strategy tree, in start order.
const CHILDREN: [&str; 4] = ["alpha", "bravo", "charlie", "delta"];

/// A root with `strategy` over a process, a pod, a process and a pod.
fn tree(strategy: &str) -> String {
    format!(
        r#"
name = "strategies"
strategy = "{strategy}"
max_restarts = 10
within = "60s"

[[child]]
name = "alpha"
kind = "process"
argv = ["sleep", "1000"]
shutdown = "brutal_kill"

[[child]]
name = "bravo"
kind = "pod"
engine = "echo"

[[child]]
name = "charlie"
kind = "process"
argv = ["sleep", "1000"]
shutdown = "brutal_kill"

[[child]]
name = "delta"
kind = "pod"
engine = "echo"
"#
    )
}

/// One child as seen at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    pid: u32,
    generation: u64,
    restarts: u64,
}

fn seen(root: &Root, name: &str) -> Seen {
    let node = root.node(name);
    Seen {
        pid: node["pid"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has no pid: {node:#}")) as u32,
        generation: node["generation"].as_u64().expect("generation"),
        restarts: node["restarts"].as_u64().expect("restarts"),
    }
}

/// Waits for every child in `names` to run its first generation; returns what was seen.
fn first_generation(root: &Root, names: &[&str]) -> Vec<Seen> {
    names
        .iter()
        .map(|name| {
            root.wait_running(name, 1);
            seen(root, name)
        })
        .collect()
}

/// Asserts that `name` still runs the process seen in `before`, untouched.
fn assert_untouched(root: &Root, name: &str, before: Seen) {
    let node = root.node(name);
    assert_eq!(node["state"], "running", "{name}: {node:#}");
    assert_eq!(
        seen(root, name),
        before,
        "{name} was restarted: {node:#}\nlog:\n{}",
        root.log()
    );
    assert!(alive(before.pid), "{name} (pid {}) is gone", before.pid);
}

/// Asserts that `name` was restarted once into a new process; returns the new pid.
fn assert_restarted_once(root: &Root, name: &str, before: Seen) -> u32 {
    let pid = root.wait_running(name, 2);
    let now = seen(root, name);
    assert_ne!(pid, before.pid, "{name} kept its pid");
    assert_eq!(now.restarts, 1, "{name}: {:#}", root.node(name));
    assert!(
        !alive(before.pid),
        "{name}'s first generation (pid {}) is still alive",
        before.pid
    );
    pid
}

/// Asserts that `name`'s last exit was the SIGKILL the test sent.
fn assert_killed(root: &Root, name: &str) {
    let node = root.node(name);
    let last = &node["last_exit"];
    assert_eq!(last["signal"], libc::SIGKILL, "{name}: {node:#}");
    assert!(
        last["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{name}: {node:#}"
    );
}

/// When `pid` was started, in clock ticks since boot (field 22 of /proc/<pid>/stat).
fn start_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/stat: {e}"));
    // Fields after the parenthesised command name start at field 3.
    let (_, rest) = stat.rsplit_once(')').expect("stat has a command name");
    rest.split_whitespace()
        .nth(22 - 3)
        .and_then(|field| field.parse().ok())
        .unwrap_or_else(|| panic!("no start time in {stat}"))
}

#[test]
fn one_for_one_restarts_only_the_victim() {
    let root = Root::start(&tree("one_for_one"));
    let before = first_generation(&root, &CHILDREN);

    signal(before[2].pid, libc::SIGKILL);
    assert_restarted_once(&root, "charlie", before[2]);
    assert_killed(&root, "charlie");

    for i in [0, 1, 3] {
        assert_untouched(&root, CHILDREN[i], before[i]);
    }
}

#[test]
fn one_for_all_restarts_every_sibling() {
    let root = Root::start(&tree("one_for_all"));
    let before = first_generation(&root, &CHILDREN);

    signal(before[1].pid, libc::SIGKILL);
    for (name, &was) in CHILDREN.iter().zip(&before) {
        assert_restarted_once(&root, name, was);
    }
    assert_killed(&root, "bravo");
}

#[test]
fn rest_for_one_restarts_the_victim_and_later_siblings_in_order() {
    let root = Root::start(&tree("rest_for_one"));
    let before = first_generation(&root, &CHILDREN);

    signal(before[1].pid, libc::SIGKILL);
    let restarted: Vec<u32> = (1..4)
        .map(|i| assert_restarted_once(&root, CHILDREN[i], before[i]))
        .collect();
    assert_killed(&root, "bravo");
    assert_untouched(&root, "alpha", before[0]);

    // Started in order, each after the previous one was ready: start times never go
    // backwards (they are in clock ticks, so equal times are possible).
    let ticks: Vec<u64> = restarted.iter().map(|&pid| start_ticks(pid)).collect();
    assert!(
        ticks.windows(2).all(|w| w[0] <= w[1]),
        "bravo, charlie, delta restarted out of order: start ticks {ticks:?}\nlog:\n{}",
        root.log()
    );
}

#[test]
fn nested_supervisor_contains_a_restart_of_its_own_child() {
    // The root is one_for_all: had the inner restart leaked upwards, every child of the
    // root would have been restarted.
    let root = Root::start(
        r#"
name = "nested"
strategy = "one_for_all"
max_restarts = 10
within = "60s"

[[child]]
name = "front"
kind = "pod"
engine = "echo"

[[child]]
name = "inner"
kind = "supervisor"
strategy = "one_for_one"
max_restarts = 10
within = "60s"

  [[child.child]]
  name = "inner_proc"
  kind = "process"
  argv = ["sleep", "1000"]
  shutdown = "brutal_kill"

  [[child.child]]
  name = "inner_pod"
  kind = "pod"
  engine = "echo"

[[child]]
name = "back"
kind = "process"
argv = ["sleep", "1000"]
shutdown = "brutal_kill"
"#,
    );
    let workers = ["front", "inner_proc", "inner_pod", "back"];
    let before = first_generation(&root, &workers);
    let inner = wait_node(&root, "inner", "first start", |n| {
        n["state"] == "running" && n["generation"] == 1
    });

    signal(before[1].pid, libc::SIGKILL);
    assert_restarted_once(&root, "inner_proc", before[1]);
    assert_killed(&root, "inner_proc");

    for i in [0, 2, 3] {
        assert_untouched(&root, workers[i], before[i]);
    }
    let inner_now = root.node("inner");
    for key in ["state", "generation", "restarts", "last_exit"] {
        assert_eq!(
            inner_now[key], inner[key],
            "inner supervisor changed: {inner_now:#}"
        );
    }
}
