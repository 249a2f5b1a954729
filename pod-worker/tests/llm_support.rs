//! What the llm engine tests share: a spec with short timeouts pointing at the mock, a
//! driver that runs a turn while collecting its output (and cancels it on cue), and test
//! tools. `llm_openai.rs` and `llm_anthropic.rs` include it with `#[path]`; cargo also
//! builds it as a test target of its own, without tests, where not every helper is used.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use podsup_config::{LlmScheme, LlmSpec};
use podsup_pod_worker::engine::llm::{Llm, Tool, ToolBox, ToolFuture, ToolOutcome};
use podsup_pod_worker::engine::{EngineError, Turn, TurnEnd, TurnOutput, TurnSink};
use podsup_tests::mock_llm::MockLlm;
use podsup_wire::{Event, Item};
use tokio_util::sync::CancellationToken;

/// Longest a test turn may take before the test fails.
const TURN_LIMIT: Duration = Duration::from_secs(20);

/// A spec for `scheme` at the mock, keyless, with timeouts and backoffs short enough for
/// tests: 2 s until headers and between chunks, 3 attempts, 10 ms then 20 ms backoff.
pub fn spec(scheme: LlmScheme, mock: &MockLlm) -> LlmSpec {
    LlmSpec {
        request_timeout_ms: 2_000,
        idle_timeout_ms: 2_000,
        max_attempts: 3,
        retry_initial_ms: 10,
        retry_max_ms: 2_000,
        ..LlmSpec::new(scheme, mock.url(), "mock-model")
    }
}

/// The engine for `spec` offering the [`Lookup`] and [`Stall`] tools.
pub fn engine(spec: LlmSpec) -> Llm {
    Llm::new(spec)
        .unwrap_or_else(|e| panic!("Llm::new: {e}"))
        .with_tools(ToolBox::empty().with(Lookup).with(Stall))
}

/// A history of one user message.
pub fn user(text: &str) -> Vec<Item> {
    vec![Item::User {
        text: text.to_owned(),
    }]
}

/// What a turn produced.
#[derive(Debug)]
pub struct Outcome {
    /// How it ended.
    pub result: Result<TurnEnd, EngineError>,
    /// Every event, in order.
    pub events: Vec<Event>,
    /// Every commit, in order.
    pub commits: Vec<Item>,
    /// From the cancellation to the engine's return, when it was cancelled.
    pub cancel_to_end: Option<Duration>,
    /// From start to end.
    pub elapsed: Duration,
}

impl Outcome {
    /// The text deltas, in order.
    pub fn deltas(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::TextDelta { text } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    /// The `LlmRetry` events as `(attempt, wait_ms, status, error)`.
    pub fn retries(&self) -> Vec<(u32, u64, Option<u16>, String)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::LlmRetry {
                    attempt,
                    wait_ms,
                    status,
                    error,
                    ..
                } => Some((*attempt, *wait_ms, *status, error.clone())),
                _ => None,
            })
            .collect()
    }

    /// The provider error's message; panics on any other result.
    pub fn provider_error(&self) -> &str {
        match &self.result {
            Err(EngineError::Provider(message)) => message,
            other => panic!(
                "expected a provider error, got {other:?}; events {:#?}",
                self.events
            ),
        }
    }
}

/// Runs a turn of `llm` on `history` to its end.
pub async fn run(llm: &mut Llm, history: Vec<Item>) -> Outcome {
    drive(llm, history, |_| false).await
}

/// Runs a turn, cancelling it as soon as an event satisfies `cancel_when`.
pub async fn drive(
    llm: &mut Llm,
    history: Vec<Item>,
    cancel_when: impl Fn(&Event) -> bool,
) -> Outcome {
    let (sink, mut rx) = TurnSink::channel();
    let cancel = CancellationToken::new();
    let turn = Turn {
        history,
        sink,
        cancel: cancel.clone(),
    };
    let started = Instant::now();
    let mut outputs = Vec::new();
    let mut cancelled_at = None;
    let running = tokio::time::timeout(TURN_LIMIT, llm.run(turn));
    tokio::pin!(running);
    let result = loop {
        tokio::select! {
            result = &mut running => break result.expect("the turn did not end in time"),
            Some(output) = rx.recv() => {
                if let TurnOutput::Event(event) = &output {
                    if cancelled_at.is_none() && cancel_when(event) {
                        cancel.cancel();
                        cancelled_at = Some(Instant::now());
                    }
                }
                outputs.push(output);
            }
        }
    };
    let ended = Instant::now();
    while let Ok(output) = rx.try_recv() {
        outputs.push(output);
    }
    let mut events = Vec::new();
    let mut commits = Vec::new();
    for output in outputs {
        match output {
            TurnOutput::Event(event) => events.push(event),
            TurnOutput::Commit(item) => commits.push(item),
        }
    }
    Outcome {
        result,
        events,
        commits,
        cancel_to_end: cancelled_at.map(|at| ended - at),
        elapsed: ended - started,
    }
}

/// Answers `looked up ARGUMENTS`.
pub struct Lookup;

impl Tool for Lookup {
    fn name(&self) -> &str {
        "lookup"
    }

    fn description(&self) -> &str {
        "Looks something up."
    }

    fn parameters(&self) -> String {
        r#"{"type":"object","properties":{"path":{"type":"integer"}},"required":["path"]}"#
            .to_owned()
    }

    fn call(&self, arguments: String, _cancel: CancellationToken) -> ToolFuture<'_> {
        Box::pin(async move { ToolOutcome::ok(format!("looked up {arguments}")) })
    }
}

/// Never answers (within a test's time).
pub struct Stall;

impl Tool for Stall {
    fn name(&self) -> &str {
        "stall"
    }

    fn description(&self) -> &str {
        "Takes its time."
    }

    fn parameters(&self) -> String {
        r#"{"type":"object","properties":{}}"#.to_owned()
    }

    fn call(&self, _arguments: String, _cancel: CancellationToken) -> ToolFuture<'_> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            ToolOutcome::ok("done")
        })
    }
}
