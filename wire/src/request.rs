//! Orchestration requests a pod makes to the root (the tools `spawn_pod`, `send_to_pod`, …)
//! and the root's typed answers. Each travels with a correlation id in
//! [`crate::PodToRoot::Request`] / [`crate::RootToPod::Reply`].

use serde::{Deserialize, Serialize};

use crate::method::Segment;
use crate::pod::EngineSpec;
use crate::pod_event::ScopeRule;

/// A pod's request to the root. Variants are only ever appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PodRequest {
    /// Spawn a child pod under the requester's dynamic supervisor.
    Spawn {
        /// Name of the new pod, unique in the tree.
        name: String,
        /// Its engine.
        engine: EngineSpec,
        /// `permanent`, `transient` or `temporary`.
        restart: String,
        /// Part of the requester's scope to delegate.
        scope: Vec<ScopeRule>,
    },
    /// Start a turn in a pod the requester spawned.
    Send {
        /// Target pod.
        name: String,
        /// Generation the requester believes is current; refused if stale.
        generation: Option<u64>,
        /// Input.
        input: Vec<Segment>,
    },
    /// Read a pod's committed output.
    ReadOutput {
        /// Target pod.
        name: String,
        /// Last N entries (all if `None`).
        last: Option<u32>,
    },
    /// Stop a pod the requester spawned.
    Stop {
        /// Target pod.
        name: String,
    },
    /// List the pods the requester spawned.
    List,
    /// List the pods the requester can see: itself and the pods it spawned, live state.
    ListVisible,
    /// Describe a visible pod.
    Inspect {
        /// Target pod.
        name: String,
    },
    /// Attach to a live spawned pod (its status and recent output), or bring back one that
    /// is stopped or was reclaimed, from its session log.
    AttachOrRestore {
        /// Target pod.
        name: String,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalKind {
    /// No such pod.
    NotFound,
    /// Not the requester's to see or touch.
    NotVisible,
    /// Addressed to a generation that has been replaced.
    StaleGeneration,
    /// A pod of that name exists.
    NameTaken,
    /// Spawn depth limit reached.
    DepthLimit,
    /// Children-per-spawner limit reached.
    ChildLimit,
    /// Engine not allowed by the spawner's spec.
    EngineNotAllowed,
    /// Scope not held by the requester, or write already delegated.
    ScopeDenied,
    /// Malformed request.
    Invalid,
}

/// The root's answer to a [`PodRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PodReply {
    /// Done; JSON with details for the model.
    Ok {
        /// JSON text.
        json: String,
    },
    /// Refused.
    Refused {
        /// Why.
        kind: RefusalKind,
        /// Human-readable reason.
        message: String,
    },
}
