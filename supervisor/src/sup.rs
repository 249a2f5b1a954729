//! The supervisor actor: one per supervisor node. It carries out what [`SupCore`] decides —
//! starting and stopping children, scheduling backoff wake-ups, escalating — and keeps the
//! registry current for its children.

mod exec;
mod reload;
mod spawned;

use std::sync::Arc;
use std::time::Instant;

use podsup_config::{ChildKind, ChildSpec, SupervisorSpec};
use podsup_wire::NodeKind;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

use crate::core::SupCore;
use crate::ctx::RootCtx;
use crate::link::{Ended, LinkMsg};
use crate::policy::ExitKind;
use crate::registry::Node;

/// Operator requests a supervisor carries out on one of its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Start a stopped child and release the operator's hold.
    Start(String),
    /// Stop a child and hold it down.
    Stop(String),
    /// Stop and start a child.
    Restart(String),
}

/// Messages to a supervisor actor.
#[derive(Debug)]
pub enum SupMsg {
    /// A child ended by itself (a link's process exited, or a sub-supervisor failed).
    ChildExited {
        /// Child name.
        name: String,
        /// The generation that ended; stale reports are ignored.
        generation: u64,
        /// How it ended.
        ended: Ended,
    },
    /// A backoff deadline may have passed.
    Wake,
    /// An operator request; answered with a message for the operator.
    Op(Op, RpcReplyPort<Result<String, String>>),
    /// Stop every child in reverse start order, answer, then stop.
    StopAll(RpcReplyPort<()>),
    /// Add a child at run time (dynamic supervisors) and start it; answers its generation
    /// and pid, or why it did not start (then it is not kept).
    /// The child's generation so far (0 for a new pod; the recorded one when the root
    /// re-spawns a pod after a restart, so generations never repeat).
    AddChild(
        Box<ChildSpec>,
        u64,
        RpcReplyPort<Result<(u64, Option<u32>), String>>,
    ),
    /// Apply a new spec of this supervisor (a reload); answers the plan it carried out.
    Reload(Box<SupervisorSpec>, RpcReplyPort<Result<String, String>>),
    /// Stop a child and forget it (a spawner's `stop_pod`): it is reclaimed.
    RemoveChild(String, RpcReplyPort<Result<(), String>>),
}

/// What a supervisor actor starts with.
#[derive(Debug, Clone)]
pub struct SupArgs {
    /// Node name (`root` for the root).
    pub name: String,
    /// Generation of this supervisor instance.
    pub generation: u64,
    /// Its spec.
    pub spec: SupervisorSpec,
    /// Where it sits: root, under a parent supervisor, or holding a pod's spawned pods.
    pub role: Role,
    /// Shared root context.
    pub ctx: Arc<RootCtx>,
}

/// A live handle on one child.
#[derive(Debug, Clone)]
pub enum Handle {
    /// A pod or process link.
    Link(ActorRef<LinkMsg>),
    /// A sub-supervisor.
    Sup(ActorRef<SupMsg>),
}

impl Handle {
    fn id(&self) -> ractor::ActorId {
        match self {
            Handle::Link(r) => r.get_id(),
            Handle::Sup(r) => r.get_id(),
        }
    }
}

/// A supervisor's state.
#[derive(Debug)]
pub struct SupState {
    name: String,
    generation: u64,
    /// Its own spec without children (those are `specs`), for reloads.
    shell: SupervisorSpec,
    specs: Vec<ChildSpec>,
    core: SupCore,
    handles: Vec<Option<Handle>>,
    role: Role,
    ctx: Arc<RootCtx>,
}

/// Where a supervisor sits, which decides what its failure means.
#[derive(Debug, Clone)]
pub enum Role {
    /// The root: its failure ends `podsup start`.
    Root,
    /// Under a parent supervisor, whose strategy then applies to it.
    Child(ActorRef<SupMsg>),
    /// The dynamic supervisor of the pods a pod spawned: its children are listed under the
    /// spawner, their pod events go to the spawner, and children gone for good (or all of
    /// them, when its intensity is exceeded) are removed and reclaimed.
    Spawned {
        /// The spawning pod.
        spawner: String,
    },
}

impl Role {
    /// The spawner, for dynamic supervisors.
    pub fn spawner(&self) -> Option<&str> {
        match self {
            Role::Spawned { spawner } => Some(spawner),
            Role::Root | Role::Child(_) => None,
        }
    }
}

/// The supervisor actor.
#[derive(Debug)]
pub struct Supervisor;

/// The registry kind of a child spec.
pub fn node_kind(kind: &ChildKind) -> NodeKind {
    match kind {
        ChildKind::Supervisor(_) => NodeKind::Supervisor,
        ChildKind::Pod(_) => NodeKind::Pod,
        ChildKind::Process(_) => NodeKind::Process,
    }
}

impl Actor for Supervisor {
    type Msg = SupMsg;
    type State = SupState;
    type Arguments = SupArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<SupMsg>,
        args: SupArgs,
    ) -> Result<SupState, ActorProcessingErr> {
        let spec = args.spec;
        let mut core = SupCore::new(spec.strategy, spec.intensity, spec.backoff);
        for child in &spec.children {
            let name = child.name.to_string();
            let idx = core.add(name.clone(), child.restart);
            // A restarted supervisor's children keep counting generations.
            if let Some(prev) = args.ctx.registry.get(&name) {
                core.children[idx].generation = prev.generation;
                core.children[idx].restarts = prev.restarts;
            }
            // The operator's stop outlives this supervisor instance and the root.
            core.children[idx].held = args.ctx.registry.held(&name);
            let listed_under = args.role.spawner().unwrap_or(&args.name).to_owned();
            let mut node = Node::new(
                node_kind(&child.kind),
                Some(listed_under),
                Some(myself.clone()),
            );
            node.pod_spec = child.kind.as_pod().cloned();
            node.limits = child.limits.clone();
            let prev = args.ctx.registry.get(&name);
            args.ctx.registry.declare(
                &name,
                Node {
                    generation: core.children[idx].generation,
                    restarts: core.children[idx].restarts,
                    last_exit: prev.and_then(|p| p.last_exit),
                    ..node
                },
            );
        }
        let shell = SupervisorSpec {
            children: Vec::new(),
            ..spec.clone()
        };
        let mut state = SupState {
            name: args.name,
            generation: args.generation,
            shell,
            handles: vec![None; spec.children.len()],
            specs: spec.children,
            core,
            role: args.role,
            ctx: args.ctx,
        };
        exec::start_all(&myself, &mut state, spec.start).await?;
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<SupMsg>,
        msg: SupMsg,
        state: &mut SupState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupMsg::ChildExited {
                name,
                generation,
                ended,
            } => exec::child_exited(&myself, state, (name, generation), ended).await,
            SupMsg::Wake => {
                let before = spawned::generations(state);
                let actions = state.core.wake(Instant::now());
                exec::run(&myself, state, actions).await;
                spawned::settle(state, &before);
            }
            SupMsg::Op(op, reply) => {
                let answer = exec::operate(&myself, state, op).await;
                if reply.send(answer).is_err() {
                    tracing::debug!(supervisor = %state.name, "ctl client went away");
                }
            }
            SupMsg::AddChild(spec, previous, reply) => {
                let answer = spawned::add_child(&myself, state, (*spec, previous)).await;
                if reply.send(answer).is_err() {
                    tracing::debug!(supervisor = %state.name, "spawn requester went away");
                }
            }
            SupMsg::Reload(spec, reply) => {
                let answer = reload::apply(&myself, state, *spec).await;
                if reply.send(answer).is_err() {
                    tracing::debug!(supervisor = %state.name, "reload requester went away");
                }
            }
            SupMsg::RemoveChild(name, reply) => {
                let answer = spawned::remove_child(state, &name).await;
                if reply.send(answer).is_err() {
                    tracing::debug!(supervisor = %state.name, "stop requester went away");
                }
            }
            SupMsg::StopAll(reply) => {
                exec::stop_all(state).await;
                if reply.send(()).is_err() {
                    tracing::debug!(supervisor = %state.name, "stop requester went away");
                }
                myself.stop(None);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupMsg>,
        event: SupervisionEvent,
        state: &mut SupState,
    ) -> Result<(), ActorProcessingErr> {
        // Exits are reported as `ChildExited` messages; only a panicking actor needs
        // handling here (ractor's default would stop this supervisor on any child exit).
        if let SupervisionEvent::ActorFailed(cell, err) = event {
            let id = cell.get_id();
            let Some(idx) = state
                .handles
                .iter()
                .position(|h| h.as_ref().is_some_and(|h| h.id() == id))
            else {
                return Ok(());
            };
            let name = state.core.children[idx].name.clone();
            tracing::error!(supervisor = %state.name, child = %name, %err, "child actor failed");
            if let Some(pid) = state.ctx.registry.get(&name).and_then(|n| n.pid) {
                crate::reap::signal_group(pid, nix::sys::signal::Signal::SIGKILL);
            }
            let generation = state.core.children[idx].generation;
            let ended = Ended {
                kind: ExitKind::Abnormal,
                last: podsup_wire::ctl::LastExit {
                    status: None,
                    reason: format!("supervision actor failed: {err}"),
                },
            };
            exec::child_exited(&myself, state, (name, generation), ended).await;
        }
        Ok(())
    }
}
