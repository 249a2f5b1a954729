//! A spawner's registry of the pods it spawned, as its session log records it.
//!
//! The root records each change in the spawner's own log (with `Method::Record`): an
//! `Item::Registry` entry holding a [`Change`] as JSON when a child is spawned or
//! re-spawned; the root's synthesised pod events (`Restarted`, `Reclaimed`) are committed
//! like any pod event. [`replay`] folds the log into the current registry, so a restarted
//! spawner — or a restarted root — knows exactly which children it holds and what was
//! delegated to each.

use std::collections::BTreeMap;

use podsup_wire::pod_event::ScopeRule;
use podsup_wire::{EngineSpec, Entry, Item, PodEvent};
use serde::{Deserialize, Serialize};

/// A spawned child as its spawner's registry holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpawnRecord {
    /// The child's full name (`spawner/child`).
    pub name: String,
    /// Its engine.
    pub engine: EngineSpec,
    /// `permanent`, `transient` or `temporary`.
    pub restart: String,
    /// What the spawner delegated to it.
    pub scope: Vec<ScopeRule>,
    /// Its current generation.
    pub generation: u64,
}

/// A registry change, as recorded in the spawner's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// A child was spawned.
    Spawned(SpawnRecord),
    /// A child was started again after the root restarted.
    Respawned {
        /// Its name.
        name: String,
        /// Its new generation.
        generation: u64,
    },
}

impl Change {
    /// The log item recording this change.
    pub fn item(&self) -> Item {
        Item::Registry {
            // Serialising these plain types cannot fail.
            json: serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
        }
    }
}

/// The registry after every entry of `entries`, by child name.
pub fn replay(entries: &[Entry]) -> BTreeMap<String, SpawnRecord> {
    let mut registry = BTreeMap::new();
    for entry in entries {
        match &entry.item {
            Item::Registry { json } => match serde_json::from_str::<Change>(json) {
                Ok(Change::Spawned(record)) => {
                    registry.insert(record.name.clone(), record);
                }
                Ok(Change::Respawned { name, generation }) => {
                    if let Some(r) = registry.get_mut(&name) {
                        r.generation = generation;
                    }
                }
                Err(e) => tracing::warn!(seq = entry.seq, %e, "unreadable registry entry skipped"),
            },
            Item::PodEvent(PodEvent::Reclaimed { pod_name }) => {
                registry.remove(pod_name);
            }
            Item::PodEvent(PodEvent::Restarted {
                pod_name,
                generation,
            }) => {
                if let Some(r) = registry.get_mut(pod_name) {
                    r.generation = *generation;
                }
            }
            Item::PodEvent(_)
            | Item::User { .. }
            | Item::Notification { .. }
            | Item::Assistant { .. }
            | Item::ToolCall { .. }
            | Item::ToolResult { .. }
            | Item::System { .. } => {}
        }
    }
    registry
}

/// What the spawner has delegated to its live children, as scope rules with the child
/// holding each: the registry's records, so it is exact after any crash order.
pub fn delegated(entries: &[Entry]) -> Vec<(String, podsup_config::scope::Rule)> {
    replay(entries)
        .into_values()
        .flat_map(|record| {
            let name = record.name;
            record.scope.into_iter().filter_map(move |r| {
                podsup_config::scope::normalise(&r.target)
                    .ok()
                    .map(|target| {
                        let rule = podsup_config::scope::Rule {
                            target,
                            write: r.write,
                            recursive: r.recursive,
                        };
                        (name.clone(), rule)
                    })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, item: Item) -> Entry {
        Entry {
            seq,
            at_ms: 0,
            item,
        }
    }

    fn spawned(name: &str) -> Item {
        Change::Spawned(SpawnRecord {
            name: name.into(),
            engine: EngineSpec::Echo {
                chunk_chars: 4,
                delay_ms: 0,
            },
            restart: "temporary".into(),
            scope: vec![],
            generation: 1,
        })
        .item()
    }

    #[test]
    fn spawn_restart_reclaim_fold() {
        let entries = vec![
            entry(0, spawned("p/a")),
            entry(1, spawned("p/b")),
            entry(
                2,
                Item::PodEvent(PodEvent::Restarted {
                    pod_name: "p/a".into(),
                    generation: 2,
                }),
            ),
            entry(
                3,
                Item::PodEvent(PodEvent::Reclaimed {
                    pod_name: "p/b".into(),
                }),
            ),
            entry(
                4,
                Change::Respawned {
                    name: "p/a".into(),
                    generation: 3,
                }
                .item(),
            ),
            entry(
                5,
                Item::User {
                    text: "noise".into(),
                },
            ),
        ];
        let registry = replay(&entries);
        assert_eq!(registry.keys().collect::<Vec<_>>(), ["p/a"]);
        assert_eq!(registry["p/a"].generation, 3);
        assert!(replay(&entries[..2]).contains_key("p/b"));
    }
}
