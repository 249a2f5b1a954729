//! Reload and the operator's stop: a changed child the operator stopped keeps its new spec
//! but stays stopped (and takes no sibling along), a stopped sibling is not started by a
//! strategy restart, and a child removed while stopped and added back is started.

use podsup_tests::reloading::{
    CHILDREN, abcd, assert_color, assert_gone, assert_plan_says, assert_restarted,
    assert_untouched, listed, reload_ok, rewrite, start, tree,
};
use podsup_tests::{Root, output_text, wait_node};

/// Stops `name` with `ctl stop` and waits until its process `pid` is gone; returns its node.
fn operator_stop(root: &Root, name: &str, pid: u32) -> serde_json::Value {
    root.ctl_ok(&["stop", name]);
    let node = root.wait_state(name, "stopped");
    assert_gone(root, name, pid);
    node
}

#[test]
fn changed_child_stopped_by_the_operator_stays_stopped() {
    let (root, before) = start(&tree("one_for_one", 10, &abcd("red")), &CHILDREN);
    let out = root.ctl(&["stop", "b"]);
    assert!(out.status.success(), "ctl stop b: {}", output_text(&out));
    let stopped = root.wait_state("b", "stopped");
    assert_gone(&root, "b", before[1].pid);

    rewrite(&root, &tree("one_for_one", 10, &abcd("blue")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ b: env changed");
    let node = root.node("b");
    assert_eq!(node["state"], "stopped", "b was started: {node:#}");
    assert!(node["pid"].is_null(), "b has a pid: {node:#}");
    assert_eq!(node["generation"], stopped["generation"], "{node:#}");
    for i in [0, 2, 3] {
        assert_untouched(&root, CHILDREN[i], before[i]);
    }

    // Started again by the operator, it runs the new spec.
    let out = root.ctl(&["start", "b"]);
    assert!(out.status.success(), "ctl start b: {}", output_text(&out));
    let pid = root.wait_running("b", 2);
    assert_color("b", pid, "blue");
}

#[test]
fn rest_for_one_changed_stopped_child_takes_no_later_sibling_along() {
    // b is held down, so the reload does not restart it: nothing happens to b that c and d
    // depend on, and the plan names only b.
    let (root, before) = start(&tree("rest_for_one", 10, &abcd("red")), &CHILDREN);
    operator_stop(&root, "b", before[1].pid);

    rewrite(&root, &tree("rest_for_one", 10, &abcd("blue")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ b: env changed");
    assert_eq!(root.node("b")["state"], "stopped", "{:#}", root.node("b"));
    for i in [0, 2, 3] {
        assert_untouched(&root, CHILDREN[i], before[i]);
    }
}

#[test]
fn one_for_all_reload_leaves_a_stopped_sibling_stopped() {
    let (root, before) = start(&tree("one_for_all", 10, &abcd("red")), &CHILDREN);
    let a = operator_stop(&root, "a", before[0].pid);

    rewrite(&root, &tree("one_for_all", 10, &abcd("blue")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ b: env changed");
    for i in 1..4 {
        assert_restarted(&root, CHILDREN[i], before[i]);
    }
    let node = root.node("a");
    assert_eq!(node["state"], "stopped", "a was started: {node:#}");
    assert_eq!(node["generation"], a["generation"], "{node:#}");
}

#[test]
fn child_removed_while_stopped_and_added_back_is_started() {
    // Removal forgets the child; the plan of the re-adding reload says it will be started.
    let (root, before) = start(&tree("one_for_one", 10, &abcd("red")), &CHILDREN);
    operator_stop(&root, "b", before[1].pid);

    let mut without_b = abcd("red");
    without_b.remove(1);
    rewrite(&root, &tree("one_for_one", 10, &without_b));
    assert_plan_says(&root, &reload_ok(&root, &[]), "- b: removed");
    assert!(!listed(&root, "b"), "b is still listed");

    rewrite(&root, &tree("one_for_one", 10, &abcd("red")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "+ b: added, will be started");
    let node = wait_node(&root, "b", "start as the plan said", |n| {
        n["state"] == "running" && n["pid"].is_u64()
    });
    assert_eq!(node["generation"], 1, "{node:#}");
    for i in [0, 2, 3] {
        assert_untouched(&root, CHILDREN[i], before[i]);
    }
}
