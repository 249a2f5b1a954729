//! The pod-link actor: owns one generation of one pod or plain process — the OS child,
//! its socket (pods), and how it ended. It lives exactly as long as that process.

mod dirs;
mod handshake;
pub mod memory;
mod start;

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use podsup_config::{ChildKind, Limits, Shutdown};
use podsup_wire::ctl::LastExit;
use podsup_wire::{Event, ExitStatus, Method, PodEvent, PodToRoot, RootToPod};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::ctx::RootCtx;
use crate::policy::ExitKind;
use crate::reap;
use crate::registry::Feed;
use crate::sup::SupMsg;

/// How long a pod may keep running after closing its socket before it is killed.
const CLOSED_GRACE: Duration = Duration::from_secs(1);

/// How one generation of a child ended, for its supervisor.
#[derive(Debug, Clone)]
pub struct Ended {
    /// What policy makes of it.
    pub kind: ExitKind,
    /// What the operator sees.
    pub last: LastExit,
}

/// Messages to a link actor.
#[derive(Debug)]
pub enum LinkMsg {
    /// The process was reaped.
    Exited(Result<ExitStatus, String>),
    /// A frame from the pod.
    Frame(PodToRoot),
    /// The pod sent something that is not a frame of the protocol.
    Broken(String),
    /// The pod closed its socket.
    Closed,
    /// The pod closed its socket this long ago and has not exited.
    ClosedGrace,
    /// Stop the process per its shutdown spec; answer once it is reaped.
    Stop(RpcReplyPort<Ended>),
    /// The shutdown grace period is over.
    KillDeadline,
    /// Deliver a method to the pod.
    Method(Method),
    /// The process stayed above its memory ceiling.
    MemoryCeiling(memory::Exceeded),
}

/// What a link is started with.
#[derive(Debug, Clone)]
pub struct LinkArgs {
    /// Child name.
    pub name: String,
    /// Generation of this start.
    pub generation: u64,
    /// Pod or process spec (never `Supervisor`).
    pub kind: ChildKind,
    /// Start deadline.
    pub start_timeout: Duration,
    /// Shutdown spec.
    pub shutdown: Shutdown,
    /// User, resource limits and memory ceiling of the process.
    pub limits: Limits,
    /// The supervisor to report the exit to.
    pub supervisor: ActorRef<SupMsg>,
    /// The pod that spawned this one (spawned pods only).
    pub parent: Option<String>,
    /// Shared root context.
    pub ctx: Arc<RootCtx>,
}

/// Why the root killed a process that was up; decides how its exit reads.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Its link failed (a broken frame, a socket closed too long).
    Link(String),
    /// It stayed above its memory ceiling.
    MemoryCeiling(memory::Exceeded),
}

/// A link's life after start.
#[derive(Debug)]
enum Phase {
    /// Up; `fault` holds the first reason the root killed it, if any.
    Up { fault: Option<Fault> },
    /// Stopping on request; answer `reply` when reaped.
    Stopping {
        reply: RpcReplyPort<Ended>,
        /// Why it was sent SIGKILL, once it was.
        killed: Option<String>,
    },
    /// Reaped; the actor is stopping.
    Gone,
}

/// State of a running link.
#[derive(Debug)]
pub struct LinkState {
    args: LinkArgs,
    pid: u32,
    /// Frames to the pod (`None` for plain processes).
    to_pod: Option<start::ToPod>,
    /// The pod said `ShutDown` before exiting.
    orderly: bool,
    phase: Phase,
    /// Samples its memory while it runs (`memory_max` only); ends with the state.
    memory: Option<memory::Watch>,
}

/// The pod-link actor.
#[derive(Debug)]
pub struct Link;

impl Actor for Link {
    type Msg = LinkMsg;
    type State = LinkState;
    type Arguments = LinkArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<LinkMsg>,
        args: LinkArgs,
    ) -> Result<LinkState, ActorProcessingErr> {
        let started = start::start(&args, &myself).await?;
        args.ctx.registry.link_up(&args.name, &myself, started.pid);
        let feed = Feed::Started {
            generation: args.generation,
        };
        args.ctx.registry.publish(&args.name, feed);
        let memory = args
            .limits
            .memory_max
            .map(|max| memory::watch(started.pid, max, myself.clone()));
        Ok(LinkState {
            pid: started.pid,
            to_pod: started.to_pod,
            orderly: false,
            phase: Phase::Up { fault: None },
            memory,
            args,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<LinkMsg>,
        msg: LinkMsg,
        state: &mut LinkState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            LinkMsg::Exited(status) => exited(&myself, state, status),
            LinkMsg::Frame(frame) => frame_from_pod(state, frame),
            LinkMsg::Broken(reason) => fault(state, Fault::Link(reason)),
            LinkMsg::Closed => {
                // Dying pods close their socket a moment before they are reaped; only a
                // pod that keeps running without its socket is at fault.
                myself.send_after(CLOSED_GRACE, || LinkMsg::ClosedGrace);
            }
            LinkMsg::ClosedGrace => {
                let reason = "closed its socket but kept running".to_owned();
                fault(state, Fault::Link(reason));
            }
            LinkMsg::Stop(reply) => stop(&myself, state, reply),
            LinkMsg::KillDeadline => kill_deadline(state),
            LinkMsg::Method(method) => send(state, RootToPod::Method(method)),
            LinkMsg::MemoryCeiling(exceeded) => fault(state, Fault::MemoryCeiling(exceeded)),
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<LinkMsg>,
        state: &mut LinkState,
    ) -> Result<(), ActorProcessingErr> {
        if !matches!(state.phase, Phase::Gone) {
            // Stopped without reaping (the supervisor went away): never leave the group
            // behind. The waiter task still reaps it.
            reap::signal_group(state.pid, Signal::SIGKILL);
        }
        Ok(())
    }
}

fn send(state: &LinkState, frame: RootToPod) {
    let Some(to_pod) = &state.to_pod else {
        tracing::warn!(pod = %state.args.name, "a plain process takes no methods");
        return;
    };
    if let Err(e) = to_pod.try_send(Box::new(frame)) {
        tracing::warn!(pod = %state.args.name, %e, "cannot queue frame for pod");
    }
}

fn frame_from_pod(state: &mut LinkState, frame: PodToRoot) {
    match frame {
        PodToRoot::PodEvent(event) => pod_event(state, event),
        PodToRoot::Event(event) => {
            if let Event::Alert { level, message } = &event {
                let pod = &state.args.name;
                match level {
                    podsup_wire::event::AlertLevel::Info => tracing::info!(%pod, "{message}"),
                    podsup_wire::event::AlertLevel::Warning => tracing::warn!(%pod, "{message}"),
                    podsup_wire::event::AlertLevel::Error => tracing::error!(%pod, "{message}"),
                }
            }
            if let Event::Committed(entry) = &event {
                state.args.ctx.registry.ack(&state.args.name, &entry.item);
            }
            if let Event::Status { status } | Event::Snapshot { status, .. } = &event {
                let status = *status;
                state
                    .args
                    .ctx
                    .registry
                    .update(&state.args.name, |n| n.pod_status = Some(status));
            }
            let feed = Feed::Event {
                generation: state.args.generation,
                event,
            };
            state.args.ctx.registry.publish(&state.args.name, feed);
        }
        PodToRoot::Request { id, request } => {
            let Some(to_pod) = state.to_pod.clone() else {
                return;
            };
            let ctx = state.args.ctx.clone();
            let from = state.args.name.clone();
            tokio::spawn(async move {
                let reply = crate::orchestrate::handle(&ctx, &from, request).await;
                if let Err(e) = to_pod.send(Box::new(RootToPod::Reply { id, reply })).await {
                    tracing::debug!(pod = %from, %e, "pod gone before its reply");
                }
            });
        }
        PodToRoot::Hello(_) | PodToRoot::Ready => {
            let reason = "handshake frame after the handshake".to_owned();
            fault(state, Fault::Link(reason));
        }
    }
}

/// An upward pod event: checked against the sender (identity is the socket), then passed
/// to the spawner, if any. An event in another pod's name, or one only the root may say,
/// fails the sender's link.
fn pod_event(state: &mut LinkState, event: PodEvent) {
    let name = &state.args.name;
    let own = match &event {
        PodEvent::TurnEnded { pod_name }
        | PodEvent::Errored { pod_name, .. }
        | PodEvent::ShutDown { pod_name } => pod_name == name,
        PodEvent::ScopeSubDelegated { parent_pod, .. } => parent_pod == name,
        // Only the root says a pod crashed, restarted or was reclaimed.
        PodEvent::Crashed { .. } | PodEvent::Restarted { .. } | PodEvent::Reclaimed { .. } => false,
    };
    if !own {
        // Identity is the socket: a pod that speaks for another is out of protocol, and is
        // treated like one that sends garbage. The event reaches no one.
        let reason = format!("sent an event it may not send (dropped): {event:?}");
        fault(state, Fault::Link(reason));
        return;
    }
    if let PodEvent::ShutDown { .. } = event {
        state.orderly = true;
    }
    if let Some(spawner) = &state.args.parent {
        state
            .args
            .ctx
            .registry
            .deliver(spawner, Method::PodEvent(event));
    }
}

/// The root must kill a process that is up: a pod whose link failed cannot be
/// supervised, a process above its memory ceiling must not go on. Its group is killed and
/// its exit reported as a failure (unless it is already on its way out).
fn fault(state: &mut LinkState, why: Fault) {
    let Phase::Up { fault } = &mut state.phase else {
        return;
    };
    let (name, pid) = (&state.args.name, state.pid);
    match &why {
        Fault::Link(reason) => {
            tracing::error!(pod = %name, pid, %reason, "pod link failed; killing the pod");
        }
        Fault::MemoryCeiling(exceeded) => {
            tracing::error!(child = %name, pid, "{exceeded}; killing its process group");
        }
    }
    reap::signal_group(pid, Signal::SIGKILL);
    fault.get_or_insert(why);
}

fn stop(myself: &ActorRef<LinkMsg>, state: &mut LinkState, reply: RpcReplyPort<Ended>) {
    if !matches!(state.phase, Phase::Up { .. }) {
        return;
    }
    let killed = match state.args.shutdown {
        Shutdown::BrutalKill => {
            reap::signal_group(state.pid, Signal::SIGKILL);
            Some("killed: shutdown = brutal_kill".to_owned())
        }
        Shutdown::Timeout(grace) => {
            match &state.args.kind {
                ChildKind::Pod(_) => send(state, RootToPod::Method(Method::Shutdown)),
                ChildKind::Process(_) | ChildKind::Supervisor(_) => {
                    reap::signal_group(state.pid, Signal::SIGTERM)
                }
            }
            myself.send_after(grace, || LinkMsg::KillDeadline);
            None
        }
    };
    state.phase = Phase::Stopping { reply, killed };
}

fn kill_deadline(state: &mut LinkState) {
    if let Phase::Stopping { killed, .. } = &mut state.phase {
        if killed.is_none() {
            tracing::warn!(pod = %state.args.name, pid = state.pid, "shutdown timeout passed; killing");
            reap::signal_group(state.pid, Signal::SIGKILL);
            let grace = match state.args.shutdown {
                Shutdown::Timeout(grace) => grace,
                Shutdown::BrutalKill => Duration::ZERO,
            };
            *killed = Some(format!("killed after the {grace:?} shutdown timeout"));
        }
    }
}

fn exited(myself: &ActorRef<LinkMsg>, state: &mut LinkState, status: Result<ExitStatus, String>) {
    // Reaped: its pid may be reused at once, so sampling it must end now.
    drop(state.memory.take());
    let phase = std::mem::replace(&mut state.phase, Phase::Gone);
    let registry = &state.args.ctx.registry;
    registry.link_down(&state.args.name, myself.get_id());
    let reason = match &status {
        Ok(s) => describe(*s),
        Err(e) => e.clone(),
    };
    let feed = Feed::Exited {
        generation: state.args.generation,
        reason,
    };
    registry.publish(&state.args.name, feed);
    if matches!(state.args.kind, ChildKind::Pod(_)) {
        let ctx = state.args.ctx.clone();
        let name = state.args.name.clone();
        tokio::spawn(async move { crate::orchestrate::spawner_exited(&ctx, &name).await });
    }
    let is_pod = matches!(state.args.kind, ChildKind::Pod(_));
    match phase {
        Phase::Stopping { reply, killed } => {
            let reason = match (killed, &status) {
                (Some(why), _) => format!("stopped ({why})"),
                (None, Ok(s)) => format!("stopped ({})", describe(*s)),
                (None, Err(e)) => format!("stopped ({e})"),
            };
            let ended = Ended {
                kind: ExitKind::Shutdown,
                last: LastExit {
                    status: status.ok(),
                    reason,
                },
            };
            if reply.send(ended).is_err() {
                tracing::debug!(pod = %state.args.name, "stop requester went away");
            }
        }
        Phase::Up { fault } => {
            let ended = classify(is_pod, state.orderly, status, fault);
            tracing::info!(child = %state.args.name, generation = state.args.generation, reason = %ended.last.reason, "exited");
            let msg = SupMsg::ChildExited {
                name: state.args.name.clone(),
                generation: state.args.generation,
                ended,
            };
            if let Err(e) = state.args.supervisor.send_message(msg) {
                tracing::warn!(pod = %state.args.name, %e, "supervisor gone; exit not reported");
            }
        }
        Phase::Gone => {}
    }
    myself.stop(None);
}

/// Turns a reaped status into policy's view and the operator's words. A process killed
/// for its memory ceiling failed whatever its status says.
pub fn classify(
    is_pod: bool,
    orderly: bool,
    status: Result<ExitStatus, String>,
    fault: Option<Fault>,
) -> Ended {
    let (kind, reason) = match (&status, is_pod, orderly) {
        (Err(e), _, _) => (ExitKind::Abnormal, format!("lost: {e}")),
        (Ok(ExitStatus::Code(0)), true, true) => (ExitKind::Normal, "shut down".to_owned()),
        (Ok(ExitStatus::Code(0)), false, _) => (ExitKind::Normal, "exited normally".to_owned()),
        (Ok(s), true, false) => (ExitKind::Abnormal, format!("crashed: {}", describe(*s))),
        (Ok(s), _, _) => (ExitKind::Abnormal, format!("failed: {}", describe(*s))),
    };
    let (kind, reason) = match fault {
        Some(Fault::Link(b)) => (kind, format!("{reason}; link error: {b}")),
        Some(Fault::MemoryCeiling(exceeded)) => (ExitKind::Abnormal, exceeded.to_string()),
        None => (kind, reason),
    };
    Ended {
        kind,
        last: LastExit {
            status: status.ok(),
            reason,
        },
    }
}

/// `exit code 3`, `killed by SIGKILL`.
pub fn describe(status: ExitStatus) -> String {
    match status {
        ExitStatus::Code(c) => format!("exit code {c}"),
        ExitStatus::Signal(s) => match Signal::try_from(s) {
            Ok(sig) => format!("killed by {}", sig.as_str()),
            Err(_) => format!("killed by signal {s}"),
        },
    }
}
