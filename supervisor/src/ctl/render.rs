//! How ctl answers look: the status table for people and the documented JSON contract.

use comfy_table::{Table, presets};
use podsup_wire::ctl::LastExit;
use podsup_wire::{ExitStatus, NodeKind, NodeState, StatusNode};
use serde_json::{Value, json};

use crate::link::describe;

fn kind_str(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Supervisor => "supervisor",
        NodeKind::Pod => "pod",
        NodeKind::Process => "process",
    }
}

fn state_str(state: NodeState) -> &'static str {
    match state {
        NodeState::Starting => "starting",
        NodeState::Running => "running",
        NodeState::Stopping => "stopping",
        NodeState::Stopped => "stopped",
        NodeState::Backoff => "backoff",
        NodeState::Failed => "failed",
    }
}

/// `3d4h`, `5m12s`, `840ms`: the two largest units.
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms}ms"),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

fn last_exit_str(last: &Option<LastExit>) -> String {
    match last {
        None => "-".into(),
        Some(l) => match l.status {
            Some(status) if !l.reason.contains(&describe(status)) => {
                format!("{} ({})", l.reason, describe(status))
            }
            Some(_) | None => l.reason.clone(),
        },
    }
}

/// The status tree as a table, children indented under their supervisor.
pub fn status_table(tree: &str, root: &StatusNode) -> String {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    table.set_header([
        "NAME",
        "KIND",
        "STATE",
        "PID",
        "GEN",
        "RESTARTS",
        "UPTIME",
        "LAST EXIT",
    ]);
    add_rows(&mut table, root, 0);
    format!("tree {tree}\n{table}")
}

fn add_rows(table: &mut Table, node: &StatusNode, depth: usize) {
    table.add_row([
        format!("{}{}", "  ".repeat(depth), node.name),
        kind_str(node.kind).into(),
        state_str(node.state).into(),
        node.pid.map_or("-".into(), |p| p.to_string()),
        node.generation.to_string(),
        node.restarts.to_string(),
        node.uptime_ms.map_or("-".into(), human_duration),
        last_exit_str(&node.last_exit),
    ]);
    for child in &node.children {
        add_rows(table, child, depth + 1);
    }
}

/// The `ctl status --json` contract (see README): `{"tree": name, "root": node}`.
pub fn status_json(tree: &str, root: &StatusNode) -> Value {
    json!({ "tree": tree, "root": node_json(root) })
}

fn node_json(node: &StatusNode) -> Value {
    let last_exit = node.last_exit.as_ref().map(|l| {
        let mut obj = serde_json::Map::new();
        match l.status {
            Some(ExitStatus::Code(c)) => {
                obj.insert("code".into(), json!(c));
            }
            Some(ExitStatus::Signal(s)) => {
                obj.insert("signal".into(), json!(s));
            }
            None => {}
        }
        obj.insert("reason".into(), json!(l.reason));
        Value::Object(obj)
    });
    let mut obj = json!({
        "name": node.name,
        "kind": kind_str(node.kind),
        "state": state_str(node.state),
        "pid": node.pid,
        "generation": node.generation,
        "restarts": node.restarts,
        "uptime_ms": node.uptime_ms,
        "last_exit": last_exit,
    });
    // Supervisors list their children; pods list the pods they spawned, if any.
    if node.kind == NodeKind::Supervisor || !node.children.is_empty() {
        obj["children"] = Value::Array(node.children.iter().map(node_json).collect());
    }
    obj
}
