//! Reload by diff on a running tree: `podsup ctl reload [--dry-run]` and SIGHUP re-read
//! tree.toml, print the plan (added, removed and changed children, and what changed) and
//! restart only what changed, in the order the supervisor's strategy requires.
//!
//! Every test boots a root, rewrites its tree.toml, reloads, and compares each child's pid
//! and generation before and after: a child the plan does not touch keeps both, a changed
//! child (and the siblings its strategy takes along) runs a new process at the next
//! generation. An invalid file is refused with its located errors and leaves everything
//! as it was.

use std::path::Path;
use std::process::Output;

use podsup_tests::{
    Root, WAIT, alive, ctl_command, nodes, output_text, output_within, signal, wait_node,
    wait_until,
};

/// The four children of every strategy tree, in start order.
const CHILDREN: [&str; 4] = ["a", "b", "c", "d"];

/// A process child that sleeps until it is killed.
fn sleeper(name: &str) -> String {
    process(name, r#"["sleep", "1000"]"#)
}

/// A process child running `argv` (a TOML array).
fn process(name: &str, argv: &str) -> String {
    format!(
        r#"
[[child]]
name = "{name}"
kind = "process"
argv = {argv}
shutdown = "brutal_kill"
"#
    )
}

/// An echo pod with `COLOR` in its environment.
fn echo_pod(name: &str, color: &str) -> String {
    format!(
        r#"
[[child]]
name = "{name}"
kind = "pod"
engine = "echo"
env = {{ COLOR = "{color}" }}
"#
    )
}

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

/// A root tree with `strategy`, at most `max_restarts` in 60 s, over `children` (TOML
/// `[[child]]` tables, in start order).
fn tree(strategy: &str, max_restarts: u32, children: &[String]) -> String {
    format!(
        r#"name = "reload"
strategy = "{strategy}"
max_restarts = {max_restarts}
within = "60s"
{}"#,
        children.concat()
    )
}

/// The strategy trees' children: sleepers a and c, echo pods b (whose `COLOR` is
/// `b_color`) and d.
fn abcd(b_color: &str) -> Vec<String> {
    vec![
        sleeper("a"),
        echo_pod("b", b_color),
        sleeper("c"),
        echo_pod("d", "green"),
    ]
}

/// One child as seen at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    pid: u32,
    generation: u64,
}

fn seen(root: &Root, name: &str) -> Seen {
    let node = root.node(name);
    Seen {
        pid: node["pid"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has no pid: {node:#}\nlog:\n{}", root.log()))
            as u32,
        generation: node["generation"].as_u64().expect("generation"),
    }
}

/// Starts `toml` and waits until every one of `names` runs its first generation; returns
/// the root and what was seen of each name, in order.
fn start(toml: &str, names: &[&str]) -> (Root, Vec<Seen>) {
    let root = Root::start(toml);
    let before = names
        .iter()
        .map(|name| {
            root.wait_running(name, 1);
            seen(&root, name)
        })
        .collect();
    (root, before)
}

/// Replaces the root's tree.toml with `toml`.
fn rewrite(root: &Root, toml: &str) {
    std::fs::write(tree_path(root), toml).expect("rewrite tree.toml");
}

fn tree_path(root: &Root) -> std::path::PathBuf {
    root.dir().join("tree.toml")
}

/// Runs `ctl reload ARGS…`, failing the test if it hangs.
fn ctl_reload(root: &Root, args: &[&str]) -> Output {
    let args: Vec<&str> = ["reload"].iter().chain(args).copied().collect();
    output_within(&mut ctl_command(&root.runtime_dir(), &args), WAIT)
}

/// Runs `ctl reload ARGS…`, which must succeed; returns what it printed.
fn reload_ok(root: &Root, args: &[&str]) -> String {
    let out = ctl_reload(root, args);
    let text = output_text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "ctl reload {args:?}: {text}\nlog:\n{}",
        root.log()
    );
    text
}

/// Asserts that `plan` has a line containing `line`.
fn assert_plan_says(root: &Root, plan: &str, line: &str) {
    assert!(
        plan.lines().any(|l| l.contains(line)),
        "the plan does not say {line:?}:\n{plan}\nlog:\n{}",
        root.log()
    );
}

/// Asserts that `name` still runs the very process seen in `before`.
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

/// Waits until `name` runs the generation after `before` in a new process, the old one
/// gone; returns the new pid.
fn assert_restarted(root: &Root, name: &str, before: Seen) -> u32 {
    let pid = root.wait_running(name, before.generation + 1);
    assert_ne!(pid, before.pid, "{name} kept its pid");
    assert_gone(root, name, before.pid);
    pid
}

/// Waits until `pid` (once `name`'s process) is gone.
fn assert_gone(root: &Root, name: &str, pid: u32) {
    assert!(
        wait_until(WAIT, || !alive(pid)),
        "{name}'s process (pid {pid}) is still alive\nlog:\n{}",
        root.log()
    );
}

/// Asserts that the children in `restarted` were restarted and every other one of `names`
/// was not; `before` is what was seen of `names`, in order.
fn assert_only_restarted(root: &Root, names: &[&str], before: &[Seen], restarted: &[&str]) {
    for (name, &was) in names.iter().zip(before) {
        if restarted.contains(name) {
            assert_restarted(root, name, was);
        } else {
            assert_untouched(root, name, was);
        }
    }
}

/// The names of the root's children, in status order.
fn root_children(root: &Root) -> Vec<String> {
    let status = root.status();
    status["root"]["children"]
        .as_array()
        .unwrap_or_else(|| panic!("root without children: {status:#}"))
        .iter()
        .map(|c| c["name"].as_str().expect("child name").to_owned())
        .collect()
}

/// Whether the status lists a node called `name`, at any depth.
fn listed(root: &Root, name: &str) -> bool {
    nodes(&root.status()["root"])
        .iter()
        .any(|node| node["name"] == name)
}

/// `KEY=VALUE` entries of `pid`'s environment.
fn environ(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/environ: {e}"));
    raw.split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| String::from_utf8_lossy(entry).into_owned())
        .collect()
}

/// The argv of `pid`.
fn cmdline(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/cmdline: {e}"));
    raw.split(|&b| b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// Asserts that `name`'s process `pid` has `COLOR=color` in its environment.
fn assert_color(name: &str, pid: u32, color: &str) {
    let env = environ(pid);
    let want = format!("COLOR={color}");
    assert!(
        env.contains(&want),
        "{name} (pid {pid}) lacks {want}: {env:?}"
    );
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
fn policy_change_is_applied_in_place_without_restarting_anything() {
    // At most one restart a minute: a second crash would take the tree down, unless the
    // reload's max_restarts = 5 is in effect.
    let (root, before) = start(&tree("one_for_one", 1, &abcd("red")), &CHILDREN);

    rewrite(&root, &tree("one_for_one", 5, &abcd("red")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ policy: intensity (applied in place)");
    assert!(
        !plan.contains(" will be "),
        "the plan touches a child:\n{plan}"
    );
    assert_only_restarted(&root, &CHILDREN, &before, &[]);

    let mut a = before[0];
    for _ in 0..2 {
        signal(a.pid, libc::SIGKILL);
        let pid = root.wait_running("a", a.generation + 1);
        a = Seen {
            pid,
            generation: a.generation + 1,
        };
    }
    assert_eq!(
        root.status()["root"]["state"],
        "running",
        "log:\n{}",
        root.log()
    );
    for i in 1..4 {
        assert_untouched(&root, CHILDREN[i], before[i]);
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

#[test]
fn sighup_with_an_invalid_file_leaves_the_tree_untouched() {
    let (root, before) = start(&tree("one_for_one", 10, &abcd("red")), &CHILDREN);

    let bad = tree("one_for_one", 10, &abcd("blue")).replace("shutdown =", "shutdwn =");
    rewrite(&root, &bad);
    signal(root.pid(), libc::SIGHUP);

    assert!(
        wait_until(WAIT, || root.log().contains("reload refused")),
        "SIGHUP with an invalid file: no refusal in the log:\n{}",
        root.log()
    );
    assert!(root.log().contains("shutdwn"), "log:\n{}", root.log());
    assert_only_restarted(&root, &CHILDREN, &before, &[]);
}

/// A tree.toml `broken` is refused by `ctl reload` (exit 2, the error located at the line
/// holding the last occurrence of `at`, "unchanged") and changes nothing; a valid file
/// reloaded afterwards is applied.
fn invalid_file_is_refused(broken: &str, at: &str) {
    let valid = tree("one_for_one", 10, &abcd("red"));
    let (root, before) = start(&valid, &CHILDREN);

    rewrite(&root, broken);
    for args in [&[][..], &["--dry-run"][..]] {
        let out = ctl_reload(&root, args);
        let text = output_text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "ctl reload {args:?} of an invalid file: {text}\nlog:\n{}",
            root.log()
        );
        let line = broken
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains(at))
            .last()
            .unwrap_or_else(|| panic!("{at:?} not in the broken file"))
            .0
            + 1;
        assert_located(&text, &tree_path(&root), line);
        assert!(text.contains("unchanged"), "ctl reload {args:?}: {text}");
        assert_only_restarted(&root, &CHILDREN, &before, &[]);
        assert_eq!(root_children(&root), CHILDREN);
    }

    rewrite(&root, &tree("one_for_one", 10, &abcd("blue")));
    let plan = reload_ok(&root, &[]);
    assert_plan_says(&root, &plan, "~ b: env changed");
    assert_only_restarted(&root, &CHILDREN, &before, &["b"]);
}

/// Asserts that `text` has a `PATH:LINE:COLUMN: error:` line for `path` at `line`.
fn assert_located(text: &str, path: &Path, line: usize) {
    let prefix = format!("{}:{line}:", path.display());
    let located = text.lines().any(|l| {
        l.split_once(&prefix).is_some_and(|(_, rest)| {
            rest.split_once(':').is_some_and(|(column, message)| {
                column.parse::<usize>().is_ok() && message.starts_with(" error:")
            })
        })
    });
    assert!(located, "no {prefix}COLUMN: error: line in:\n{text}");
}

#[test]
fn reload_of_a_file_with_a_syntax_error_is_refused_and_changes_nothing() {
    let broken = tree("one_for_one", 10, &abcd("blue"))
        .replace("name = \"c\"", "name = \"c\"\nthis is not toml");
    invalid_file_is_refused(&broken, "this is not toml");
}

#[test]
fn reload_of_a_file_with_an_unknown_key_is_refused_and_changes_nothing() {
    let broken = tree("one_for_one", 10, &abcd("blue"))
        .replace("name = \"c\"", "name = \"c\"\ncolour = \"red\"");
    invalid_file_is_refused(&broken, "colour");
}

#[test]
fn reload_of_a_file_with_a_duplicate_name_is_refused_and_changes_nothing() {
    let mut children = abcd("blue");
    children.push(sleeper("c"));
    let broken = tree("one_for_one", 10, &children);
    invalid_file_is_refused(&broken, "name = \"c\"");
}

/// Runs `ctl ARGS…`, which must succeed.
fn ctl_ok(root: &Root, args: &[&str]) {
    let out = root.ctl(args);
    assert!(
        out.status.success(),
        "ctl {args:?}: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
}

/// Stops `name` with `ctl stop` and waits until its process `pid` is gone; returns its node.
fn operator_stop(root: &Root, name: &str, pid: u32) -> serde_json::Value {
    ctl_ok(root, &["stop", name]);
    let node = root.wait_state(name, "stopped");
    assert_gone(root, name, pid);
    node
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

#[test]
fn reordered_children_take_the_files_order_without_restarting() {
    // Order is the start order, the reverse shutdown order and, under rest_for_one, who
    // depends on whom: a reload must not leave the running tree in the old order while
    // saying there is nothing to do.
    let (root, before) = start(&tree("rest_for_one", 10, &abcd("red")), &CHILDREN);

    let mut children = abcd("red");
    children.swap(2, 3);
    rewrite(&root, &tree("rest_for_one", 10, &children));
    let plan = reload_ok(&root, &[]);

    assert_only_restarted(&root, &CHILDREN, &before, &[]);
    assert_eq!(
        root_children(&root),
        ["a", "b", "d", "c"],
        "plan:\n{plan}\nlog:\n{}",
        root.log()
    );
    assert!(
        !plan.contains("no changes"),
        "the plan hides the new order:\n{plan}"
    );
}

#[test]
fn strategy_change_is_applied_in_place_and_governs_the_next_crash() {
    let (root, before) = start(&tree("one_for_one", 10, &abcd("red")), &CHILDREN);

    rewrite(&root, &tree("one_for_all", 10, &abcd("red")));
    let plan = reload_ok(&root, &[]);

    assert_plan_says(&root, &plan, "~ policy: strategy (applied in place)");
    assert!(!plan.contains(" will be "), "{plan}");
    assert_only_restarted(&root, &CHILDREN, &before, &[]);

    signal(before[2].pid, libc::SIGKILL);
    assert_only_restarted(&root, &CHILDREN, &before, &CHILDREN);
}
