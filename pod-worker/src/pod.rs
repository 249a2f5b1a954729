//! The pod's main loop: the socket to the root, the controller, the engine's turn and the
//! session log, tied together. I/O lives here; decisions live in [`crate::controller`].

mod io;
mod tooling;

use std::path::Path;

use podsup_wire::event::AlertLevel;
use podsup_wire::{Entry, Event, Init, Item, PodToRoot, RootToPod};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::controller::{Action, Controller};
use crate::engine::{AnyEngine, EngineError, Turn, TurnEnd, TurnOutput, TurnSink};
use crate::root_client::RootClient;
use crate::session_log::{FsyncPolicy, SessionLog};
pub use io::PodError;
use tooling::Tooling;

/// Largest snapshot sent in one frame; older entries stay readable with `ctl logs`.
const SNAPSHOT_BUDGET: usize = 4 * 1024 * 1024;

type TurnTask = JoinHandle<(AnyEngine, Result<TurnEnd, EngineError>)>;

/// A turn in flight: its task (which owns the engine), its output, its cancel token.
struct InFlight {
    task: TurnTask,
    output: mpsc::UnboundedReceiver<TurnOutput>,
    cancel: CancellationToken,
}

/// Everything the loop owns.
struct Pod {
    init: Init,
    controller: Controller,
    log: SessionLog,
    entries: Vec<Entry>,
    engine: Option<AnyEngine>,
    turn: Option<InFlight>,
    to_root: mpsc::UnboundedSender<PodToRoot>,
    tooling: Tooling,
    exiting: bool,
}

/// Runs the pod until shutdown, EOF on its socket, or a fatal error.
pub async fn run() -> Result<(), PodError> {
    let mut stream = io::socket()?;
    let init = io::handshake(&mut stream).await?;
    let (mut from_root, to_root, writer) = io::split(stream);
    let tooling = Tooling::new(&init, RootClient::new(&init.name, to_root.clone()));
    let (opened, engine) = match prepare(&init, &tooling) {
        Ok(prepared) => prepared,
        Err(e) => {
            // Say why instead of Ready, so the root (and the operator) can tell.
            let failure = Event::Error {
                code: podsup_wire::ErrorCode::Internal,
                message: e.to_string(),
            };
            if to_root.send(PodToRoot::Event(failure)).is_err() {
                tracing::debug!("root link gone before the failure could be told");
            }
            drop(to_root);
            drop(tooling);
            io::flush(writer).await;
            return Err(e);
        }
    };
    let mut terms = signal(SignalKind::terminate()).map_err(PodError::Setup)?;
    if to_root.send(PodToRoot::Ready).is_err() {
        return Err(PodError::Protocol("root link closed before Ready".into()));
    }
    crate::stamp(".ready");
    let mut pod = Pod {
        controller: Controller::new(&init.name),
        init,
        log: opened.log,
        entries: opened.entries,
        engine: Some(engine),
        turn: None,
        to_root,
        tooling,
        exiting: false,
    };
    if let Some(recovery) = opened.recovered {
        pod.emit(Event::Alert {
            level: AlertLevel::Warning,
            message: recovery.to_string(),
        });
    }
    pod.snapshot();
    let outcome = loop {
        if pod.exiting {
            break Ok(());
        }
        tokio::select! {
            biased;
            progress = progress(&mut pod.turn) => match progress {
                Progress::Output(output) => pod.turn_output(Some(output))?,
                Progress::Done(done) => pod.turn_done(done)?,
            },
            frame = from_root.recv() => match frame {
                None => break Ok(()),
                Some(Err(e)) => break Err(PodError::Link(e)),
                Some(Ok(RootToPod::Method(method))) => {
                    let actions = pod.controller.on_method(method);
                    pod.execute(actions)?;
                }
                Some(Ok(RootToPod::Reply { id, reply })) => pod.tooling.client().resolve(id, reply),
                Some(Ok(other)) => break Err(PodError::Protocol(format!("unexpected frame {other:?}"))),
            },
            _ = terms.recv() => {
                let actions = pod.controller.on_method(podsup_wire::Method::Shutdown);
                pod.execute(actions)?;
            }
        }
    };
    if let Some(turn) = pod.turn.take() {
        turn.cancel.cancel();
    }
    drop(pod);
    io::flush(writer).await;
    outcome
}

/// Opens the session log and builds the engine: what a pod needs before it is Ready.
fn prepare(
    init: &Init,
    tooling: &Tooling,
) -> Result<(crate::session_log::Opened, AnyEngine), PodError> {
    let policy = match init.fsync.as_str() {
        "always" => FsyncPolicy::Always,
        "never" => FsyncPolicy::Never,
        _ => FsyncPolicy::Checkpoints,
    };
    let opened = SessionLog::open(Path::new(&init.state_dir), policy).map_err(PodError::Log)?;
    if let Err(e) = std::fs::create_dir_all(&init.runtime_dir) {
        tracing::warn!(dir = %init.runtime_dir, %e, "no runtime dir: bash output cannot spill");
    }
    tooling.refresh(&opened.entries);
    let engine =
        AnyEngine::from_spec(&init.engine, || tooling.toolbox()).map_err(PodError::Engine)?;
    Ok((opened, engine))
}

type Joined = Result<(AnyEngine, Result<TurnEnd, EngineError>), tokio::task::JoinError>;

/// Something the turn in flight did.
enum Progress {
    /// It produced output.
    Output(TurnOutput),
    /// It ended.
    Done(Joined),
}

/// The turn's next output, or its end once its output is drained; never without a turn.
async fn progress(turn: &mut Option<InFlight>) -> Progress {
    let Some(t) = turn else {
        return std::future::pending().await;
    };
    tokio::select! {
        biased;
        Some(output) = t.output.recv() => Progress::Output(output),
        done = &mut t.task => Progress::Done(done),
    }
}

impl Pod {
    fn send(&self, frame: PodToRoot) {
        if self.to_root.send(frame).is_err() {
            tracing::debug!("root link gone; frame dropped");
        }
    }

    fn emit(&self, event: Event) {
        self.send(PodToRoot::Event(event));
    }

    fn turn_output(&mut self, output: Option<TurnOutput>) -> Result<(), PodError> {
        match output {
            Some(TurnOutput::Event(event)) => self.emit(event),
            Some(TurnOutput::Commit(item)) => self.commit(item)?,
            // The sink closed: the turn task is ending; its result follows.
            None => {}
        }
        Ok(())
    }

    fn turn_done(&mut self, done: Joined) -> Result<(), PodError> {
        let Some(mut turn) = self.turn.take() else {
            return Ok(());
        };
        // Everything the engine produced comes before the end of its turn.
        while let Ok(output) = turn.output.try_recv() {
            self.turn_output(Some(output))?;
        }
        let result = match done {
            Ok((engine, result)) => {
                self.engine = Some(engine);
                result
            }
            Err(e) => {
                let engine = AnyEngine::from_spec(&self.init.engine, || self.tooling.toolbox())
                    .map_err(PodError::Engine)?;
                self.engine = Some(engine);
                Err(EngineError::Internal(format!("turn task failed: {e}")))
            }
        };
        let actions = self.controller.on_turn_end(result);
        self.execute(actions)
    }

    fn commit(&mut self, item: Item) -> Result<(), PodError> {
        let registry_change = matches!(item, Item::Registry { .. } | Item::PodEvent(_));
        let entry = self.log.append(item).map_err(PodError::Log)?;
        self.entries.push(entry.clone());
        if registry_change {
            self.tooling.refresh(&self.entries);
        }
        self.emit(Event::Committed(entry));
        Ok(())
    }

    fn execute(&mut self, actions: Vec<Action>) -> Result<(), PodError> {
        for action in actions {
            match action {
                Action::Emit(event) => self.emit(event),
                Action::Upward(event) => self.send(PodToRoot::PodEvent(event)),
                Action::Commit(item) => self.commit(item)?,
                Action::Checkpoint => self.log.checkpoint().map_err(PodError::Log)?,
                Action::StartTurn => self.start_turn(),
                Action::CancelTurn => {
                    if let Some(turn) = &self.turn {
                        turn.cancel.cancel();
                    }
                }
                Action::SendSnapshot => self.snapshot(),
                Action::Exit => self.exiting = true,
            }
        }
        Ok(())
    }

    fn start_turn(&mut self) {
        let Some(mut engine) = self.engine.take() else {
            tracing::error!(pod = %self.init.name, "turn requested while one is in flight");
            return;
        };
        let (sink, output) = TurnSink::channel();
        let cancel = CancellationToken::new();
        let turn = Turn {
            history: self.entries.iter().map(|e| e.item.clone()).collect(),
            sink,
            cancel: cancel.clone(),
        };
        let task = tokio::spawn(async move {
            let result = engine.run(turn).await;
            (engine, result)
        });
        self.turn = Some(InFlight {
            task,
            output,
            cancel,
        });
    }

    /// Sends the status and the most recent committed entries that fit one frame.
    fn snapshot(&self) {
        let mut budget = SNAPSHOT_BUDGET;
        let mut start = self.entries.len();
        while start > 0 {
            let size = entry_size(&self.entries[start - 1]);
            if size > budget {
                break;
            }
            budget -= size;
            start -= 1;
        }
        let status = self.controller.status();
        let greeting = format!(
            "pod {} generation {}: {} committed entries{}",
            self.init.name,
            self.init.generation,
            self.entries.len(),
            match start {
                0 => String::new(),
                n => format!(" ({n} older ones: see `podsup ctl logs`)"),
            }
        );
        self.emit(Event::Snapshot {
            entries: self.entries[start..].to_vec(),
            greeting,
            status,
        });
    }
}

/// A generous estimate of an entry's encoded size.
fn entry_size(entry: &Entry) -> usize {
    let text = match &entry.item {
        Item::User { text }
        | Item::Notification { text }
        | Item::Assistant { text }
        | Item::System { text } => text.len(),
        Item::ToolCall {
            id,
            name,
            arguments,
        } => id.len() + name.len() + arguments.len(),
        Item::ToolResult { id, output, .. } => id.len() + output.len(),
        Item::PodEvent(_) => 256,
        Item::Registry { json } => json.len(),
    };
    text + 64
}
