//! The root's registry: every node of the tree by name, with what `ctl status` shows and
//! which supervisor actor owns it.
//!
//! Supervisor actors are the only writers, each for its own children; the ctl server
//! reads. A plain mutex held for microseconds keeps `ctl status` answering even while a
//! supervisor is busy starting a slow child.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use podsup_wire::ctl::LastExit;
use podsup_wire::{Event, NodeKind, NodeState, StatusNode};
use ractor::ActorRef;

use crate::intent::{Intent, IntentError};
use crate::link::LinkMsg;
use crate::sup::SupMsg;

pub mod feed;

pub use feed::{FEED_CAPACITY, FeedEnd, Subscription};

/// What subscribers of a pod (attached ctl clients) receive, across its generations.
#[derive(Debug, Clone)]
pub enum Feed {
    /// An event from the pod.
    Event {
        /// Generation that sent it.
        generation: u64,
        /// The event.
        event: Event,
    },
    /// A generation became ready.
    Started {
        /// The new generation.
        generation: u64,
    },
    /// A generation ended.
    Exited {
        /// The generation that ended.
        generation: u64,
        /// How, in words.
        reason: String,
    },
}

/// What the registry knows of one node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Supervisor, pod or process.
    pub kind: NodeKind,
    /// The supervisor node this one belongs to (`None` for the root).
    pub parent: Option<String>,
    /// Children in start order (supervisors only).
    pub children: Vec<String>,
    /// Lifecycle state.
    pub state: NodeState,
    /// OS pid of the running generation.
    pub pid: Option<u32>,
    /// Current generation (0 before the first start).
    pub generation: u64,
    /// Restarts so far.
    pub restarts: u64,
    /// When the running generation became ready.
    pub since: Option<Instant>,
    /// How it last ended.
    pub last_exit: Option<LastExit>,
    /// The supervisor actor that decides about this node (`None` for the root).
    pub owner: Option<ActorRef<SupMsg>>,
    /// The running generation's link (pods and processes).
    pub link: Option<ActorRef<LinkMsg>>,
    /// The pod controller's last reported status (pods only).
    pub pod_status: Option<podsup_wire::PodStatus>,
    /// A pod's spec (what its spawned pods may inherit).
    pub pod_spec: Option<std::sync::Arc<podsup_config::PodSpec>>,
    /// A pod's or process's user and limits (a pod's spawned pods run under the same).
    pub limits: podsup_config::Limits,
    /// The dynamic supervisor of the pods this pod spawned, once it spawned one.
    pub spawned: Option<ActorRef<SupMsg>>,
    /// Methods waiting for this pod to be up (pod events for a spawner that is down).
    pub inbox: Vec<podsup_wire::Method>,
    /// Records and pod events sent to the running generation but not yet seen committed;
    /// if it dies first they go back to the inbox, so none is lost.
    pub unacked: Vec<podsup_wire::Method>,
    /// Subscribers to the pod's feed (pods only).
    pub feed: feed::Subscribers,
}

impl Node {
    /// A node that has not started yet.
    pub fn new(kind: NodeKind, parent: Option<String>, owner: Option<ActorRef<SupMsg>>) -> Self {
        Self {
            kind,
            parent,
            children: Vec::new(),
            state: NodeState::Stopped,
            pid: None,
            generation: 0,
            restarts: 0,
            since: None,
            last_exit: None,
            owner,
            link: None,
            pod_spec: None,
            limits: Default::default(),
            spawned: None,
            inbox: Vec::new(),
            unacked: Vec::new(),
            pod_status: None,
            feed: feed::Subscribers::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    nodes: HashMap<String, Node>,
}

/// The registry of one tree.
#[derive(Debug)]
pub struct Registry {
    tree: String,
    root: String,
    inner: Mutex<Inner>,
    intent: Mutex<Intent>,
}

impl Registry {
    /// An empty registry for the tree `tree` whose root supervisor is called `root`, with
    /// the operator's durable intent.
    pub fn new(tree: &str, root: &str, intent: Intent) -> Self {
        Self {
            tree: tree.to_owned(),
            root: root.to_owned(),
            inner: Mutex::default(),
            intent: Mutex::new(intent),
        }
    }

    /// Whether the operator stopped `name` (and it must stay down until started).
    pub fn held(&self, name: &str) -> bool {
        self.intent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_stopped(name)
    }

    /// Records (durably) that the operator stopped or started `name`.
    pub fn set_held(&self, name: &str, held: bool) -> Result<(), IntentError> {
        self.intent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .set_stopped(name, held)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or replaces) a node and lists it under its parent, once.
    pub fn declare(&self, name: &str, node: Node) {
        let mut inner = self.lock();
        if let Some(parent) = node.parent.clone() {
            if let Some(p) = inner.nodes.get_mut(&parent) {
                if !p.children.iter().any(|c| c == name) {
                    p.children.push(name.to_owned());
                }
            }
        }
        let children = inner
            .nodes
            .remove(name)
            .map(|old| old.children)
            .unwrap_or_default();
        inner
            .nodes
            .insert(name.to_owned(), Node { children, ..node });
    }

    /// Applies `f` to the node called `name`, if there is one.
    pub fn update(&self, name: &str, f: impl FnOnce(&mut Node)) {
        if let Some(node) = self.lock().nodes.get_mut(name) {
            f(node);
        }
    }

    /// A copy of the node called `name`.
    pub fn get(&self, name: &str) -> Option<Node> {
        self.lock().nodes.get(name).cloned()
    }

    /// The supervisor actor that owns `name`, or why there is none.
    pub fn owner_of(&self, name: &str) -> Result<ActorRef<SupMsg>, OwnerError> {
        match self.lock().nodes.get(name) {
            None => Err(OwnerError::NotFound),
            Some(node) => node.owner.clone().ok_or(OwnerError::Root),
        }
    }

    /// Removes `name` (a spawned pod gone for good) and unlists it under its parent.
    pub fn remove(&self, name: &str) -> Option<Node> {
        let mut inner = self.lock();
        let node = inner.nodes.remove(name)?;
        if let Some(parent) = node.parent.as_deref().and_then(|p| inner.nodes.get_mut(p)) {
            parent.children.retain(|c| c != name);
        }
        Some(node)
    }

    /// Delivers `method` to pod `name` now if it is up, or when it next becomes ready.
    /// Records and pod events are kept until the pod commits them (see [`Registry::ack`]).
    pub fn deliver(&self, name: &str, method: podsup_wire::Method) {
        let mut inner = self.lock();
        let Some(node) = inner.nodes.get_mut(name) else {
            tracing::debug!(pod = name, ?method, "undeliverable: no such pod");
            return;
        };
        match node.link.clone() {
            Some(link) => send_tracked(node, &link, method),
            None => node.inbox.push(method),
        }
    }

    /// Marks `link` as `name`'s running generation and hands it what waited in the inbox.
    pub fn link_up(&self, name: &str, link: &ActorRef<LinkMsg>, pid: u32) {
        let mut inner = self.lock();
        let Some(node) = inner.nodes.get_mut(name) else {
            return;
        };
        node.pid = Some(pid);
        node.link = Some(link.clone());
        for method in std::mem::take(&mut node.inbox) {
            send_tracked(node, link, method);
        }
    }

    /// The generation behind `link` is gone: what it had not committed goes back to the
    /// front of the inbox for the next one.
    pub fn link_down(&self, name: &str, link: ractor::ActorId) {
        let mut inner = self.lock();
        let Some(node) = inner.nodes.get_mut(name) else {
            return;
        };
        if node.link.as_ref().is_some_and(|l| l.get_id() == link) {
            node.link = None;
            let mut inbox = std::mem::take(&mut node.unacked);
            inbox.append(&mut node.inbox);
            node.inbox = inbox;
        }
    }

    /// Pod `name` committed `item`: the delivery it answers is done.
    pub fn ack(&self, name: &str, item: &podsup_wire::Item) {
        let mut inner = self.lock();
        let Some(node) = inner.nodes.get_mut(name) else {
            return;
        };
        let answers = |m: &podsup_wire::Method| match m {
            podsup_wire::Method::Record { item: sent } => sent == item,
            podsup_wire::Method::PodEvent(event) => {
                matches!(item, podsup_wire::Item::PodEvent(e) if e == event)
            }
            _ => false,
        };
        if let Some(pos) = node.unacked.iter().position(answers) {
            node.unacked.remove(pos);
        }
    }

    /// Names of every node, for walks.
    pub fn names(&self) -> Vec<String> {
        self.lock().nodes.keys().cloned().collect()
    }

    /// Publishes to `name`'s feed; nobody listening is fine.
    pub fn publish(&self, name: &str, feed: Feed) {
        let mut inner = self.lock();
        let Some(node) = inner.nodes.get_mut(name) else {
            return;
        };
        node.feed.publish(feed);
    }

    /// Subscribes to pod `name`'s feed; `None` if it is not a pod.
    pub fn subscribe(&self, name: &str) -> Option<Subscription> {
        let mut inner = self.lock();
        let node = inner.nodes.get_mut(name)?;
        if node.kind != NodeKind::Pod {
            return None;
        }
        Some(node.feed.subscribe())
    }

    /// The state of every pod and process (not supervisors), in one pass under one lock,
    /// for summaries.
    pub fn child_states(&self, mut each: impl FnMut(NodeState)) {
        let inner = self.lock();
        for node in inner.nodes.values() {
            if node.kind != NodeKind::Supervisor {
                each(node.state);
            }
        }
    }

    /// The tree name and its status, root first.
    pub fn status(&self, now: Instant) -> (String, StatusNode) {
        let inner = self.lock();
        (self.tree.clone(), build(&inner, &self.root, now))
    }
}

/// Why a name has no owning supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerError {
    /// No node of that name.
    NotFound,
    /// It is the root supervisor.
    Root,
}

fn build(inner: &Inner, name: &str, now: Instant) -> StatusNode {
    let Some(node) = inner.nodes.get(name) else {
        return StatusNode {
            name: name.to_owned(),
            kind: NodeKind::Supervisor,
            state: NodeState::Stopped,
            pid: None,
            generation: 0,
            restarts: 0,
            uptime_ms: None,
            last_exit: None,
            children: Vec::new(),
        };
    };
    let uptime_ms = match node.state {
        NodeState::Running => node
            .since
            .map(|s| now.saturating_duration_since(s).as_millis() as u64),
        NodeState::Starting
        | NodeState::Stopping
        | NodeState::Stopped
        | NodeState::Backoff
        | NodeState::Failed => None,
    };
    StatusNode {
        name: name.to_owned(),
        kind: node.kind,
        state: node.state,
        pid: node.pid,
        generation: node.generation,
        restarts: node.restarts,
        uptime_ms,
        last_exit: node.last_exit.clone(),
        children: node.children.iter().map(|c| build(inner, c, now)).collect(),
    }
}

/// Sends `method` to the running generation, remembering records and pod events until
/// they are committed.
fn send_tracked(node: &mut Node, link: &ActorRef<LinkMsg>, method: podsup_wire::Method) {
    let tracked = matches!(
        method,
        podsup_wire::Method::Record { .. } | podsup_wire::Method::PodEvent(_)
    );
    if tracked {
        node.unacked.push(method.clone());
    }
    if let Err(e) = link.send_message(LinkMsg::Method(method)) {
        tracing::debug!(%e, "link gone; the method waits for the next generation");
    }
}
