//! Applying a reload inside one supervisor: the plan of [`crate::reload::diff`], carried
//! out with the same start and stop as everything else.

use std::collections::BTreeSet;

use podsup_config::{ChildKind, ChildSpec, SupervisorSpec};
use ractor::ActorRef;
use ractor::rpc::CallResult;

use super::exec::{publish, start_one, stop_one};
use super::{Handle, SupMsg, SupState, node_kind};
use crate::core::{ChildCore, ChildState};
use crate::policy;
use crate::registry::Node;
use crate::reload::{self, ChildChange};

/// Turns this supervisor into `new`: removed children stopped, changed ones restarted per
/// strategy (without counting towards intensity), added ones started, nested supervisors
/// reloaded in place. Answers the plan.
pub async fn apply(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    new: SupervisorSpec,
) -> Result<String, String> {
    let old = SupervisorSpec {
        children: state.specs.clone(),
        ..state.shell.clone()
    };
    let plan = reload::diff(&state.name, &old, &new);
    if plan.is_empty() {
        return Ok(plan.to_string());
    }
    remove_gone(state, &new).await;
    let (changed, added) = reorder(myself, state, &new);
    // A child's change must not wipe the supervisor's restart history: only a policy
    // change starts it afresh.
    if !plan.policy.is_empty() {
        state
            .core
            .set_policy(new.strategy, new.intensity, new.backoff);
    }
    state.shell = SupervisorSpec {
        children: Vec::new(),
        ..new.clone()
    };
    restart(myself, state, (&changed, &added)).await;
    for change in &plan.children {
        if let ChildChange::Nested(nested) = change {
            reload_nested(state, &nested.name, &new).await?;
        }
    }
    tracing::info!(supervisor = %state.name, "reloaded:\n{plan}");
    Ok(plan.to_string())
}

/// Stops (in reverse start order) and forgets the children `new` no longer has.
async fn remove_gone(state: &mut SupState, new: &SupervisorSpec) {
    for idx in (0..state.specs.len()).rev() {
        if new.children.iter().any(|c| c.name == state.specs[idx].name) {
            continue;
        }
        stop_one(state, idx).await;
        let child = state.core.remove(idx);
        state.specs.remove(idx);
        state.handles.remove(idx);
        state.ctx.registry.remove(&child.name);
        // Gone from the file means forgotten, operator stop included.
        if let Err(e) = state.ctx.registry.set_held(&child.name, false) {
            tracing::error!(child = %child.name, %e, "operator intent not saved");
        }
    }
}

/// Lays the children out in `new`'s order with their new specs; returns the indices of
/// changed and of added children.
fn reorder(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    new: &SupervisorSpec,
) -> (Vec<usize>, Vec<usize>) {
    let mut cores: Vec<Option<ChildCore>> = std::mem::take(&mut state.core.children)
        .into_iter()
        .map(Some)
        .collect();
    let mut handles: Vec<Option<Handle>> = std::mem::take(&mut state.handles);
    let old_specs = std::mem::take(&mut state.specs);
    let (mut changed, mut added) = (Vec::new(), Vec::new());
    for (idx, spec) in new.children.iter().enumerate() {
        let name = spec.name.to_string();
        match old_specs.iter().position(|o| o.name == spec.name) {
            Some(j) => {
                if !reload::child_changes(&old_specs[j], spec).is_empty() {
                    changed.push(idx);
                }
                state
                    .core
                    .children
                    .push(cores[j].take().expect("each old child moved once"));
                state.handles.push(handles[j].take());
            }
            None => {
                added.push(idx);
                let held = state.ctx.registry.held(&name);
                state.core.add(name.clone(), spec.restart);
                state.core.children[idx].held = held;
                state.handles.push(None);
            }
        }
        state.core.children[idx].restart = spec.restart;
        let mut node = Node::new(
            node_kind(&spec.kind),
            Some(state.name.clone()),
            Some(myself.clone()),
        );
        node.pod_spec = spec.kind.as_pod().cloned();
        node.limits = spec.limits.clone();
        if let Some(prev) = state.ctx.registry.get(&name) {
            node = Node {
                state: prev.state,
                pid: prev.pid,
                generation: prev.generation,
                restarts: prev.restarts,
                since: prev.since,
                last_exit: prev.last_exit,
                link: prev.link,
                pod_status: prev.pod_status,
                ..node
            };
        }
        state.ctx.registry.declare(&name, node);
        state.specs.push(spec.clone());
    }
    state.ctx.registry.update(&state.name, |n| {
        n.children = new.children.iter().map(|c| c.name.to_string()).collect();
    });
    (changed, added)
}

/// Restarts changed children (and the siblings their strategy takes along), then starts
/// added ones, in start order.
async fn restart(
    myself: &ActorRef<SupMsg>,
    state: &mut SupState,
    (changed, added): (&[usize], &[usize]),
) {
    let len = state.specs.len();
    let mut restart: BTreeSet<usize> = BTreeSet::new();
    for &idx in changed {
        // A changed child that is not running (stopped by the operator, say) just keeps
        // its new spec for when it starts; nothing restarts for it.
        if state.handles[idx].is_none() {
            continue;
        }
        for j in policy::plan(state.core.strategy(), idx, len).start {
            if state.handles[j].is_some() {
                restart.insert(j);
            }
        }
    }
    for &idx in restart.iter().rev() {
        stop_one(state, idx).await;
    }
    let mut starts: BTreeSet<usize> = restart;
    starts.extend(
        added
            .iter()
            .copied()
            .filter(|&i| !state.core.children[i].held),
    );
    for idx in starts {
        state.core.children[idx].state = ChildState::Pending;
        if let Err(reason) = start_one(myself, state, idx).await {
            tracing::error!(supervisor = %state.name, child = %state.specs[idx].name, %reason, "reload: start failed");
            state.core.children[idx].state = ChildState::Failed;
            publish(state, idx);
        }
    }
}

/// Hands a nested supervisor its new spec, unless it was just restarted with it.
async fn reload_nested(state: &SupState, name: &str, new: &SupervisorSpec) -> Result<(), String> {
    let Some(idx) = state.specs.iter().position(|c| c.name.as_str() == name) else {
        return Ok(());
    };
    let (
        Some(Handle::Sup(sup)),
        Some(ChildSpec {
            kind: ChildKind::Supervisor(spec),
            ..
        }),
    ) = (
        &state.handles[idx],
        new.children.iter().find(|c| c.name.as_str() == name),
    )
    else {
        return Ok(());
    };
    match sup
        .call(|reply| SupMsg::Reload(Box::new(spec.clone()), reply), None)
        .await
    {
        Ok(CallResult::Success(Ok(_))) => Ok(()),
        Ok(CallResult::Success(Err(e))) => Err(e),
        Ok(CallResult::Timeout | CallResult::SenderError) | Err(_) => {
            Err(format!("supervisor {name} went away during the reload"))
        }
    }
}
