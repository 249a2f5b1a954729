//! The ctl protocol: `podsup ctl …` ↔ the root, over the ctl unix socket.
//!
//! The client sends one [`CtlRequest`]; the root answers with one or more
//! [`CtlResponse`] frames, the last of which is never [`CtlResponse::Event`].

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::pod::ExitStatus;

mod depth;

/// Deepest [`StatusNode`] tree a frame may carry, counting the root as level 1.
///
/// Decoding is recursive, so a frame nesting nodes a million deep would overflow the stack;
/// a deeper tree is refused when encoded and when decoded.
pub const MAX_STATUS_DEPTH: usize = 64;

/// One request per connection. Variants are only ever appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CtlRequest {
    /// The whole tree's status.
    Status,
    /// Start a stopped child (and clear the operator's stop).
    Start {
        /// Child name.
        name: String,
    },
    /// Stop a child and keep it stopped until `Start`.
    Stop {
        /// Child name.
        name: String,
    },
    /// Stop then start a child.
    Restart {
        /// Child name.
        name: String,
    },
    /// Stop the whole tree in reverse start order; `podsup start` then exits 0.
    Shutdown,
    /// Start a turn in a pod.
    Send {
        /// Pod name.
        name: String,
        /// Input text.
        text: String,
        /// Stream events until the turn ends (`false` = answer at once).
        wait: bool,
    },
    /// Deliver a notification to a pod.
    Notify {
        /// Pod name.
        name: String,
        /// Message.
        message: String,
    },
    /// Pause a pod's turn.
    Pause {
        /// Pod name.
        name: String,
    },
    /// Resume a paused pod.
    Resume {
        /// Pod name.
        name: String,
    },
    /// Cancel a pod's turn.
    Cancel {
        /// Pod name.
        name: String,
    },
    /// Snapshot, then live events until the client goes away.
    Attach {
        /// Pod name.
        name: String,
    },
    /// A pod's committed history.
    Logs {
        /// Pod name.
        name: String,
        /// Keep streaming new entries.
        follow: bool,
        /// Only the last N entries.
        last: Option<u32>,
        /// The process's captured stdout/stderr instead of the history.
        output: bool,
    },
    /// Re-read tree.toml and apply the difference.
    Reload {
        /// Only print the plan.
        dry_run: bool,
    },
    /// Spawn a pod under a parent pod.
    Spawn {
        /// Spawning pod.
        parent: String,
        /// New pod's name.
        name: String,
        /// Engine name (`echo`, `command`, `llm`).
        engine: String,
        /// Restart type.
        restart: String,
    },
    /// Describe one pod.
    Inspect {
        /// Pod name.
        name: String,
    },
}

/// Kinds of ctl failures, so clients can map them to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CtlErrorKind {
    /// The peer's uid may not use this socket.
    Refused,
    /// No child of that name.
    NotFound,
    /// The request is not valid in the child's current state.
    InvalidState,
    /// The request itself is malformed or unsupported.
    BadRequest,
    /// The root is shutting down.
    ShuttingDown,
    /// Something failed inside the root.
    Internal,
}

/// A ctl failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtlError {
    /// What kind.
    pub kind: CtlErrorKind,
    /// What went wrong, naming the thing at fault.
    pub message: String,
}

/// Kind of a node in the status tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    /// A supervisor.
    Supervisor,
    /// A pod (`podsup pod-worker` with a socket).
    Pod,
    /// A plain process.
    Process,
}

/// Lifecycle state of a node, ordered so guards read as comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NodeState {
    /// Spawned, not yet ready.
    Starting,
    /// Ready.
    Running,
    /// Asked to stop, not yet reaped.
    Stopping,
    /// Not running, and not going to be restarted by itself.
    Stopped,
    /// Waiting for its restart delay.
    Backoff,
    /// Gave up (intensity exceeded or failed to start).
    Failed,
}

/// How a node last ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastExit {
    /// Exit status, when a process was reaped (supervisors fail without one).
    pub status: Option<ExitStatus>,
    /// Why, in words.
    pub reason: String,
}

/// One node of the status tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusNode {
    /// Unique name.
    pub name: String,
    /// Supervisor, pod or process.
    pub kind: NodeKind,
    /// Current state.
    pub state: NodeState,
    /// OS pid while a process exists.
    pub pid: Option<u32>,
    /// 1 at first start, +1 per restart.
    pub generation: u64,
    /// Restarts so far.
    pub restarts: u64,
    /// Milliseconds since the current generation became ready.
    pub uptime_ms: Option<u64>,
    /// How it last ended.
    pub last_exit: Option<LastExit>,
    /// Children (supervisors only), in start order. At most [`MAX_STATUS_DEPTH`] levels.
    #[serde(
        serialize_with = "depth::serialize_children",
        deserialize_with = "depth::deserialize_children"
    )]
    pub children: Vec<StatusNode>,
}

/// A root answer frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CtlResponse {
    /// Done, with a message for the operator.
    Ok {
        /// What was done.
        message: String,
    },
    /// The tree status.
    Status {
        /// Tree name.
        tree: String,
        /// Root supervisor.
        root: StatusNode,
    },
    /// The request failed.
    Error(CtlError),
    /// A live event from a pod (attach, send, logs -f).
    Event {
        /// Pod it came from.
        pod: String,
        /// Its generation.
        generation: u64,
        /// The event.
        event: Event,
    },
    /// A notice for the client (e.g. it was too slow and events were dropped).
    Notice {
        /// The notice.
        message: String,
    },
    /// A line of captured process output.
    OutputLine {
        /// The line, without its newline.
        line: String,
    },
    /// A JSON document (e.g. `ctl inspect`), printed as is with `--json`.
    Document {
        /// The JSON text.
        json: String,
    },
}
