use std::collections::BTreeMap;

use serde_json::Value;

use super::{Root, WAIT, nodes, output_text, wait_until};

/// The pod events among a pod's committed entries, in order, as `(variant, body)`:
/// `{"item":{"PodEvent":{"Crashed":{…}}}}` → `("Crashed", {…})`.
pub fn pod_events(entries: &[Value]) -> Vec<(String, Value)> {
    entries
        .iter()
        .filter_map(|e| e["item"]["PodEvent"].as_object())
        .filter_map(|event| event.iter().next())
        .map(|(kind, body)| (kind.clone(), body.clone()))
        .collect()
}

/// The pod events about `pod` (by `pod_name`), in order.
pub fn events_about(entries: &[Value], pod: &str) -> Vec<(String, Value)> {
    pod_events(entries)
        .into_iter()
        .filter(|(_, body)| body["pod_name"] == pod)
        .collect()
}

/// The registry changes (`Item::Registry`) among a pod's committed entries, parsed:
/// `{"op":"spawned","name":…,"restart":…,"scope":[…],"generation":1}` or
/// `{"op":"respawned","name":…,"generation":…}`.
pub fn registry_changes(entries: &[Value]) -> Vec<Value> {
    entries
        .iter()
        .filter_map(|e| e["item"]["Registry"]["json"].as_str())
        .map(|json| {
            serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("registry entry is not JSON ({e}): {json}"))
        })
        .collect()
}

/// The registry a spawner's log records, folded as a restarted spawner or root replays
/// it: `spawned` adds a record, `respawned` and a `Restarted` event set its generation,
/// a `Reclaimed` event removes it. Child name → its record.
pub fn replay(entries: &[Value]) -> BTreeMap<String, Value> {
    let mut registry = BTreeMap::new();
    for entry in entries {
        let item = &entry["item"];
        if let Some(json) = item["Registry"]["json"].as_str() {
            let change: Value = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("registry entry is not JSON ({e}): {json}"));
            let name = change["name"].as_str().unwrap_or_default().to_owned();
            match change["op"].as_str() {
                Some("spawned") => {
                    registry.insert(name, change);
                }
                Some("respawned") => {
                    if let Some(record) = registry.get_mut(&name) {
                        record["generation"] = change["generation"].clone();
                    }
                }
                other => panic!("unknown registry op {other:?}: {json}"),
            }
        } else if let Some(body) = item["PodEvent"]["Reclaimed"].as_object() {
            let name = body["pod_name"].as_str().unwrap_or_default();
            registry.remove(name);
        } else if let Some(body) = item["PodEvent"]["Restarted"].as_object() {
            let name = body["pod_name"].as_str().unwrap_or_default();
            if let Some(record) = registry.get_mut(name) {
                record["generation"] = body["generation"].clone();
            }
        }
    }
    registry
}

/// The pods `spawner` spawned, as `ctl status` lists them (under its node).
pub fn spawned_nodes(status: &Value, spawner: &str) -> Vec<Value> {
    nodes(&status["root"])
        .into_iter()
        .find(|n| n["name"] == spawner)
        .and_then(|n| n["children"].as_array())
        .cloned()
        .unwrap_or_default()
}

/// Every spawned pod in `ctl status` (a name with a `/`), at any depth.
pub fn all_spawned(status: &Value) -> Vec<Value> {
    nodes(&status["root"])
        .into_iter()
        .filter(|n| n["name"].as_str().is_some_and(|name| name.contains('/')))
        .cloned()
        .collect()
}

impl Root {
    /// `ctl spawn PARENT NAME --restart RESTART`, which must succeed; waits until the
    /// new pod runs at generation 1 and returns its pid.
    pub fn spawn_child(&self, parent: &str, name: &str, restart: &str) -> u32 {
        let out = self.ctl(&["spawn", parent, name, "--restart", restart]);
        assert!(
            out.status.success(),
            "ctl spawn {parent} {name} --restart {restart}: {}\nlog:\n{}",
            output_text(&out),
            self.log()
        );
        self.wait_running(&format!("{parent}/{name}"), 1)
    }

    /// `ctl --json logs POD` as committed entries, or `None` if ctl fails.
    pub fn try_entries(&self, pod: &str) -> Option<Vec<Value>> {
        let out = self.ctl(&["--json", "logs", pod]);
        if !out.status.success() {
            return None;
        }
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        Some(super::committed_entries(&lines))
    }

    /// Waits until `pod`'s committed entries satisfy `pred` and returns them; panics,
    /// naming `what` and showing the entries and the root's log, if they never do.
    pub fn wait_entries(
        &self,
        pod: &str,
        what: &str,
        mut pred: impl FnMut(&[Value]) -> bool,
    ) -> Vec<Value> {
        let mut last = Vec::new();
        let ok = wait_until(WAIT, || {
            last = self.try_entries(pod).unwrap_or_default();
            pred(&last)
        });
        assert!(
            ok,
            "{pod}'s log: {what} did not happen; entries:\n{}\nlog:\n{}",
            last.iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            self.log()
        );
        last
    }

    /// Waits until `spawner`'s log records `child` (a `spawned` registry entry).
    pub fn wait_recorded(&self, spawner: &str, child: &str) -> Vec<Value> {
        self.wait_entries(spawner, &format!("{child} recorded"), |entries| {
            replay(entries).contains_key(child)
        })
    }
}
