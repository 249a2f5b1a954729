//! Pod events: child → parent signals, and what the root synthesises from process exits.

use serde::{Deserialize, Serialize};

use crate::pod::ExitStatus;

/// A path rule of a pod's scope, as it travels on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScopeRule {
    /// Path relative to the pod's working directory.
    pub target: String,
    /// `true` for write permission, `false` for read only.
    pub write: bool,
    /// Whether the rule covers everything below `target`.
    pub recursive: bool,
}

/// A signal from a child pod to its parent. Seed names; variants are only ever appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodEvent {
    /// A parent-originated turn finished.
    TurnEnded {
        /// The child.
        pod_name: String,
    },
    /// A parent-originated turn failed.
    Errored {
        /// The child.
        pod_name: String,
        /// What failed.
        message: String,
    },
    /// The child exited in order.
    ShutDown {
        /// The child.
        pod_name: String,
    },
    /// The child delegated part of its scope to a pod it spawned.
    ScopeSubDelegated {
        /// The child that delegated.
        parent_pod: String,
        /// The pod it delegated to.
        sub_pod: String,
        /// What it delegated.
        scope: Vec<ScopeRule>,
    },
    /// Synthesised by the root: the child died without `ShutDown`.
    Crashed {
        /// The child.
        pod_name: String,
        /// How it died.
        exit: ExitStatus,
    },
    /// Synthesised by the root: the child was restarted.
    Restarted {
        /// The child.
        pod_name: String,
        /// Its new generation.
        generation: u64,
    },
    /// Synthesised by the root: the child is gone for good and what it held came back.
    Reclaimed {
        /// The child.
        pod_name: String,
    },
}

impl PodEvent {
    /// The pod this event is about.
    pub fn pod_name(&self) -> &str {
        match self {
            PodEvent::TurnEnded { pod_name }
            | PodEvent::Errored { pod_name, .. }
            | PodEvent::ShutDown { pod_name }
            | PodEvent::Crashed { pod_name, .. }
            | PodEvent::Restarted { pod_name, .. }
            | PodEvent::Reclaimed { pod_name } => pod_name,
            PodEvent::ScopeSubDelegated { parent_pod, .. } => parent_pod,
        }
    }
}
