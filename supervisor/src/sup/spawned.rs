//! What only a spawner's dynamic supervisor does: children added and removed at run time,
//! and every change in a child's life told to its spawner as a pod event.

use podsup_config::ChildSpec;
use podsup_wire::{Method, NodeKind, PodEvent};
use ractor::ActorRef;

use super::exec::{publish, start_one, stop_one};
use super::{SupMsg, SupState, node_kind};
use crate::core::ChildState;
use crate::registry::Node;

/// Each child's name and generation, to compare after a restart.
pub fn generations(state: &SupState) -> Vec<(String, u64)> {
    match state.role.spawner() {
        None => Vec::new(),
        Some(_) => state
            .core
            .children
            .iter()
            .map(|c| (c.name.clone(), c.generation))
            .collect(),
    }
}

/// After the strategy ran: tell the spawner which children came back (`Restarted`) and
/// forget those that will not (`Reclaimed`).
pub fn settle(state: &mut SupState, before: &[(String, u64)]) {
    let Some(spawner) = state.role.spawner().map(str::to_owned) else {
        return;
    };
    for (name, generation) in before {
        let Some(idx) = state.core.index_of(name) else {
            continue;
        };
        let child = &state.core.children[idx];
        if child.generation > *generation && state.core.is_running(idx) {
            let restarted = PodEvent::Restarted {
                pod_name: name.clone(),
                generation: child.generation,
            };
            state
                .ctx
                .registry
                .deliver(&spawner, Method::PodEvent(restarted));
        }
    }
    // Back to front, so removals do not shift what is still to be looked at.
    for idx in (0..state.core.children.len()).rev() {
        let child = &state.core.children[idx];
        let gone = matches!(child.state, ChildState::Stopped | ChildState::Failed) && !child.held;
        if gone {
            forget(state, idx);
        }
    }
}

/// Removes child `idx` (already stopped) for good and tells its spawner it was reclaimed.
pub fn forget(state: &mut SupState, idx: usize) {
    let child = state.core.remove(idx);
    state.specs.remove(idx);
    state.handles.remove(idx);
    state.ctx.registry.remove(&child.name);
    if let Err(e) = state.ctx.registry.set_held(&child.name, false) {
        tracing::error!(child = %child.name, %e, "operator intent not saved");
    }
    if let Some(spawner) = state.role.spawner() {
        let reclaimed = PodEvent::Reclaimed {
            pod_name: child.name.clone(),
        };
        state
            .ctx
            .registry
            .deliver(spawner, Method::PodEvent(reclaimed));
    }
    tracing::info!(supervisor = %state.name, child = %child.name, "spawned pod reclaimed");
}

/// Adds `spec` as a new child and starts it; a child that cannot start is not kept.
pub async fn add_child(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    (spec, previous): (ChildSpec, u64),
) -> Result<(u64, Option<u32>), String> {
    let name = spec.name.to_string();
    if state.core.index_of(&name).is_some() {
        return Err(format!("{name} already exists"));
    }
    let listed_under = state.role.spawner().unwrap_or(&state.name).to_owned();
    let kind: NodeKind = node_kind(&spec.kind);
    let mut node = Node::new(kind, Some(listed_under), Some(myself.clone()));
    node.pod_spec = spec.kind.as_pod().cloned();
    node.limits = spec.limits.clone();
    state.ctx.registry.declare(&name, node);
    let idx = state.core.add(name.clone(), spec.restart);
    state.core.children[idx].generation = previous;
    state.specs.push(spec);
    state.handles.push(None);
    // The operator stopped it (before a restart of the root): it stays down.
    if state.ctx.registry.held(&name) {
        state.core.children[idx].held = true;
        publish(state, idx);
        return Ok((previous, None));
    }
    match start_one(myself, state, idx).await {
        Ok(()) => {
            let generation = state.core.children[idx].generation;
            let pid = state.ctx.registry.get(&name).and_then(|n| n.pid);
            Ok((generation, pid))
        }
        Err(reason) => {
            state.core.remove(idx);
            state.specs.remove(idx);
            state.handles.remove(idx);
            state.ctx.registry.remove(&name);
            Err(reason)
        }
    }
}

/// Stops child `name` and forgets it; the spawner is told it was reclaimed.
pub async fn remove_child(state: &mut SupState, name: &str) -> Result<(), String> {
    let idx = state
        .core
        .index_of(name)
        .ok_or_else(|| format!("{name} is not a pod spawned here"))?;
    stop_one(state, idx).await;
    state.core.children[idx].state = ChildState::Stopped;
    publish(state, idx);
    forget(state, idx);
    Ok(())
}
