//! The root's own records: `ctl status --json` flattened to one entry per node.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::tree::Model;

/// One node as `ctl status --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSnap {
    /// `running`, `starting`, `backoff`, …
    pub state: String,
    /// Its pid while a process exists.
    pub pid: Option<u32>,
    /// 1 at the first start, +1 per restart.
    pub generation: u64,
    /// Restarts so far.
    pub restarts: u64,
}

/// Every node of one `ctl status --json` answer, by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Node name → what the root said about it.
    pub nodes: BTreeMap<String, NodeSnap>,
}

/// A status answer that does not have the documented shape.
#[derive(Debug, thiserror::Error)]
#[error("ctl status --json: {0}")]
pub struct ShapeError(String);

impl Snapshot {
    /// Reads `{"tree", "root": NODE}` with nested `children`.
    pub fn parse(status: &Value) -> Result<Snapshot, ShapeError> {
        let mut snap = Snapshot::default();
        let root = status
            .get("root")
            .ok_or_else(|| ShapeError("no \"root\" node".into()))?;
        snap.walk(root)?;
        Ok(snap)
    }

    fn walk(&mut self, node: &Value) -> Result<(), ShapeError> {
        let name = node["name"]
            .as_str()
            .ok_or_else(|| ShapeError(format!("node without a name: {node}")))?;
        let number = |key: &str| {
            node[key]
                .as_u64()
                .ok_or_else(|| ShapeError(format!("{name}: no {key}")))
        };
        let snap = NodeSnap {
            state: node["state"].as_str().unwrap_or("").to_owned(),
            pid: node["pid"].as_u64().map(|p| p as u32),
            generation: number("generation")?,
            restarts: number("restarts")?,
        };
        self.nodes.insert(name.to_owned(), snap);
        for child in node["children"].as_array().into_iter().flatten() {
            self.walk(child)?;
        }
        Ok(())
    }

    /// The node called `name`.
    pub fn get(&self, name: &str) -> Option<&NodeSnap> {
        self.nodes.get(name)
    }

    /// Whether every node of `model` is running, each pod and process with a pid.
    pub fn all_running(&self, model: &Model) -> bool {
        model.nodes.iter().enumerate().all(|(i, n)| {
            self.get(&n.name)
                .is_some_and(|s| s.state == "running" && (!model.is_leaf(i) || s.pid.is_some()))
        })
    }

    /// Pids of every pod and process of `model` that has one.
    pub fn leaf_pids(&self, model: &Model) -> Vec<u32> {
        model
            .leaf_indices()
            .into_iter()
            .filter_map(|i| self.get(&model.nodes[i].name)?.pid)
            .collect()
    }

    /// The nodes of `model` that are not running, as `name (state)`, for messages.
    pub fn not_running(&self, model: &Model) -> Vec<String> {
        model
            .nodes
            .iter()
            .filter_map(|n| match self.get(&n.name) {
                None => Some(format!("{} (missing)", n.name)),
                Some(s) if s.state != "running" => Some(format!("{} ({})", n.name, s.state)),
                Some(_) => None,
            })
            .collect()
    }
}
