//! The pod controller: one state machine, Idle / Running / Paused, that owns the pod's
//! state and decides what every method does in every state.
//!
//! [`Controller::on_method`] and [`Controller::on_turn_end`] are pure: they return
//! [`Action`]s that the pod's loop carries out (commit to the session log, start or cancel
//! the engine's turn, send events to subscribers and pod events upward, exit). The whole
//! method × state table is tested in `controller/tests.rs` without a process.

use std::collections::VecDeque;

use podsup_wire::event::{AlertLevel, InvokeKind};
use podsup_wire::{ErrorCode, Event, Item, Method, PodEvent, PodStatus, RunResult, Segment};

use crate::engine::{EngineError, TurnEnd};

/// Notifications and child pod events held while a turn runs (oldest dropped past this).
pub const NOTIFY_CAPACITY: usize = 64;

/// Why a turn is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `Run` from the parent or an operator.
    Run,
    /// `Resume` of a paused turn.
    Resume,
    /// Buffered notifications while idle.
    Notify,
    /// A child's pod event while idle.
    PodEvent,
}

impl Origin {
    /// Only turns the parent asked for are reported upward (`TurnEnded` / `Errored`).
    pub fn parent_originated(self) -> bool {
        match self {
            Origin::Run | Origin::Resume => true,
            Origin::Notify | Origin::PodEvent => false,
        }
    }

    fn invoke_kind(self) -> InvokeKind {
        match self {
            Origin::Run => InvokeKind::UserSend,
            Origin::Resume => InvokeKind::Resume,
            Origin::Notify => InvokeKind::Notify,
            Origin::PodEvent => InvokeKind::PodEvent,
        }
    }
}

/// How a running turn was asked to end early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `Pause`: stop and wait for `Resume`.
    Pause,
    /// `Cancel`: stop and go idle.
    Cancel,
    /// `Shutdown`: stop and exit.
    Shutdown,
}

/// The controller's state, carrying what each state needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No turn.
    Idle,
    /// A turn is in flight.
    Running {
        /// Turn number.
        turn: u64,
        /// Why it runs.
        origin: Origin,
        /// Set once an early end was requested.
        ending: Option<Ending>,
    },
    /// A turn was paused.
    Paused {
        /// Why the paused turn ran (a resumed turn is parent-originated).
        origin: Origin,
    },
    /// Shut down; nothing more is accepted.
    Exiting,
}

/// What the pod's loop must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send an event to subscribers.
    Emit(Event),
    /// Send a pod event to the parent (through the root).
    Upward(PodEvent),
    /// Append to the session log (and announce the committed entry).
    Commit(Item),
    /// fsync the session log (policy permitting).
    Checkpoint,
    /// Start the engine on the committed history.
    StartTurn,
    /// Cancel the engine's turn.
    CancelTurn,
    /// Send a snapshot of the committed history.
    SendSnapshot,
    /// Flush and exit 0.
    Exit,
}

/// A notification or pod event waiting for a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    /// Committed when its turn starts.
    Notify(String),
    /// Already committed on arrival (the registry replays pod events from the log, so
    /// they cannot wait in memory); only the turn is pending.
    PodEvent,
}

/// The pod controller.
#[derive(Debug)]
pub struct Controller {
    name: String,
    state: State,
    turns: u64,
    pending: VecDeque<Pending>,
}

fn error(code: ErrorCode, message: impl Into<String>) -> Action {
    Action::Emit(Event::Error {
        code,
        message: message.into(),
    })
}

fn input_text(input: &[Segment]) -> String {
    input
        .iter()
        .map(|s| match s {
            Segment::Text(t) => t.as_str(),
        })
        .collect::<Vec<_>>()
        .join("")
}

impl Controller {
    /// An idle controller for pod `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            state: State::Idle,
            turns: 0,
            pending: VecDeque::new(),
        }
    }

    /// The state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The status subscribers see.
    pub fn status(&self) -> PodStatus {
        match self.state {
            State::Idle | State::Exiting => PodStatus::Idle,
            State::Running { .. } => PodStatus::Running,
            State::Paused { .. } => PodStatus::Paused,
        }
    }

    /// Buffered notifications and pod events.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Handles one method in the current state.
    pub fn on_method(&mut self, method: Method) -> Vec<Action> {
        match method {
            Method::Run { input } => self.run(input),
            Method::Notify { message } => self.buffer(Pending::Notify(message)),
            Method::PodEvent(event) => {
                let mut actions = vec![Action::Commit(Item::PodEvent(event)), Action::Checkpoint];
                actions.extend(self.buffer(Pending::PodEvent));
                actions
            }
            Method::Resume => self.resume(),
            Method::Cancel => self.end_early(Ending::Cancel),
            Method::Pause => self.end_early(Ending::Pause),
            Method::Shutdown => self.end_early(Ending::Shutdown),
            Method::Compact | Method::ListRewindTargets | Method::RewindTo { .. } => {
                self.history_change(&method)
            }
            Method::Snapshot => vec![Action::SendSnapshot],
            // Registry changes are committed in every state, even while exiting: what the
            // root did must be on record.
            Method::Record { item } => vec![Action::Commit(item), Action::Checkpoint],
            Method::ListVisiblePods
            | Method::InspectPod { .. }
            | Method::AttachOrRestorePod { .. } => {
                vec![error(
                    ErrorCode::InvalidRequest,
                    format!(
                        "{}: pod discovery is not available in this version",
                        self.name
                    ),
                )]
            }
        }
    }

    fn run(&mut self, input: Vec<Segment>) -> Vec<Action> {
        match self.state {
            State::Running { .. } => vec![error(
                ErrorCode::AlreadyRunning,
                format!("{} is already executing a turn", self.name),
            )],
            State::Exiting => vec![error(ErrorCode::InvalidRequest, "shutting down")],
            State::Idle | State::Paused { .. } => {
                let text = input_text(&input);
                let mut actions = Vec::new();
                if let State::Paused { .. } = self.state {
                    actions.push(Action::Commit(Item::System {
                        text: "the paused turn was abandoned for new input".into(),
                    }));
                }
                actions.extend([
                    Action::Commit(Item::User { text: text.clone() }),
                    Action::Checkpoint,
                    Action::Emit(Event::UserMessage { text }),
                ]);
                actions.extend(self.start(Origin::Run));
                actions
            }
        }
    }

    fn buffer(&mut self, item: Pending) -> Vec<Action> {
        let mut actions = Vec::new();
        if matches!(self.state, State::Exiting) {
            return vec![error(ErrorCode::InvalidRequest, "shutting down")];
        }
        if self.pending.len() == NOTIFY_CAPACITY {
            self.pending.pop_front();
            actions.push(Action::Emit(Event::Alert {
                level: AlertLevel::Warning,
                message: format!(
                    "{}: more than {NOTIFY_CAPACITY} notifications waiting; dropped the oldest",
                    self.name
                ),
            }));
        }
        let origin = match item {
            Pending::Notify(_) => Origin::Notify,
            Pending::PodEvent => Origin::PodEvent,
        };
        self.pending.push_back(item);
        if self.state == State::Idle {
            actions.extend(self.drain(origin));
        }
        actions
    }

    /// Commits every buffered item and starts a turn for them.
    fn drain(&mut self, origin: Origin) -> Vec<Action> {
        let mut actions = Vec::new();
        for item in self.pending.drain(..) {
            match item {
                Pending::Notify(text) => actions.push(Action::Commit(Item::Notification { text })),
                Pending::PodEvent => {}
            }
        }
        actions.push(Action::Checkpoint);
        actions.extend(self.start(origin));
        actions
    }

    fn start(&mut self, origin: Origin) -> Vec<Action> {
        self.turns += 1;
        self.state = State::Running {
            turn: self.turns,
            origin,
            ending: None,
        };
        vec![
            Action::Emit(Event::Status {
                status: PodStatus::Running,
            }),
            Action::Emit(Event::InvokeStart {
                kind: origin.invoke_kind(),
            }),
            Action::Emit(Event::TurnStart { turn: self.turns }),
            Action::StartTurn,
        ]
    }

    fn resume(&mut self) -> Vec<Action> {
        match self.state {
            State::Paused { .. } => self.start(Origin::Resume),
            State::Idle | State::Running { .. } | State::Exiting => vec![error(
                ErrorCode::NotPaused,
                format!("{} is not paused", self.name),
            )],
        }
    }

    fn end_early(&mut self, how: Ending) -> Vec<Action> {
        match (&mut self.state, how) {
            (State::Running { ending, .. }, _) => match ending {
                // Shutdown overrides an earlier pause or cancel; anything else is already
                // on its way.
                Some(Ending::Shutdown) => Vec::new(),
                Some(_) if how != Ending::Shutdown => Vec::new(),
                Some(_) | None => {
                    *ending = Some(how);
                    vec![Action::CancelTurn]
                }
            },
            (State::Paused { .. }, Ending::Pause) => Vec::new(),
            (State::Paused { .. }, Ending::Cancel) => {
                self.state = State::Idle;
                vec![
                    Action::Emit(Event::RunEnd {
                        result: RunResult::Cancelled,
                    }),
                    Action::Emit(Event::Status {
                        status: PodStatus::Idle,
                    }),
                ]
            }
            (State::Idle, Ending::Pause | Ending::Cancel) => vec![error(
                ErrorCode::NotRunning,
                format!("{} is not running", self.name),
            )],
            (State::Idle | State::Paused { .. }, Ending::Shutdown) => self.exit(),
            (State::Exiting, _) => Vec::new(),
        }
    }

    fn exit(&mut self) -> Vec<Action> {
        self.state = State::Exiting;
        vec![
            Action::Checkpoint,
            Action::Emit(Event::Shutdown),
            Action::Upward(PodEvent::ShutDown {
                pod_name: self.name.clone(),
            }),
            Action::Exit,
        ]
    }

    fn history_change(&mut self, method: &Method) -> Vec<Action> {
        match (&self.state, method) {
            (State::Running { .. }, _) => vec![error(
                ErrorCode::AlreadyRunning,
                format!(
                    "{} is executing a turn; compact and rewind wait for idle",
                    self.name
                ),
            )],
            (State::Exiting, _) => vec![error(ErrorCode::InvalidRequest, "shutting down")],
            (State::Idle | State::Paused { .. }, Method::ListRewindTargets) => {
                vec![Action::Emit(Event::RewindTargets {
                    targets: Vec::new(),
                })]
            }
            (State::Idle | State::Paused { .. }, _) => vec![error(
                ErrorCode::InvalidRequest,
                format!(
                    "{}: compact and rewind are not supported by this version",
                    self.name
                ),
            )],
        }
    }

    /// The engine's turn ended (finished, failed, or cancelled on request).
    pub fn on_turn_end(&mut self, result: Result<TurnEnd, EngineError>) -> Vec<Action> {
        let State::Running {
            turn,
            origin,
            ending,
        } = self.state
        else {
            return Vec::new();
        };
        let mut actions = match (result, ending) {
            (Err(EngineError::Cancelled), Some(Ending::Pause)) => {
                self.state = State::Paused { origin };
                return vec![
                    Action::Checkpoint,
                    Action::Emit(Event::TurnEnd {
                        turn,
                        result: RunResult::Paused,
                    }),
                    Action::Emit(Event::RunEnd {
                        result: RunResult::Paused,
                    }),
                    Action::Emit(Event::Status {
                        status: PodStatus::Paused,
                    }),
                ];
            }
            (Err(EngineError::Cancelled), Some(Ending::Cancel | Ending::Shutdown)) => {
                vec![
                    Action::Commit(Item::System {
                        text: format!("turn {turn} cancelled"),
                    }),
                    Action::Emit(Event::TurnEnd {
                        turn,
                        result: RunResult::Cancelled,
                    }),
                    Action::Emit(Event::RunEnd {
                        result: RunResult::Cancelled,
                    }),
                ]
            }
            (Ok(end), _) => {
                let result = match end {
                    TurnEnd::Finished => RunResult::Finished,
                    TurnEnd::LimitReached => RunResult::LimitReached,
                };
                let mut actions = vec![
                    Action::Emit(Event::TurnEnd { turn, result }),
                    Action::Emit(Event::RunEnd { result }),
                ];
                if origin.parent_originated() && end == TurnEnd::Finished {
                    actions.push(Action::Upward(PodEvent::TurnEnded {
                        pod_name: self.name.clone(),
                    }));
                }
                actions
            }
            (Err(e), _) => {
                let message = e.to_string();
                let mut actions = vec![
                    Action::Commit(Item::System {
                        text: format!("turn {turn} failed: {message}"),
                    }),
                    Action::Emit(Event::Error {
                        code: error_code(&e),
                        message: message.clone(),
                    }),
                    Action::Emit(Event::TurnEnd {
                        turn,
                        result: RunResult::RolledBack,
                    }),
                    Action::Emit(Event::RunEnd {
                        result: RunResult::RolledBack,
                    }),
                ];
                if origin.parent_originated() {
                    actions.push(Action::Upward(PodEvent::Errored {
                        pod_name: self.name.clone(),
                        message,
                    }));
                }
                actions
            }
        };
        actions.push(Action::Checkpoint);
        self.state = State::Idle;
        if ending == Some(Ending::Shutdown) {
            actions.extend(self.exit());
            return actions;
        }
        actions.push(Action::Emit(Event::Status {
            status: PodStatus::Idle,
        }));
        if !self.pending.is_empty() && ending.is_none() {
            let origin = match self.pending.front() {
                Some(Pending::PodEvent) => Origin::PodEvent,
                Some(Pending::Notify(_)) | None => Origin::Notify,
            };
            actions.extend(self.drain(origin));
        }
        actions
    }
}

/// The error code subscribers see for a failed turn.
pub fn error_code(e: &EngineError) -> ErrorCode {
    match e {
        EngineError::Cancelled | EngineError::Internal(_) => ErrorCode::Internal,
        EngineError::Provider(_) => ErrorCode::ProviderError,
        EngineError::Tool(_) => ErrorCode::ToolError,
        EngineError::Invalid(_) => ErrorCode::InvalidRequest,
    }
}

#[cfg(test)]
mod tests;
