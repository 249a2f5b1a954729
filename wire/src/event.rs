//! Events: what a pod reports to its subscribers (attached ctl clients and the root).

use serde::{Deserialize, Serialize};

use crate::pod_event::PodEvent;

/// A pod controller's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodStatus {
    /// No turn in flight.
    Idle,
    /// A turn is in flight.
    Running,
    /// A turn was paused and waits for `Resume`.
    Paused,
}

/// Why a turn started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvokeKind {
    /// `Run` from an operator or the parent pod.
    UserSend,
    /// A buffered notification started it while idle.
    Notify,
    /// A child's pod event started it while idle.
    PodEvent,
    /// A system reminder.
    SystemReminder,
    /// A scheduled wake-up.
    Wakeup,
    /// `Resume` of a paused turn.
    Resume,
}

/// How a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunResult {
    /// The engine finished the turn.
    Finished,
    /// Paused before finishing.
    Paused,
    /// Stopped at a configured limit (tokens, tool rounds).
    LimitReached,
    /// Rolled back (cancelled or failed).
    RolledBack,
    /// Cancelled by `Cancel` (or `Shutdown`); what was committed stays committed.
    Cancelled,
}

/// Error codes a pod reports with [`Event::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// `Run` (or a history change) while a turn is running.
    AlreadyRunning,
    /// `Pause`/`Cancel` while idle.
    NotRunning,
    /// `Resume` while not paused.
    NotPaused,
    /// The LLM provider refused or failed.
    ProviderError,
    /// A tool failed.
    ToolError,
    /// The request made no sense.
    InvalidRequest,
    /// A bug or an unexpected failure inside the pod.
    Internal,
}

/// Severity of an [`Event::Alert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertLevel {
    /// For information.
    Info,
    /// Something was lost or degraded.
    Warning,
    /// Something failed.
    Error,
}

/// One committed item of a pod's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    /// User (operator or parent) input.
    User {
        /// The text.
        text: String,
    },
    /// A notification that was delivered to the model.
    Notification {
        /// The text.
        text: String,
    },
    /// The assistant's complete reply text of one step.
    Assistant {
        /// The text.
        text: String,
    },
    /// A tool call the assistant made.
    ToolCall {
        /// Provider's call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments as JSON text.
        arguments: String,
    },
    /// A tool's result.
    ToolResult {
        /// Call id it answers.
        id: String,
        /// Output given to the model.
        output: String,
        /// Whether the tool failed.
        is_error: bool,
    },
    /// A system note (turn ended, error, cancelled, …).
    System {
        /// The text.
        text: String,
    },
    /// A pod event received from a child.
    PodEvent(PodEvent),
    /// A registry or scope change, as JSON.
    Registry {
        /// The change as JSON text.
        json: String,
    },
}

/// An [`Item`] with its position in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 0-based sequence number in the pod's history.
    pub seq: u64,
    /// Milliseconds since the Unix epoch when committed.
    pub at_ms: u64,
    /// The item.
    pub item: Item,
}

/// An event a pod reports. Seed names; variants are only ever appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The controller's state changed.
    Status {
        /// New state.
        status: PodStatus,
    },
    /// A user input was committed.
    UserMessage {
        /// The text.
        text: String,
    },
    /// A system item was committed.
    SystemItem {
        /// The text.
        text: String,
    },
    /// A turn is about to start, and why.
    InvokeStart {
        /// Origin of the turn.
        kind: InvokeKind,
    },
    /// A turn started.
    TurnStart {
        /// Turn number.
        turn: u64,
    },
    /// A turn ended.
    TurnEnd {
        /// Turn number.
        turn: u64,
        /// How it ended.
        result: RunResult,
    },
    /// An LLM request started.
    LlmCallStart {
        /// Call number within the turn.
        call: u32,
    },
    /// An LLM request ended.
    LlmCallEnd {
        /// Call number within the turn.
        call: u32,
    },
    /// An LLM request failed and will be retried.
    LlmRetry {
        /// Call number within the turn.
        call: u32,
        /// Which attempt failed (1-based).
        attempt: u32,
        /// Attempts allowed.
        max: u32,
        /// Delay before the next attempt.
        wait_ms: u64,
        /// HTTP status, when there was one.
        status: Option<u16>,
        /// What went wrong.
        error: String,
    },
    /// A piece of reply text.
    TextDelta {
        /// The text.
        text: String,
    },
    /// The complete reply text of one step.
    TextDone {
        /// The text.
        text: String,
    },
    /// The model started thinking.
    ThinkingStart,
    /// A piece of thinking text.
    ThinkingDelta {
        /// The text.
        text: String,
    },
    /// Thinking ended.
    ThinkingDone {
        /// The text.
        text: String,
    },
    /// A tool call started streaming.
    ToolCallStart {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// A piece of a tool call's JSON arguments.
    ToolCallArgsDelta {
        /// Call id.
        id: String,
        /// JSON fragment.
        json: String,
    },
    /// A tool call is complete.
    ToolCallDone {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments as JSON text.
        arguments: String,
    },
    /// A tool finished.
    ToolResult {
        /// Call id.
        id: String,
        /// One-line summary.
        summary: String,
        /// Output given to the model.
        output: String,
        /// Whether the tool failed.
        is_error: bool,
    },
    /// Token usage of one LLM call.
    Usage {
        /// Prompt tokens.
        input_tokens: u64,
        /// Completion tokens.
        output_tokens: u64,
        /// Prompt tokens read from the provider's cache.
        cache_read_input_tokens: u64,
    },
    /// A run (one or more turns) ended.
    RunEnd {
        /// How it ended.
        result: RunResult,
    },
    /// A method failed, or a turn failed.
    Error {
        /// Machine-readable code.
        code: ErrorCode,
        /// What happened.
        message: String,
    },
    /// The pod's state and committed history, sent on attach and after a restart.
    Snapshot {
        /// Every committed entry.
        entries: Vec<Entry>,
        /// Greeting line (pod name, generation, engine).
        greeting: String,
        /// Current state.
        status: PodStatus,
    },
    /// Something an operator should see.
    Alert {
        /// Severity.
        level: AlertLevel,
        /// What happened.
        message: String,
    },
    /// Rewind targets, answering `ListRewindTargets`.
    RewindTargets {
        /// Entry sequence numbers with a one-line preview each.
        targets: Vec<(u64, String)>,
    },
    /// A rewind was applied.
    RewindApplied {
        /// New number of entries.
        head_entries: u64,
    },
    /// Answer to `ListVisiblePods`, as JSON.
    VisiblePods {
        /// JSON text.
        json: String,
    },
    /// Answer to `InspectPod`, as JSON.
    PodInspection {
        /// JSON text.
        json: String,
    },
    /// Answer to `AttachOrRestorePod`, as JSON.
    PodAttachRestore {
        /// JSON text.
        json: String,
    },
    /// Compaction started.
    CompactStart,
    /// Compaction finished.
    CompactDone {
        /// Entries before.
        before: u64,
        /// Entries after.
        after: u64,
    },
    /// Compaction failed.
    CompactFailed {
        /// Why.
        message: String,
    },
    /// The pod is shutting down.
    Shutdown,
    /// An entry was committed to the session log.
    Committed(Entry),
}
