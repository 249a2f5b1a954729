//! `podsup ctl status` as an operator reads it: the table, and the JSON contract README
//! documents, checked key by key on every kind of node, including how a child last ended.

use podsup_tests::ctl_trees::{LOOP, wait_all_running};
use podsup_tests::{Root, alive, nodes, signal};
use serde_json::Value;

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
    let table = root.ctl_ok(&["status"]);
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
