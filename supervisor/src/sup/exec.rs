//! Carrying out [`Action`]s: the only place a supervisor starts or stops children.

use std::collections::VecDeque;
use std::time::Instant;

use podsup_config::{ChildKind, StartMode};
use podsup_wire::ctl::LastExit;
use podsup_wire::{Method, NodeState, PodEvent};
use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef, SpawnErr};

use super::{Handle, Op, Role, SupArgs, SupMsg, SupState, Supervisor, spawned};
use crate::core::{Action, ChildCore, ChildState};
use crate::ctx::DaemonEvent;
use crate::link::{Ended, Link, LinkArgs};
use crate::policy::ExitKind;
use crate::registry::Node;

/// Starts every child — in order, each waiting for the previous one to be ready, or all at
/// once for `start = "parallel"` — and on any failure stops the started ones in reverse
/// and fails, naming the child (OTP: a supervisor whose children cannot start does not
/// start).
pub async fn start_all(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    mode: StartMode,
) -> Result<(), String> {
    let failure = match mode {
        StartMode::Ordered => start_ordered(myself, state).await,
        StartMode::Parallel => start_parallel(myself, state).await,
    };
    match failure {
        None => Ok(()),
        Some((idx, reason)) => {
            stop_all(state).await;
            let name = &state.specs[idx].name;
            Err(format!("{name} failed to start: {reason}"))
        }
    }
}

async fn start_ordered(myself: &ActorRef<SupMsg>, state: &mut SupState) -> Option<(usize, String)> {
    for idx in 0..state.specs.len() {
        if state.core.children[idx].held {
            publish(state, idx);
            continue;
        }
        if let Err(reason) = start_one(myself, state, idx).await {
            return Some((idx, reason));
        }
    }
    None
}

async fn start_parallel(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
) -> Option<(usize, String)> {
    let mut set = tokio::task::JoinSet::new();
    for idx in 0..state.specs.len() {
        if state.core.children[idx].held {
            publish(state, idx);
            continue;
        }
        let spawn = spawn_child(myself, state, idx);
        set.spawn(async move { (idx, spawn.await) });
    }
    let mut results: Vec<Option<Result<Handle, String>>> = vec![None; state.specs.len()];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((idx, result)) => results[idx] = Some(result),
            Err(e) => tracing::error!(supervisor = %state.name, %e, "start task failed"),
        }
    }
    let mut failure = None;
    for (idx, result) in results.into_iter().enumerate() {
        if state.core.children[idx].held {
            continue;
        }
        let result = result.unwrap_or_else(|| Err("start task failed".into()));
        if let Err(reason) = finish_start(state, idx, result) {
            failure.get_or_insert((idx, reason));
        }
    }
    failure
}

/// A child reported its exit.
pub async fn child_exited(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    (name, generation): (String, u64),
    ended: Ended,
) {
    let Some(idx) = state.core.index_of(&name) else {
        return;
    };
    let current = state.core.children[idx].generation == generation && state.core.is_running(idx);
    if !current {
        tracing::debug!(supervisor = %state.name, child = %name, generation, "stale exit report ignored");
        return;
    }
    state.handles[idx] = None;
    let before = spawned::generations(state);
    let actions = state.core.exited(idx, ended.kind, Instant::now());
    // The exit and the state it leads to reach the registry in one write, so a reader
    // never sees the child running without a pid.
    let c = &state.core.children[idx];
    let status = ended.last.status;
    state.ctx.registry.update(&name, |n| {
        n.pid = None;
        n.last_exit = Some(ended.last);
        copy(c, n);
    });
    if let (Some(spawner), ExitKind::Abnormal, Some(exit)) =
        (state.role.spawner(), ended.kind, status)
    {
        let crashed = PodEvent::Crashed {
            pod_name: name.clone(),
            exit,
        };
        state
            .ctx
            .registry
            .deliver(spawner, Method::PodEvent(crashed));
    }
    run(myself, state, actions).await;
    spawned::settle(state, &before);
}

/// Carries out `actions` in order, feeding start failures back into the core.
pub async fn run(myself: &ActorRef<SupMsg>, state: &mut SupState, actions: Vec<Action>) {
    let mut queue: VecDeque<Action> = actions.into();
    while let Some(action) = queue.pop_front() {
        match action {
            Action::Stop(idx) => {
                stop_one(state, idx).await;
            }
            Action::Start(idx) => {
                if !state.core.wants_start(idx) {
                    continue;
                }
                if let Err(reason) = start_one(myself, state, idx).await {
                    let name = state.core.children[idx].name.clone();
                    let generation = state.core.children[idx].generation;
                    tracing::warn!(supervisor = %state.name, child = %name, generation, %reason, "restart failed");
                    let more = state.core.exited(idx, ExitKind::Abnormal, Instant::now());
                    publish(state, idx);
                    // New actions go first so the strategy's order holds; leftovers that
                    // no longer apply are skipped by `wants_start`.
                    let rest: Vec<Action> = queue.drain(..).collect();
                    queue.extend(more);
                    queue.extend(rest);
                }
            }
            Action::WakeAt(at) => {
                for idx in 0..state.core.children.len() {
                    publish(state, idx);
                }
                let delay = at.saturating_duration_since(Instant::now());
                myself.send_after(delay, || SupMsg::Wake);
            }
            Action::Escalate(reason) => {
                escalate(myself, state, reason).await;
                return;
            }
        }
    }
}

/// An operator request on one child.
pub async fn operate(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    op: Op,
) -> Result<String, String> {
    let (Op::Start(name) | Op::Stop(name) | Op::Restart(name)) = &op;
    let idx = state
        .core
        .index_of(name)
        .ok_or_else(|| format!("no child {name} under {}", state.name))?;
    let actions = match &op {
        Op::Start(_) => state.core.start(idx).map_err(|e| e.to_string())?,
        Op::Stop(_) => state.core.stop(idx).map_err(|e| e.to_string())?,
        Op::Restart(_) => state.core.restart_child(idx),
    };
    let held = matches!(op, Op::Stop(_));
    if let Err(e) = state.ctx.registry.set_held(name, held) {
        tracing::error!(child = %name, %e, "operator intent not saved");
    }
    publish(state, idx);
    // An operator's start that fails is reported, not treated as a crash: like OTP's
    // restart_child, it must not feed the restart intensity (and take the tree down). The
    // attempt still took a generation and, after the first start, counts as a restart.
    for action in actions {
        match action {
            Action::Stop(i) => stop_one(state, i).await,
            Action::Start(i) => {
                if let Err(reason) = start_one(myself, state, i).await {
                    state.core.children[i].state = ChildState::Stopped;
                    publish(state, i);
                    return Err(format!("{name} did not start: {reason}"));
                }
            }
            Action::WakeAt(_) | Action::Escalate(_) => {}
        }
    }
    let node = state.ctx.registry.get(name);
    let pid = node.as_ref().and_then(|n| n.pid);
    let generation = state.core.children[idx].generation;
    Ok(match (&op, pid) {
        (Op::Stop(_), _) => format!("stopped {name}"),
        (Op::Start(_) | Op::Restart(_), Some(pid)) => {
            format!("started {name} (pid {pid}, generation {generation})")
        }
        (Op::Start(_) | Op::Restart(_), None) if state.core.is_running(idx) => {
            format!("started {name} (generation {generation})")
        }
        (Op::Start(_) | Op::Restart(_), None) => {
            let why = node
                .and_then(|n| n.last_exit)
                .map(|l| l.reason)
                .unwrap_or_else(|| "unknown".into());
            return Err(format!("{name} did not start: {why}"));
        }
    })
}

/// Stops every running child in reverse start order.
pub async fn stop_all(state: &mut SupState) {
    for idx in (0..state.handles.len()).rev() {
        if state.handles[idx].is_some() {
            stop_one(state, idx).await;
        }
        state.core.children[idx].state = ChildState::Stopped;
        publish(state, idx);
    }
}

/// Gives up: stop everything, then fail to the parent (or make the daemon exit).
async fn escalate(myself: &ActorRef<SupMsg>, state: &mut SupState, reason: String) {
    tracing::error!(supervisor = %state.name, %reason, "giving up");
    for idx in (0..state.handles.len()).rev() {
        if state.handles[idx].is_some() {
            stop_one(state, idx).await;
        }
        if state.core.children[idx].state != ChildState::Failed {
            state.core.children[idx].state = ChildState::Stopped;
        }
        publish(state, idx);
    }
    let reason = format!("supervisor {}: {reason}", state.name);
    match state.role.clone() {
        Role::Child(parent) => {
            let msg = SupMsg::ChildExited {
                name: state.name.clone(),
                generation: state.generation,
                ended: Ended {
                    kind: ExitKind::Abnormal,
                    last: LastExit {
                        status: None,
                        reason,
                    },
                },
            };
            if let Err(e) = parent.send_message(msg) {
                tracing::error!(supervisor = %state.name, %e, "parent gone");
            }
        }
        Role::Root => {
            if let Err(e) = state.ctx.daemon.send(DaemonEvent::RootFailed(reason)) {
                tracing::error!(%e, "daemon loop gone");
            }
        }
        Role::Spawned { spawner } => {
            for idx in (0..state.core.children.len()).rev() {
                spawned::forget(state, idx);
            }
            let me = myself.get_id();
            state.ctx.registry.update(&spawner, |n| {
                if n.spawned.as_ref().is_some_and(|s| s.get_id() == me) {
                    n.spawned = None;
                }
            });
        }
    }
    myself.stop(None);
}

pub(super) async fn start_one(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    idx: usize,
) -> Result<(), String> {
    let spawned = spawn_child(myself, state, idx).await;
    finish_start(state, idx, spawned)
}

/// Begins a start attempt of child `idx` (its next generation, counted whether or not it
/// comes up) and returns the future that spawns its actor (which returns once the child
/// is ready); the future owns everything it needs, so starts can run at once.
fn spawn_child(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    idx: usize,
) -> impl std::future::Future<Output = Result<Handle, String>> + Send + 'static {
    let spec = state.specs[idx].clone();
    let name = spec.name.to_string();
    let generation = state.core.starting(idx);
    let restarts = state.core.children[idx].restarts;
    state.ctx.registry.update(&name, |n| {
        n.state = NodeState::Starting;
        n.pid = None;
        n.generation = generation;
        n.restarts = restarts;
    });
    let myself = myself.clone();
    let ctx = state.ctx.clone();
    let spawner = state.role.spawner().map(str::to_owned);
    async move {
        let cell = myself.get_cell();
        let spawned = match spec.kind {
            ChildKind::Supervisor(sup) => {
                let args = SupArgs {
                    name,
                    generation,
                    spec: sup,
                    role: Role::Child(myself),
                    ctx,
                };
                Actor::spawn_linked(None, Supervisor, args, cell)
                    .await
                    .map(|(r, _)| Handle::Sup(r))
            }
            kind @ (ChildKind::Pod(_) | ChildKind::Process(_)) => {
                let args = LinkArgs {
                    name,
                    generation,
                    kind,
                    start_timeout: spec.start_timeout,
                    shutdown: spec.shutdown,
                    limits: spec.limits,
                    supervisor: myself,
                    parent: spawner,
                    ctx,
                };
                Actor::spawn_linked(None, Link, args, cell)
                    .await
                    .map(|(r, _)| Handle::Link(r))
            }
        };
        spawned.map_err(|e| match e {
            SpawnErr::StartupFailed(inner) => inner.to_string(),
            other => other.to_string(),
        })
    }
}

/// Records the outcome of a start in the core and the registry.
fn finish_start(
    state: &mut SupState,
    idx: usize,
    spawned: Result<Handle, String>,
) -> Result<(), String> {
    match spawned {
        Ok(handle) => {
            state.handles[idx] = Some(handle);
            state.core.started(idx, Instant::now());
            publish(state, idx);
            Ok(())
        }
        Err(reason) => {
            let name = &state.core.children[idx].name;
            state.ctx.registry.update(name, |n| {
                n.pid = None;
                n.last_exit = Some(LastExit {
                    status: None,
                    reason: format!("start failed: {reason}"),
                });
            });
            publish(state, idx);
            Err(reason)
        }
    }
}

/// Stops one child per its shutdown spec and waits until it is gone.
pub(super) async fn stop_one(state: &mut SupState, idx: usize) {
    let name = state.core.children[idx].name.clone();
    let Some(handle) = state.handles[idx].take() else {
        state.core.stopped(idx);
        return;
    };
    state
        .ctx
        .registry
        .update(&name, |n| n.state = NodeState::Stopping);
    let last = match handle {
        Handle::Link(link) => match link.call(crate::link::LinkMsg::Stop, None).await {
            Ok(CallResult::Success(ended)) => ended.last,
            Ok(CallResult::Timeout | CallResult::SenderError) | Err(_) => LastExit {
                status: None,
                reason: "stopped (had already exited)".into(),
            },
        },
        Handle::Sup(sup) => {
            if let Err(e) = sup.call(SupMsg::StopAll, None).await {
                tracing::debug!(supervisor = %name, %e, "sub-supervisor already gone");
            }
            LastExit {
                status: None,
                reason: "stopped".into(),
            }
        }
    };
    state.core.stopped(idx);
    state.ctx.registry.update(&name, |n| {
        n.pid = None;
        n.last_exit = Some(last);
    });
    publish(state, idx);
}

/// Copies one child's core state into the registry.
pub(super) fn publish(state: &SupState, idx: usize) {
    let c = &state.core.children[idx];
    state.ctx.registry.update(&c.name, |n| copy(c, n));
}

/// Writes what the registry shows of a child's core state into its node.
fn copy(c: &ChildCore, n: &mut Node) {
    let (node_state, since) = match c.state {
        ChildState::Stopped => (NodeState::Stopped, None),
        ChildState::Pending => (NodeState::Starting, None),
        ChildState::Running { since } => (NodeState::Running, Some(since)),
        ChildState::Backoff { .. } => (NodeState::Backoff, None),
        ChildState::Failed => (NodeState::Failed, None),
    };
    n.state = node_state;
    n.since = since;
    n.generation = c.generation;
    n.restarts = c.restarts;
}
