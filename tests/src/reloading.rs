use std::process::Output;

use crate::{Root, WAIT, alive, ctl_command, nodes, output_text, output_within, wait_until};

/// The four children of every strategy tree, in start order.
pub const CHILDREN: [&str; 4] = ["a", "b", "c", "d"];

/// A process child that sleeps until it is killed.
pub fn sleeper(name: &str) -> String {
    process(name, r#"["sleep", "1000"]"#)
}

/// A process child running `argv` (a TOML array).
pub fn process(name: &str, argv: &str) -> String {
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
pub fn echo_pod(name: &str, color: &str) -> String {
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

/// A root tree with `strategy`, at most `max_restarts` in 60 s, over `children` (TOML
/// `[[child]]` tables, in start order).
pub fn tree(strategy: &str, max_restarts: u32, children: &[String]) -> String {
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
pub fn abcd(b_color: &str) -> Vec<String> {
    vec![
        sleeper("a"),
        echo_pod("b", b_color),
        sleeper("c"),
        echo_pod("d", "green"),
    ]
}

/// One child as seen at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Its process.
    pub pid: u32,
    /// Its generation.
    pub generation: u64,
}

/// What `ctl status` shows of `name` now: its pid and generation.
pub fn seen(root: &Root, name: &str) -> Seen {
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
pub fn start(toml: &str, names: &[&str]) -> (Root, Vec<Seen>) {
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
pub fn rewrite(root: &Root, toml: &str) {
    std::fs::write(tree_path(root), toml).expect("rewrite tree.toml");
}

/// The root's tree.toml.
pub fn tree_path(root: &Root) -> std::path::PathBuf {
    root.dir().join("tree.toml")
}

/// Runs `ctl reload ARGS…`, failing the test if it hangs.
pub fn ctl_reload(root: &Root, args: &[&str]) -> Output {
    let args: Vec<&str> = ["reload"].iter().chain(args).copied().collect();
    output_within(&mut ctl_command(&root.runtime_dir(), &args), WAIT)
}

/// Runs `ctl reload ARGS…`, which must succeed; returns what it printed.
pub fn reload_ok(root: &Root, args: &[&str]) -> String {
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
pub fn assert_plan_says(root: &Root, plan: &str, line: &str) {
    assert!(
        plan.lines().any(|l| l.contains(line)),
        "the plan does not say {line:?}:\n{plan}\nlog:\n{}",
        root.log()
    );
}

/// Asserts that `name` still runs the very process seen in `before`.
pub fn assert_untouched(root: &Root, name: &str, before: Seen) {
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
pub fn assert_restarted(root: &Root, name: &str, before: Seen) -> u32 {
    let pid = root.wait_running(name, before.generation + 1);
    assert_ne!(pid, before.pid, "{name} kept its pid");
    assert_gone(root, name, before.pid);
    pid
}

/// Waits until `pid` (once `name`'s process) is gone.
pub fn assert_gone(root: &Root, name: &str, pid: u32) {
    assert!(
        wait_until(WAIT, || !alive(pid)),
        "{name}'s process (pid {pid}) is still alive\nlog:\n{}",
        root.log()
    );
}

/// Asserts that the children in `restarted` were restarted and every other one of `names`
/// was not; `before` is what was seen of `names`, in order.
pub fn assert_only_restarted(root: &Root, names: &[&str], before: &[Seen], restarted: &[&str]) {
    for (name, &was) in names.iter().zip(before) {
        if restarted.contains(name) {
            assert_restarted(root, name, was);
        } else {
            assert_untouched(root, name, was);
        }
    }
}

/// The names of the root's children, in status order.
pub fn root_children(root: &Root) -> Vec<String> {
    let status = root.status();
    status["root"]["children"]
        .as_array()
        .unwrap_or_else(|| panic!("root without children: {status:#}"))
        .iter()
        .map(|c| c["name"].as_str().expect("child name").to_owned())
        .collect()
}

/// Whether the status lists a node called `name`, at any depth.
pub fn listed(root: &Root, name: &str) -> bool {
    nodes(&root.status()["root"])
        .iter()
        .any(|node| node["name"] == name)
}

/// `KEY=VALUE` entries of `pid`'s environment.
pub fn environ(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/environ: {e}"));
    raw.split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| String::from_utf8_lossy(entry).into_owned())
        .collect()
}

/// The argv of `pid`.
pub fn cmdline(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/cmdline: {e}"));
    raw.split(|&b| b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// Asserts that `name`'s process `pid` has `COLOR=color` in its environment.
pub fn assert_color(name: &str, pid: u32, color: &str) {
    let env = environ(pid);
    let want = format!("COLOR={color}");
    assert!(
        env.contains(&want),
        "{name} (pid {pid}) lacks {want}: {env:?}"
    );
}
