//! `podsup ctl` as an operator uses it: the status table and its JSON contract, stopping,
//! starting and restarting children, the errors an operator can run into, and who may talk
//! to the ctl socket (file modes and SO_PEERCRED).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use podsup_tests::{
    Root, WAIT, alive, ctl_command, nodes, output_text, output_within, podsup_bin, signal,
    wait_until,
};
use serde_json::Value;

/// A loop that stays up until signalled.
const LOOP: &str = r#"["sh", "-c", "while :; do sleep 0.05; done"]"#;

/// Every kind of node, nested: used for the status output tests.
fn mixed_tree() -> String {
    format!(
        r#"
name = "ctl-mixed"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "greeter"
kind = "pod"
engine = "echo"

[[child]]
name = "workers"
kind = "supervisor"
strategy = "rest_for_one"
max_restarts = 100
within = "10s"
  [[child.child]]
  name = "fetcher"
  kind = "pod"
  [[child.child]]
  name = "looper"
  kind = "process"
  argv = {LOOP}

[[child]]
name = "exiter"
kind = "process"
argv = ["sh", "-c", "trap 'exit 3' USR1; while :; do sleep 0.05; done"]
"#
    )
}

/// Three permanent processes under one_for_all.
fn all_tree() -> String {
    format!(
        r#"
name = "ctl-all"
strategy = "one_for_all"
max_restarts = 100
within = "10s"

[[child]]
name = "first"
kind = "process"
argv = {LOOP}

[[child]]
name = "x"
kind = "process"
argv = {LOOP}
restart = "permanent"

[[child]]
name = "last"
kind = "process"
argv = {LOOP}
"#
    )
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ctl_ok(root: &Root, args: &[&str]) -> String {
    let out = root.ctl(args);
    assert!(
        out.status.success(),
        "ctl {args:?} failed: {}\nlog:\n{}",
        output_text(&out),
        root.log()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_all_running(root: &Root, names: &[&str]) {
    for name in names {
        root.wait_running(name, 1);
    }
}

const STATES: [&str; 6] = [
    "starting", "running", "stopping", "stopped", "backoff", "failed",
];
const KINDS: [&str; 3] = ["supervisor", "pod", "process"];

/// Checks one node against the documented contract: exact key set, JSON types, enums.
fn check_node_contract(node: &Value) {
    let obj = node
        .as_object()
        .unwrap_or_else(|| panic!("node is not an object: {node}"));
    let kind = obj["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("kind not a string: {node}"));
    assert!(KINDS.contains(&kind), "bad kind {kind}: {node}");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec![
        "generation",
        "kind",
        "last_exit",
        "name",
        "pid",
        "restarts",
        "state",
        "uptime_ms",
    ];
    if kind == "supervisor" {
        expected.push("children");
    }
    expected.sort_unstable();
    assert_eq!(keys, expected, "keys of {node}");
    assert!(obj["name"].is_string(), "name: {node}");
    let state = obj["state"]
        .as_str()
        .unwrap_or_else(|| panic!("state not a string: {node}"));
    assert!(STATES.contains(&state), "bad state {state}: {node}");
    assert!(obj["pid"].is_u64() || obj["pid"].is_null(), "pid: {node}");
    assert!(obj["generation"].is_u64(), "generation: {node}");
    assert!(obj["restarts"].is_u64(), "restarts: {node}");
    assert!(
        obj["uptime_ms"].is_u64() || obj["uptime_ms"].is_null(),
        "uptime_ms: {node}"
    );
    if state == "running" {
        assert!(
            obj["uptime_ms"].is_u64(),
            "running node without uptime: {node}"
        );
        assert!(
            obj["generation"].as_u64() >= Some(1),
            "running at generation 0: {node}"
        );
        if kind != "supervisor" || obj["name"] == "root" {
            let pid = obj["pid"]
                .as_u64()
                .unwrap_or_else(|| panic!("running without pid: {node}"));
            assert!(
                alive(pid as u32),
                "pid {pid} of running node is not alive: {node}"
            );
        }
    }
    match &obj["last_exit"] {
        Value::Null => {}
        Value::Object(last) => {
            assert!(last["reason"].is_string(), "last_exit.reason: {node}");
            assert!(
                !(last.contains_key("code") && last.contains_key("signal")),
                "last_exit has both code and signal: {node}"
            );
            for key in last.keys() {
                assert!(
                    ["code", "signal", "reason"].contains(&key.as_str()),
                    "unexpected key {key} in last_exit: {node}"
                );
            }
            if let Some(code) = last.get("code") {
                assert!(code.is_i64(), "last_exit.code: {node}");
            }
            if let Some(signal) = last.get("signal") {
                assert!(signal.is_u64(), "last_exit.signal: {node}");
            }
        }
        other => panic!("last_exit is {other}: {node}"),
    }
    if let Some(children) = obj.get("children") {
        let children = children
            .as_array()
            .unwrap_or_else(|| panic!("children not an array: {node}"));
        for child in children {
            check_node_contract(child);
        }
    }
}

fn check_contract(status: &Value) {
    let obj = status.as_object().expect("status is an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["root", "tree"], "top-level keys of {status}");
    assert!(status["tree"].is_string(), "tree: {status}");
    assert_eq!(status["root"]["name"], "root");
    assert_eq!(status["root"]["kind"], "supervisor");
    check_node_contract(&status["root"]);
}

#[test]
fn status_table_lists_every_node_with_kind_state_and_pid() {
    let root = Root::start(&mixed_tree());
    wait_all_running(&root, &["greeter", "fetcher", "looper", "exiter"]);
    let json = root.status();
    let table = ctl_ok(&root, &["status"]);
    let mut lines = table.lines();
    assert_eq!(
        lines.next().map(str::trim),
        Some("tree ctl-mixed"),
        "{table}"
    );
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME", "KIND", "STATE", "PID", "GEN", "RESTARTS", "UPTIME", "LAST", "EXIT"
        ],
        "{table}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let all = nodes(&json["root"]);
    assert_eq!(rows.len(), all.len(), "one row per node:\n{table}");
    for (row, node) in rows.iter().zip(all) {
        let pid = node["pid"]
            .as_u64()
            .map_or("-".to_owned(), |p| p.to_string());
        let generation = node["generation"].to_string();
        let expected = [
            node["name"].as_str().unwrap(),
            node["kind"].as_str().unwrap(),
            node["state"].as_str().unwrap(),
            pid.as_str(),
            generation.as_str(),
        ];
        assert_eq!(row[..5], expected, "row for {node} in\n{table}");
    }
}

#[test]
fn status_json_matches_the_contract_for_every_node() {
    let root = Root::start(&mixed_tree());
    wait_all_running(&root, &["greeter", "fetcher", "looper", "exiter"]);
    let status = root.status();
    check_contract(&status);
    assert_eq!(status["tree"], "ctl-mixed");
    let names: Vec<&str> = nodes(&status["root"])
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["root", "greeter", "workers", "fetcher", "looper", "exiter"]
    );
    for node in nodes(&status["root"]) {
        assert_eq!(node["generation"], 1, "first start is generation 1: {node}");
        assert_eq!(node["restarts"], 0, "{node}");
        assert_eq!(node["last_exit"], Value::Null, "{node}");
        assert_eq!(node["state"], "running", "{node}");
    }
    assert_eq!(root.node("root")["pid"], root.pid());
    assert_eq!(
        root.node("workers")["pid"],
        Value::Null,
        "a nested supervisor has no process"
    );
}

#[test]
fn status_json_last_exit_after_kill_9_has_signal_9() {
    let root = Root::start(&mixed_tree());
    let pid = root.wait_running("looper", 1);
    signal(pid, libc::SIGKILL);
    root.wait_running("looper", 2);
    let status = root.status();
    check_contract(&status);
    let node = root.node("looper");
    assert_eq!(node["restarts"], 1, "{node}");
    let last = node["last_exit"]
        .as_object()
        .unwrap_or_else(|| panic!("no last_exit: {node}"));
    let mut keys: Vec<&str> = last.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["reason", "signal"], "{node}");
    assert_eq!(last["signal"], 9, "{node}");
    assert!(!last["reason"].as_str().unwrap().is_empty(), "{node}");
}

#[test]
fn status_json_last_exit_after_exit_3_has_code_3() {
    let root = Root::start(&mixed_tree());
    let pid = root.wait_running("exiter", 1);
    signal(pid, libc::SIGUSR1);
    root.wait_running("exiter", 2);
    let status = root.status();
    check_contract(&status);
    let node = root.node("exiter");
    let last = node["last_exit"]
        .as_object()
        .unwrap_or_else(|| panic!("no last_exit: {node}"));
    let mut keys: Vec<&str> = last.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "reason"], "{node}");
    assert_eq!(last["code"], 3, "{node}");
    assert!(
        last["reason"].as_str().unwrap().contains('3'),
        "reason names the code: {node}"
    );
}

#[test]
fn stop_holds_a_permanent_child_down_while_siblings_restart() {
    let root = Root::start(&all_tree());
    wait_all_running(&root, &["first", "x", "last"]);
    let x_pid = root.pid_of("x");
    let said = ctl_ok(&root, &["stop", "x"]);
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
    ctl_ok(&root, &["stop", "x"]);
    root.wait_state("x", "stopped");
    let out = root.ctl(&["stop", "x"]);
    assert!(
        !out.status.success(),
        "second stop succeeded: {}",
        output_text(&out)
    );
    let msg = stderr(&out);
    assert!(msg.contains("x is already stopped"), "{msg}");
}

#[test]
fn start_after_stop_runs_the_next_generation() {
    let root = Root::start(&all_tree());
    let old = root.wait_running("x", 1);
    ctl_ok(&root, &["stop", "x"]);
    root.wait_state("x", "stopped");
    let said = ctl_ok(&root, &["start", "x"]);
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
    assert!(stderr(&out).contains("already running"), "{}", stderr(&out));
}

#[test]
fn restart_replaces_only_that_child_even_under_one_for_all() {
    let root = Root::start(&all_tree());
    wait_all_running(&root, &["first", "x", "last"]);
    let before: Vec<u32> = ["first", "x", "last"]
        .iter()
        .map(|n| root.pid_of(n))
        .collect();
    ctl_ok(&root, &["restart", "x"]);
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
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
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
    let msg = stderr(&out);
    assert!(msg.contains("root") && msg.contains("shutdown"), "{msg}");
    let status = root.status();
    assert_eq!(status["root"]["state"], "running", "{status:#}");
    for name in ["first", "x", "last"] {
        assert_eq!(root.node(name)["state"], "running");
    }
}

#[test]
fn ctl_without_a_running_podsup_exits_1_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = output_within(&mut ctl_command(dir.path(), &["status"]), WAIT);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let msg = stderr(&out);
    assert!(msg.contains("no podsup is running"), "{msg}");
    assert!(
        msg.contains(&dir.path().display().to_string()),
        "names the dir: {msg}"
    );
}

#[test]
fn runtime_dir_is_0700_and_socket_0600() {
    let root = Root::start(&all_tree());
    let dir_mode = std::fs::metadata(root.runtime_dir())
        .expect("runtime dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700, "runtime dir mode {dir_mode:o}");
    let sock = root.runtime_dir().join("ctl.sock");
    let sock_mode = std::fs::metadata(&sock)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(sock_mode & 0o777, 0o600, "socket mode {sock_mode:o}");
}

#[test]
fn podsup_runtime_dir_env_selects_the_root() {
    let root = Root::start(&all_tree());
    let out = output_within(
        Command::new(podsup_bin())
            .args(["ctl", "status", "--json"])
            .env("PODSUP_RUNTIME_DIR", root.runtime_dir())
            .env_remove("RUNTIME_DIRECTORY"),
        WAIT,
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["tree"], "ctl-all");
    assert_eq!(status["root"]["pid"], root.pid());
}

/// `podsup ctl status` as uid/gid 65534 (nobody).
fn ctl_as_nobody(root: &Root) -> std::process::Output {
    let mut cmd = ctl_command(&root.runtime_dir(), &["status"]);
    cmd.uid(65534).gid(65534).current_dir("/");
    output_within(&mut cmd, WAIT)
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Whether this test can switch users; prints why it skips if not.
fn running_as_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        println!("skipped: needs root");
    }
    root
}

/// A root whose socket nobody can reach: only the socket's own mode stands in the way.
fn root_with_reachable_socket() -> Root {
    let root = Root::start(&all_tree());
    chmod(root.dir(), 0o755);
    chmod(&root.runtime_dir(), 0o755);
    root
}

#[test]
fn other_users_are_refused_by_the_socket_file_mode() {
    if !running_as_root() {
        return;
    }
    let root = root_with_reachable_socket();
    let sock = root.runtime_dir().join("ctl.sock");
    let out = ctl_as_nobody(&root);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let msg = stderr(&out);
    assert!(msg.contains("permission denied"), "{msg}");
    assert!(
        msg.contains(&sock.display().to_string()),
        "names the socket: {msg}"
    );
}

#[test]
fn other_users_are_refused_by_peer_credentials() {
    if !running_as_root() {
        return;
    }
    let root = root_with_reachable_socket();
    chmod(&root.runtime_dir().join("ctl.sock"), 0o666);
    // Every attempt must get the refusal, not just the lucky ones: the client writes its
    // request while the root answers, so a race between the two would show here.
    for attempt in 1..=10 {
        let out = ctl_as_nobody(&root);
        assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
        let msg = stderr(&out);
        assert!(
            msg.contains("uid 65534") && msg.contains("may not control"),
            "attempt {attempt}: {msg}"
        );
        assert!(
            out.stdout.is_empty(),
            "refused peer got an answer: {}",
            output_text(&out)
        );
    }
    // The refusals did not disturb the root.
    assert_eq!(root.status()["root"]["state"], "running");
}

#[test]
fn stopped_child_stays_stopped_across_a_root_restart() {
    // DESIGN §4: operator intent is durable until `ctl start`.
    let mut root = Root::start(&all_tree());
    wait_all_running(&root, &["first", "x", "last"]);
    ctl_ok(&root, &["stop", "x"]);
    root.wait_state("x", "stopped");
    ctl_ok(&root, &["shutdown"]);
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

    ctl_ok(&root, &["start", "x"]);
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
    ctl_ok(&root, &["stop", "held"]);
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
