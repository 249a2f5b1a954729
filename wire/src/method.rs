//! Methods: what the root (on behalf of an operator or a parent pod) asks a pod to do.

use serde::{Deserialize, Serialize};

use crate::pod_event::PodEvent;

/// A part of a user input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Segment {
    /// Plain text.
    Text(String),
}

/// A request to a pod's controller. Seed names; variants are only ever appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Method {
    /// Start a turn with this input (parent- or operator-originated).
    Run {
        /// The input.
        input: Vec<Segment>,
    },
    /// A message that is buffered and, when the pod is idle, starts a turn by itself.
    Notify {
        /// The message text.
        message: String,
    },
    /// A pod event from one of this pod's spawned children.
    PodEvent(PodEvent),
    /// Continue a paused turn.
    Resume,
    /// Abandon the running turn and return to idle.
    Cancel,
    /// Stop the running turn and stay paused until `Resume`.
    Pause,
    /// Compact the conversation history.
    Compact,
    /// List the points the history can be rewound to.
    ListRewindTargets,
    /// Rewind the history to `target`, if the head still has `expected_head_entries`.
    RewindTo {
        /// Entry sequence number to rewind to.
        target: u64,
        /// Guard against rewinding a history that changed meanwhile.
        expected_head_entries: u64,
    },
    /// Cancel, flush the session log, report `ShutDown` upward and exit 0.
    Shutdown,
    /// List this pod and its spawned children.
    ListVisiblePods,
    /// Inspect a visible pod.
    InspectPod {
        /// Pod name.
        name: String,
    },
    /// Attach to a live child or restore a stopped one from its session log.
    AttachOrRestorePod {
        /// Pod name.
        name: String,
    },
    /// Send the pod's current snapshot (status and committed history) as an event.
    Snapshot,
    /// Commit this item to the session log without starting a turn (the root records
    /// registry changes in the spawner's own log this way).
    Record {
        /// The item to commit.
        item: crate::event::Item,
    },
}
