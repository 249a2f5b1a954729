//! `podsup ctl` verbs on children as an operator uses them: stopping, starting and
//! restarting, the errors an operator can run into, and an operator's stop held across a
//! restart of the child's supervisor or of podsup itself.

use podsup_tests::ctl_trees::{LOOP, all_tree, wait_all_running};
use podsup_tests::{Root, WAIT, alive, output_text, signal, stderr_text, wait_until};
use serde_json::Value;

#[test]
fn stop_holds_a_permanent_child_down_while_siblings_restart() {
    let root = Root::start(&all_tree());
    wait_all_running(&root, &["first", "x", "last"]);
    let x_pid = root.pid_of("x");
    let said = root.ctl_ok(&["stop", "x"]);
    assert!(said.contains('x'), "{said}");
    let node = root.wait_state("x", "stopped");
    assert_eq!(node["pid"], Value::Null, "{node}");
    assert!(
        wait_until(WAIT, || !alive(x_pid)),
        "x (pid {x_pid}) still alive after ctl stop"
    );

    // Prove the supervisor keeps working (one_for_all restarts everyone not held down)…
    let last_pid = root.pid_of("last");
    signal(last_pid, libc::SIGKILL);
    root.wait_running("last", 2);
    root.wait_running("first", 2);
    // …and that it left x alone.
    let node = root.node("x");
    assert_eq!(node["state"], "stopped", "{node}");
    assert_eq!(node["pid"], Value::Null, "{node}");
    assert_eq!(node["generation"], 1, "{node}");
}

#[test]
fn stop_twice_fails_with_a_clear_message() {
    let root = Root::start(&all_tree());
    root.wait_running("x", 1);
    root.ctl_ok(&["stop", "x"]);
    root.wait_state("x", "stopped");
    let out = root.ctl(&["stop", "x"]);
    assert!(
        !out.status.success(),
        "second stop succeeded: {}",
        output_text(&out)
    );
    let msg = stderr_text(&out);
    assert!(msg.contains("x is already stopped"), "{msg}");
}

#[test]
fn start_after_stop_runs_the_next_generation() {
    let root = Root::start(&all_tree());
    let old = root.wait_running("x", 1);
    root.ctl_ok(&["stop", "x"]);
    root.wait_state("x", "stopped");
    let said = root.ctl_ok(&["start", "x"]);
    assert!(said.contains('x'), "{said}");
    let new = root.wait_running("x", 2);
    assert_ne!(old, new);
    assert!(alive(new));

    let out = root.ctl(&["start", "x"]);
    assert!(
        !out.status.success(),
        "start of a running child succeeded: {}",
        output_text(&out)
    );
    assert!(
        stderr_text(&out).contains("already running"),
        "{}",
        stderr_text(&out)
    );
}

#[test]
fn restart_replaces_only_that_child_even_under_one_for_all() {
    let root = Root::start(&all_tree());
    wait_all_running(&root, &["first", "x", "last"]);
    let before: Vec<u32> = ["first", "x", "last"]
        .iter()
        .map(|n| root.pid_of(n))
        .collect();
    root.ctl_ok(&["restart", "x"]);
    let new = root.wait_running("x", 2);
    assert_ne!(new, before[1], "restart kept the old pid");
    assert!(wait_until(WAIT, || !alive(before[1])), "old x still alive");
    for (name, pid) in [("first", before[0]), ("last", before[2])] {
        let node = root.node(name);
        assert_eq!(node["pid"], pid, "{name} was touched: {node}");
        assert_eq!(node["generation"], 1, "{name} was touched: {node}");
        assert_eq!(node["state"], "running", "{node}");
        assert!(alive(pid));
    }
}

#[test]
fn stop_of_an_unknown_name_exits_1_naming_it() {
    let root = Root::start(&all_tree());
    let out = root.ctl(&["stop", "nosuch"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(
        stderr_text(&out).contains("nosuch"),
        "{}",
        stderr_text(&out)
    );
}

#[test]
fn stop_of_the_root_is_refused() {
    let root = Root::start(&all_tree());
    wait_all_running(&root, &["first", "x", "last"]);
    let out = root.ctl(&["stop", "root"]);
    assert!(
        !out.status.success(),
        "stop root succeeded: {}",
        output_text(&out)
    );
    let msg = stderr_text(&out);
    assert!(msg.contains("root") && msg.contains("shutdown"), "{msg}");
    let status = root.status();
    assert_eq!(status["root"]["state"], "running", "{status:#}");
    for name in ["first", "x", "last"] {
        assert_eq!(root.node(name)["state"], "running");
    }
}

#[test]
fn stopped_child_stays_stopped_across_a_root_restart() {
    // DESIGN §4: operator intent is durable until `ctl start`.
    let mut root = Root::start(&all_tree());
    wait_all_running(&root, &["first", "x", "last"]);
    root.ctl_ok(&["stop", "x"]);
    root.wait_state("x", "stopped");
    root.ctl_ok(&["shutdown"]);
    let status = root
        .wait_exit(WAIT)
        .expect("podsup start exits after shutdown");
    assert!(status.success(), "{status:?}");

    root.start_again();
    root.wait_running("first", 1);
    root.wait_running("last", 1);
    let node = root.node("x");
    assert_eq!(
        node["state"], "stopped",
        "x was started again after a root restart: {node:#}"
    );
    assert_eq!(node["pid"], Value::Null, "{node:#}");

    root.ctl_ok(&["start", "x"]);
    root.wait_state("x", "running");
}

#[test]
fn stopped_child_stays_stopped_when_its_supervisor_is_restarted() {
    // The root restarts "inner" (with its children) when "crasher" dies: one_for_all.
    let tree = format!(
        r#"
name = "ctl-held-nested"
strategy = "one_for_all"
max_restarts = 100
within = "10s"

[[child]]
name = "crasher"
kind = "process"
argv = {LOOP}

[[child]]
name = "inner"
kind = "supervisor"
  [[child.child]]
  name = "held"
  kind = "process"
  argv = {LOOP}
  [[child.child]]
  name = "sibling"
  kind = "process"
  argv = {LOOP}
"#
    );
    let root = Root::start(&tree);
    wait_all_running(&root, &["crasher", "held", "sibling"]);
    root.ctl_ok(&["stop", "held"]);
    root.wait_state("held", "stopped");

    signal(root.pid_of("crasher"), libc::SIGKILL);
    root.wait_running("crasher", 2);
    root.wait_running("sibling", 2);
    let inner_restarted = wait_until(WAIT, || {
        let inner = root.node("inner");
        inner["state"] == "running" && inner["generation"] == 2
    });
    assert!(
        inner_restarted,
        "inner was not restarted: {:#}",
        root.status()
    );
    let node = root.node("held");
    assert_eq!(
        node["state"], "stopped",
        "the operator stopped it, yet its supervisor's restart started it: {node:#}"
    );
    assert_eq!(node["pid"], Value::Null, "{node:#}");
}
