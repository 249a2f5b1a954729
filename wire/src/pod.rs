//! The root ↔ pod channel: handshake and the two directional envelopes.
//!
//! Handshake: the pod sends [`PodToRoot::Hello`], the root answers [`RootToPod::Init`], the
//! pod answers [`PodToRoot::Ready`] once it can take methods. Readiness is `Ready`, nothing
//! else. Identity is the socket: the root stamps every frame with the pod the socket belongs
//! to, so no message here carries a sender name a pod could forge.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::method::Method;
use crate::pod_event::PodEvent;
use crate::request::{PodReply, PodRequest};

/// First frame a pod sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`crate::PROTOCOL_VERSION`] of the pod's build.
    pub protocol: u32,
    /// The pod's own pid, as it sees it.
    pub pid: u32,
}

/// What a pod needs to know to become the pod it is supervised as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Init {
    /// The pod's name, unique in the tree.
    pub name: String,
    /// 1 for the first start, +1 for each restart.
    pub generation: u64,
    /// The spawning pod, for pods spawned at run time; `None` for static pods.
    pub parent: Option<String>,
    /// Directory for the pod's durable state (session log, registry).
    pub state_dir: String,
    /// Directory for the pod's scratch files (spilled output), cleared on restart.
    pub runtime_dir: String,
    /// The turn engine and its settings.
    pub engine: EngineSpec,
    /// The pod's own scope (what its file tools may touch, before delegation), as JSON.
    pub scope_json: String,
    /// When to fsync the session log: `checkpoints`, `always` or `never`.
    pub fsync: String,
}

/// A pod's turn engine, with its settings. Variants are only ever appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineSpec {
    /// Streams the input back in chunks; deterministic, no network.
    Echo {
        /// Characters per text delta.
        chunk_chars: u32,
        /// Pause between deltas, in milliseconds (0 = none).
        delay_ms: u64,
    },
    /// Runs `argv` once per turn with the input on stdin; stdout is the reply.
    Command {
        /// Program and arguments.
        argv: Vec<String>,
        /// Time limit of one turn in milliseconds (0 = none).
        timeout_ms: u64,
    },
    /// Talks to an LLM provider. `config_json` is the validated provider config as JSON.
    Llm {
        /// Provider settings (scheme, base URL, model, key source, limits) as JSON.
        config_json: String,
    },
}

/// How a process ended, as `waitpid` reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExitStatus {
    /// Exited by itself with this code.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl ExitStatus {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit code {c}"),
            ExitStatus::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// Every frame a pod sends to the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PodToRoot {
    /// Handshake, first frame.
    Hello(Hello),
    /// Handshake done: the pod takes methods from now on.
    Ready,
    /// An event for the pod's subscribers (attached ctl clients, the root's records).
    Event(Event),
    /// An upward pod event for the pod's parent (spawner), routed by the root.
    PodEvent(PodEvent),
    /// An orchestration request; the root answers with [`RootToPod::Reply`] of the same id.
    Request {
        /// Correlation id chosen by the pod.
        id: u64,
        /// The request.
        request: PodRequest,
    },
}

/// Every frame the root sends to a pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RootToPod {
    /// Handshake answer to `Hello`.
    Init(Init),
    /// A method for the pod's controller.
    Method(Method),
    /// The answer to a [`PodToRoot::Request`].
    Reply {
        /// Correlation id of the request.
        id: u64,
        /// The answer.
        reply: PodReply,
    },
}
