//! Turn engines: what a pod does with a turn. Chosen per pod by its spec.
//!
//! A turn gets the committed history (ending with this turn's input), a sink for what it
//! produces, and a cancellation token. It streams [`Event`]s (text deltas, retries, tool
//! calls, usage) through the sink and commits [`Item`]s (assistant text, tool calls and
//! results) as soon as each is complete, so a crash mid-turn loses only what was not yet
//! committed. It returns when the turn is over, or with [`EngineError::Cancelled`]
//! promptly after the token is cancelled.

mod command;
mod echo;
pub mod llm;

use std::time::Duration;

use podsup_wire::{EngineSpec, Event, Item};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use command::CommandEngine;
pub use echo::Echo;

/// The engine a pod runs, chosen by its spec.
#[derive(Debug)]
pub enum AnyEngine {
    /// `echo`.
    Echo(Echo),
    /// `command`.
    Command(CommandEngine),
    /// `llm`, with the orchestration tools.
    Llm(Box<llm::Llm>),
}

impl AnyEngine {
    /// Builds the engine `spec` names; an `llm` engine gets `tools`.
    pub fn from_spec(
        spec: &EngineSpec,
        tools: impl FnOnce() -> llm::tools::ToolBox,
    ) -> Result<AnyEngine, EngineError> {
        match spec {
            EngineSpec::Echo {
                chunk_chars,
                delay_ms,
            } => Ok(AnyEngine::Echo(Echo::new(
                *chunk_chars,
                Duration::from_millis(*delay_ms),
            ))),
            EngineSpec::Command { argv, timeout_ms } => Ok(AnyEngine::Command(CommandEngine::new(
                argv.clone(),
                (*timeout_ms > 0).then(|| Duration::from_millis(*timeout_ms)),
            ))),
            EngineSpec::Llm { config_json } => {
                let spec = podsup_config::LlmSpec::from_json(config_json)
                    .map_err(|e| EngineError::Invalid(format!("llm settings: {e}")))?;
                Ok(AnyEngine::Llm(Box::new(
                    llm::Llm::new(spec)?.with_tools(tools()),
                )))
            }
        }
    }

    /// Runs one turn.
    pub async fn run(&mut self, turn: Turn) -> Result<TurnEnd, EngineError> {
        match self {
            AnyEngine::Echo(e) => e.run(turn).await,
            AnyEngine::Command(e) => e.run(turn).await,
            AnyEngine::Llm(e) => e.run(turn).await,
        }
    }
}

/// What an engine produces while a turn runs, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutput {
    /// A live event for subscribers; not persisted.
    Event(Event),
    /// A complete item to append to the session log (and then announce as committed).
    Commit(Item),
}

/// The engine's end of the turn's output channel.
#[derive(Debug, Clone)]
pub struct TurnSink {
    tx: mpsc::UnboundedSender<TurnOutput>,
}

impl TurnSink {
    /// A sink and the receiver the pod's loop drains.
    pub fn channel() -> (TurnSink, mpsc::UnboundedReceiver<TurnOutput>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (TurnSink { tx }, rx)
    }

    /// Streams a live event.
    pub fn event(&self, event: Event) {
        if self.tx.send(TurnOutput::Event(event)).is_err() {
            tracing::debug!("turn output dropped: the pod loop is gone");
        }
    }

    /// Commits a complete item.
    pub fn commit(&self, item: Item) {
        if self.tx.send(TurnOutput::Commit(item)).is_err() {
            tracing::debug!("turn commit dropped: the pod loop is gone");
        }
    }
}

/// One turn's inputs.
#[derive(Debug, Clone)]
pub struct Turn {
    /// Every committed item so far, ending with this turn's input.
    pub history: Vec<Item>,
    /// Where output goes.
    pub sink: TurnSink,
    /// Cancelled on Pause, Cancel and Shutdown.
    pub cancel: CancellationToken,
}

/// How a turn that was not cancelled ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEnd {
    /// The engine finished.
    Finished,
    /// A configured limit (tool rounds, tokens) stopped it.
    LimitReached,
}

/// How a turn failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The cancellation token fired.
    #[error("cancelled")]
    Cancelled,
    /// The LLM provider refused or failed, after retries.
    #[error("{0}")]
    Provider(String),
    /// A tool or the per-turn command failed.
    #[error("{0}")]
    Tool(String),
    /// The turn's input made no sense to the engine.
    #[error("{0}")]
    Invalid(String),
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

/// The text of the last user input, notifications and child pod events in `history`
/// (everything after the last reply): what echo and command engines take as input.
pub fn last_input(history: &[Item]) -> String {
    let mut inputs = Vec::new();
    for item in history.iter().rev() {
        match item {
            Item::User { text } | Item::Notification { text } => inputs.push(text.clone()),
            Item::PodEvent(event) => inputs.push(pod_event_text(event)),
            Item::Assistant { .. }
            | Item::ToolCall { .. }
            | Item::ToolResult { .. }
            | Item::System { .. }
            | Item::Registry { .. } => break,
        }
    }
    inputs.reverse();
    inputs.join("\n")
}

/// A child's pod event as a line of text for a model or a command.
pub fn pod_event_text(event: &podsup_wire::PodEvent) -> String {
    use podsup_wire::PodEvent as E;
    match event {
        E::TurnEnded { pod_name } => format!("pod {pod_name}: turn ended"),
        E::Errored { pod_name, message } => format!("pod {pod_name}: turn failed: {message}"),
        E::ShutDown { pod_name } => format!("pod {pod_name}: shut down"),
        E::ScopeSubDelegated {
            parent_pod,
            sub_pod,
            ..
        } => {
            format!("pod {parent_pod}: delegated scope to {sub_pod}")
        }
        E::Crashed { pod_name, exit } => format!("pod {pod_name}: crashed ({exit})"),
        E::Restarted {
            pod_name,
            generation,
        } => {
            format!("pod {pod_name}: restarted (generation {generation})")
        }
        E::Reclaimed { pod_name } => format!("pod {pod_name}: gone; what it held was reclaimed"),
    }
}
