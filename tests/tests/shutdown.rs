//! Orderly shutdown: `ctl shutdown`, SIGTERM and SIGINT stop the tree in reverse start
//! order (nested supervisors first stop their own children), `podsup start` exits 0, and
//! each child's shutdown spec is honoured — SIGTERM then SIGKILL after the timeout, or
//! SIGKILL at once for `brutal_kill`.

use std::path::Path;
use std::time::{Duration, Instant};

use podsup_tests::{Root, WAIT, alive, output_text, signal, wait_until};
use serde_json::Value;

/// The file the children append their names to on SIGTERM, relative to the tree's dir
/// (every child runs with `cwd = "."`, which is the tree file's directory).
const ORDER_FILE: &str = "order.log";

/// A process child that appends its name to [`ORDER_FILE`] when it gets SIGTERM, then exits 0.
fn logging_child(name: &str, indent: &str, table: &str) -> String {
    format!(
        r#"
{indent}[[{table}]]
{indent}name = "{name}"
{indent}kind = "process"
{indent}cwd = "."
{indent}argv = ["sh", "-c", "trap 'echo {name} >> {ORDER_FILE}; exit 0' TERM; while :; do sleep 0.05; done"]
"#
    )
}

/// A flat tree of three logging children a, b, c.
fn flat_tree() -> String {
    let mut tree = "name = \"shutdown-flat\"\n".to_owned();
    for name in ["a", "b", "c"] {
        tree += &logging_child(name, "", "child");
    }
    tree
}

/// The names in the order file, in the order they were written.
fn stop_order(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join(ORDER_FILE))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn pids(root: &Root, names: &[&str]) -> Vec<u32> {
    names.iter().map(|n| root.wait_running(n, 1)).collect()
}

/// Waits for `podsup start` to exit, asserts it exited 0 and every pid is gone.
fn assert_clean_exit(root: &mut Root, pids: &[u32]) {
    let status = root
        .wait_exit(WAIT)
        .unwrap_or_else(|| panic!("podsup start did not exit; log:\n{}", root.log()));
    assert!(status.success(), "exit {status:?}; log:\n{}", root.log());
    assert!(
        wait_until(WAIT, || pids.iter().all(|&p| !alive(p))),
        "children outlived the root: {pids:?}"
    );
}

fn shuts_down_in_reverse_order(trigger: impl FnOnce(&Root)) {
    let mut root = Root::start(&flat_tree());
    let pids = pids(&root, &["a", "b", "c"]);
    trigger(&root);
    assert_clean_exit(&mut root, &pids);
    assert_eq!(
        stop_order(root.dir()),
        ["c", "b", "a"],
        "log:\n{}",
        root.log()
    );
}

#[test]
fn ctl_shutdown_stops_children_in_reverse_start_order_and_exits_0() {
    shuts_down_in_reverse_order(|root| {
        let out = root.ctl(&["shutdown"]);
        assert!(out.status.success(), "{}", output_text(&out));
    });
}

#[test]
fn sigterm_stops_children_in_reverse_start_order_and_exits_0() {
    shuts_down_in_reverse_order(|root| signal(root.pid(), libc::SIGTERM));
}

#[test]
fn sigint_stops_children_in_reverse_start_order_and_exits_0() {
    shuts_down_in_reverse_order(|root| signal(root.pid(), libc::SIGINT));
}

#[test]
fn nested_supervisor_stops_its_children_before_earlier_siblings() {
    let mut tree = "name = \"shutdown-nested\"\n".to_owned();
    tree += &logging_child("a", "", "child");
    tree += "\n[[child]]\nname = \"inner\"\nkind = \"supervisor\"\n";
    tree += &logging_child("b1", "  ", "child.child");
    tree += &logging_child("b2", "  ", "child.child");
    tree += &logging_child("c", "", "child");
    let mut root = Root::start(&tree);
    let pids = pids(&root, &["a", "b1", "b2", "c"]);
    let out = root.ctl(&["shutdown"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_clean_exit(&mut root, &pids);
    assert_eq!(
        stop_order(root.dir()),
        ["c", "b2", "b1", "a"],
        "log:\n{}",
        root.log()
    );
}

const IGNORES_TERM: &str = r#"["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"]"#;

#[test]
fn child_ignoring_sigterm_is_killed_after_its_shutdown_timeout() {
    let tree = format!(
        r#"
name = "shutdown-stubborn"

[[child]]
name = "stubborn"
kind = "process"
argv = {IGNORES_TERM}
shutdown = "1s"
"#
    );
    let mut root = Root::start(&tree);
    let pid = root.wait_running("stubborn", 1);
    let asked = Instant::now();
    let out = root.ctl(&["shutdown"]);
    assert!(out.status.success(), "{}", output_text(&out));
    // The root has sent SIGTERM once the child is stopping; it must survive that.
    let stopping = wait_until(WAIT, || {
        root.try_status()
            .is_some_and(|s| s["root"]["children"][0]["state"] == "stopping")
    });
    assert!(
        stopping,
        "never saw stubborn stopping; log:\n{}",
        root.log()
    );
    assert!(
        alive(pid),
        "stubborn was killed before its 1s shutdown timeout"
    );
    assert_clean_exit(&mut root, &[pid]);
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_millis(950),
        "shutdown took only {took:?}; SIGKILL came early"
    );
}

#[test]
fn brutal_kill_child_is_killed_without_sigterm() {
    let tree = format!(
        r#"
name = "shutdown-brutal"

[[child]]
name = "brutal"
kind = "process"
cwd = "."
argv = ["sh", "-c", "trap 'echo brutal >> {ORDER_FILE}' TERM; while :; do sleep 0.05; done"]
shutdown = "brutal_kill"
"#
    );
    let root = Root::start(&tree);
    let pid = root.wait_running("brutal", 1);
    let out = root.ctl(&["stop", "brutal"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let node = root.wait_state("brutal", "stopped");
    assert!(wait_until(WAIT, || !alive(pid)), "brutal still alive");
    let last = &node["last_exit"];
    assert_eq!(last["signal"], 9, "{node}");
    assert!(
        last["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("brutal_kill"),
        "{node}"
    );
    assert!(
        stop_order(root.dir()).is_empty(),
        "brutal got SIGTERM first"
    );
}

#[test]
fn brutal_kill_child_does_not_delay_shutdown() {
    let tree = format!(
        r#"
name = "shutdown-brutal-tree"

[[child]]
name = "brutal"
kind = "process"
argv = {IGNORES_TERM}
shutdown = "brutal_kill"
"#
    );
    let mut root = Root::start(&tree);
    let pid = root.wait_running("brutal", 1);
    let asked = Instant::now();
    signal(root.pid(), libc::SIGTERM);
    assert_clean_exit(&mut root, &[pid]);
    // The default timeout would be 5s; brutal_kill must not wait for any of it.
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "shutdown took {took:?}; log:\n{}",
        root.log()
    );
}

#[test]
fn ctl_stop_of_child_ignoring_sigterm_kills_it_after_the_timeout() {
    let tree = format!(
        r#"
name = "stop-stubborn"

[[child]]
name = "stubborn"
kind = "process"
argv = {IGNORES_TERM}
shutdown = "500ms"
"#
    );
    let root = Root::start(&tree);
    let pid = root.wait_running("stubborn", 1);
    let asked = Instant::now();
    let out = root.ctl(&["stop", "stubborn"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let node = root.wait_state("stubborn", "stopped");
    assert!(
        asked.elapsed() >= Duration::from_millis(450),
        "stopped before the timeout"
    );
    assert!(wait_until(WAIT, || !alive(pid)), "stubborn still alive");
    assert_eq!(node["pid"], Value::Null, "{node}");
    let last = &node["last_exit"];
    assert_eq!(last["signal"], 9, "{node}");
    let reason = last["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("timeout"),
        "reason should mention the timeout: {node}"
    );
}
