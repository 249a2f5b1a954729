//! Reload by diff on a running tree: `podsup ctl reload [--dry-run]` and SIGHUP re-read
//! tree.toml, print the plan (added, removed and changed children, and what changed) and
//! restart only what changed, in the order the supervisor's strategy requires.
//!
//! Every test boots a root, rewrites its tree.toml, reloads, and compares each child's pid
//! and generation before and after (`podsup_tests::reloading`): a child the plan does not
//! touch keeps both, a changed child (and the siblings its strategy takes along) runs a new
//! process at the next generation. What is applied in place, how a reload meets the
//! operator's stop, and invalid files are in `reload_in_place.rs`, `reload_stopped.rs` and
//! `reload_refused.rs`.

use podsup_tests::reloading::{
    CHILDREN, abcd, assert_color, assert_gone, assert_only_restarted, assert_plan_says,
    assert_restarted, assert_untouched, cmdline, echo_pod, listed, process, reload_ok, rewrite,
    root_children, seen, sleeper, start, tree,
};
use podsup_tests::{WAIT, signal, wait_node, wait_until};

/// An echo pod that answers in chunks of `chunk_chars`.
fn chunky_pod(name: &str, chunk_chars: u32) -> String {
    format!(
        r#"
[[child]]
name = "{name}"
kind = "pod"
engine = "echo"
echo = {{ chunk_chars = {chunk_chars} }}
"#
    )
}

/// Changing b's env under `strategy`: the plan names it, and exactly `restarted` get new
/// processes at the next generation while the others keep theirs.
fn env_change_restarts(strategy: &str, restarted: &[&str]) {
    let (root, before) = start(&tree(strategy, 10, &abcd("red")), &CHILDREN);
    assert_color("b", before[1].pid, "red");

    rewrite(&root, &tree(strategy, 10, &abcd("blue")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(
        &root,
        &plan,
        "~ b: env changed, will be restarted per strategy",
    );
    for name in ["a", "c", "d"] {
        assert!(
            !plan.contains(&format!(" {name}:")),
            "the plan names unchanged {name}:\n{plan}"
        );
    }
    assert_only_restarted(&root, &CHILDREN, &before, restarted);
    assert_color("b", root.pid_of("b"), "blue");
}

#[test]
fn one_for_one_env_change_restarts_only_that_child() {
    env_change_restarts("one_for_one", &["b"]);
}

#[test]
fn rest_for_one_env_change_restarts_that_child_and_the_later_siblings() {
    env_change_restarts("rest_for_one", &["b", "c", "d"]);
}

#[test]
fn one_for_all_env_change_restarts_every_sibling() {
    env_change_restarts("one_for_all", &["a", "b", "c", "d"]);
}

/// Adding a child between b and c under `strategy` starts only it, where the file puts it.
fn added_child_starts_alone(strategy: &str) {
    let (root, before) = start(&tree(strategy, 10, &abcd("red")), &CHILDREN);

    let mut children = abcd("red");
    children.insert(2, sleeper("new"));
    rewrite(&root, &tree(strategy, 10, &children));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "+ new: added, will be started");
    assert_eq!(plan.matches(" will be ").count(), 1, "plan:\n{plan}");
    let pid = root.wait_running("new", 1);
    assert_eq!(cmdline(pid), ["sleep", "1000"], "new (pid {pid})");
    assert_only_restarted(&root, &CHILDREN, &before, &[]);
    assert_eq!(root_children(&root), ["a", "b", "new", "c", "d"]);
}

#[test]
fn one_for_one_added_child_alone_is_started_in_file_order() {
    added_child_starts_alone("one_for_one");
}

#[test]
fn rest_for_one_added_child_alone_is_started_in_file_order() {
    added_child_starts_alone("rest_for_one");
}

#[test]
fn one_for_all_added_child_alone_is_started_in_file_order() {
    added_child_starts_alone("one_for_all");
}

/// Removing b under `strategy` stops only b and drops it from the status.
fn removed_child_stops_alone(strategy: &str) {
    let (root, before) = start(&tree(strategy, 10, &abcd("red")), &CHILDREN);

    let mut children = abcd("red");
    children.remove(1);
    rewrite(&root, &tree(strategy, 10, &children));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "- b: removed, will be stopped");
    assert_eq!(plan.matches(" will be ").count(), 1, "plan:\n{plan}");
    assert_gone(&root, "b", before[1].pid);
    assert!(
        !listed(&root, "b"),
        "b is still listed: {:#}",
        root.status()
    );
    assert_eq!(root_children(&root), ["a", "c", "d"]);
    for i in [0, 2, 3] {
        assert_untouched(&root, CHILDREN[i], before[i]);
    }
}

#[test]
fn one_for_one_removed_child_alone_is_stopped_and_unlisted() {
    removed_child_stops_alone("one_for_one");
}

#[test]
fn rest_for_one_removed_child_alone_is_stopped_and_unlisted() {
    removed_child_stops_alone("rest_for_one");
}

#[test]
fn one_for_all_removed_child_alone_is_stopped_and_unlisted() {
    removed_child_stops_alone("one_for_all");
}

#[test]
fn changed_argv_restarts_the_process_with_the_new_argv() {
    let children = |c_argv: &str| {
        vec![
            sleeper("a"),
            echo_pod("b", "red"),
            process("c", c_argv),
            echo_pod("d", "green"),
        ]
    };
    let toml = |c_argv: &str| tree("one_for_one", 10, &children(c_argv));
    let (root, before) = start(&toml(r#"["sleep", "1000"]"#), &CHILDREN);

    rewrite(&root, &toml(r#"["sleep", "2000"]"#));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ c: argv changed, will be restarted");
    assert_only_restarted(&root, &CHILDREN, &before, &["c"]);
    let pid = root.pid_of("c");
    assert_eq!(cmdline(pid), ["sleep", "2000"], "c (pid {pid})");
}

#[test]
fn changed_engine_settings_restart_the_pod() {
    let toml = |chunk_chars| {
        tree(
            "one_for_one",
            10,
            &[
                sleeper("a"),
                chunky_pod("b", chunk_chars),
                sleeper("c"),
                echo_pod("d", "green"),
            ],
        )
    };
    let (root, before) = start(&toml(16), &CHILDREN);

    rewrite(&root, &toml(2));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ b: engine changed, will be restarted");
    assert_only_restarted(&root, &CHILDREN, &before, &["b"]);
}

/// A one_for_all root over a pod, a one_for_one supervisor of a sleeper and a pod whose
/// `COLOR` is `color`, and a sleeper.
fn nested_tree(color: &str) -> String {
    tree(
        "one_for_all",
        10,
        &[
            echo_pod("front", "green"),
            format!(
                r#"
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
  env = {{ COLOR = "{color}" }}
"#
            ),
            sleeper("back"),
        ],
    )
}

#[test]
fn nested_supervisor_is_reloaded_in_place_restarting_only_its_changed_child() {
    let workers = ["front", "inner_proc", "inner_pod", "back"];
    let (root, before) = start(&nested_tree("red"), &workers);
    let inner = wait_node(&root, "inner", "first start", |n| {
        n["state"] == "running" && n["generation"] == 1
    });

    rewrite(&root, &nested_tree("blue"));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "supervisor inner:");
    assert_plan_says(&root, &plan, "~ inner_pod: env changed");
    assert!(
        !plan.contains("~ inner:"),
        "the plan restarts the supervisor itself:\n{plan}"
    );
    assert_only_restarted(&root, &workers, &before, &["inner_pod"]);
    assert_color("inner_pod", root.pid_of("inner_pod"), "blue");
    let inner_now = root.node("inner");
    for key in ["state", "generation", "restarts"] {
        assert_eq!(
            inner_now[key], inner[key],
            "the inner supervisor was restarted: {inner_now:#}"
        );
    }
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let (root, before) = start(&tree("one_for_all", 10, &abcd("red")), &CHILDREN);

    let mut children = abcd("blue");
    children.remove(3);
    children.push(sleeper("e"));
    rewrite(&root, &tree("one_for_all", 10, &children));
    let plan = reload_ok(&root, &["--dry-run"]);

    assert_plan_says(&root, &plan, "dry run, nothing applied");
    assert_plan_says(&root, &plan, "~ b: env changed");
    assert_plan_says(&root, &plan, "- d: removed");
    assert_plan_says(&root, &plan, "+ e: added");
    assert_only_restarted(&root, &CHILDREN, &before, &[]);
    assert!(!listed(&root, "e"), "e was started: {:#}", root.status());
    assert_eq!(root_children(&root), CHILDREN);

    // Nothing was taken as applied: the real reload still has all of it to do.
    let plan = reload_ok(&root, &[]);
    assert!(!plan.contains("dry run"), "{plan}");
    assert_plan_says(&root, &plan, "~ b: env changed");
    assert_plan_says(&root, &plan, "- d: removed");
    assert_plan_says(&root, &plan, "+ e: added");
    assert_gone(&root, "d", before[3].pid);
    for i in 0..3 {
        assert_restarted(&root, CHILDREN[i], before[i]);
    }
    root.wait_running("e", 1);
    assert_eq!(root_children(&root), ["a", "b", "c", "e"]);
}

#[test]
fn reloading_an_unchanged_file_says_no_changes_and_restarts_nothing() {
    let (root, before) = start(&tree("one_for_one", 10, &abcd("red")), &CHILDREN);

    rewrite(&root, &tree("one_for_one", 10, &abcd("blue")));
    reload_ok(&root, &[]);
    let b = assert_restarted(&root, "b", before[1]);
    let mut after = before.clone();
    after[1] = seen(&root, "b");
    assert_eq!(after[1].pid, b);

    let plan = reload_ok(&root, &[]);
    assert_plan_says(&root, &plan, "no changes");
    assert!(!plan.contains(" will be "), "{plan}");
    assert_only_restarted(&root, &CHILDREN, &after, &[]);
}

#[test]
fn sighup_applies_the_new_tree_like_ctl_reload() {
    let (root, before) = start(&tree("rest_for_one", 10, &abcd("red")), &CHILDREN);

    rewrite(&root, &tree("rest_for_one", 10, &abcd("blue")));
    signal(root.pid(), libc::SIGHUP);

    assert_only_restarted(&root, &CHILDREN, &before, &["b", "c", "d"]);
    assert_color("b", root.pid_of("b"), "blue");
    assert!(
        wait_until(WAIT, || root.log().contains("~ b: env changed")),
        "the log does not show the plan:\n{}",
        root.log()
    );
}
