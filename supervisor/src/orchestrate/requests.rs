//! A pod's orchestration requests, answered by the root: each tool of the seed
//! (`spawn_pod`, `send_to_pod`, `read_pod_output`, `stop_pod`, `list_pods`,
//! `list_visible_pods`, `inspect_pod`, `attach_or_restore_pod`) is one request here.

use std::sync::Arc;

use podsup_wire::request::RefusalKind;
use podsup_wire::{Method, NodeKind, PodReply, PodRequest, Segment};
use ractor::rpc::CallResult;
use serde_json::json;

use super::{Order, Refusal, inspect, refuse, spawn, visible};
use crate::ctx::RootCtx;
use crate::sup::{Op, SupMsg};

/// Answers `request` from pod `from`.
pub async fn handle(ctx: &Arc<RootCtx>, from: &str, request: PodRequest) -> PodReply {
    let answer = match request {
        PodRequest::Spawn {
            name,
            engine,
            restart,
            scope,
        } => spawn_request(ctx, from, (name, engine, restart, scope)).await,
        PodRequest::Send {
            name,
            generation,
            input,
        } => send(ctx, from, (name, generation, input)),
        PodRequest::ReadOutput { name, last } => read_output(ctx, from, &name, last),
        PodRequest::Stop { name } => stop(ctx, from, &name).await,
        PodRequest::List => Ok(list(ctx, from, false)),
        PodRequest::ListVisible => Ok(list(ctx, from, true)),
        PodRequest::Inspect { name } => inspect_request(ctx, from, &name),
        PodRequest::AttachOrRestore { name } => attach_or_restore(ctx, from, &name).await,
    };
    match answer {
        Ok(value) => PodReply::Ok {
            json: value.to_string(),
        },
        Err(refusal) => PodReply::Refused {
            kind: refusal.kind,
            message: refusal.message,
        },
    }
}

type Answer = Result<serde_json::Value, Refusal>;

async fn spawn_request(
    ctx: &Arc<RootCtx>,
    from: &str,
    (name, engine, restart, scope): (
        String,
        podsup_wire::EngineSpec,
        String,
        Vec<podsup_wire::pod_event::ScopeRule>,
    ),
) -> Answer {
    let restart = restart.parse().map_err(|_| {
        refuse(
            RefusalKind::Invalid,
            format!("restart must be permanent, transient or temporary, not {restart:?}"),
        )
    })?;
    let engine = super::engine_name(&engine).to_owned();
    let order = Order {
        spawner: from.to_owned(),
        name,
        engine,
        restart,
        scope,
    };
    let spawned = spawn(ctx, order).await?;
    Ok(json!({ "name": spawned.name, "generation": spawned.generation, "pid": spawned.pid }))
}

/// A pod `from` may address: one it spawned (never itself, never a stranger).
fn child_of(ctx: &RootCtx, from: &str, name: &str) -> Result<crate::registry::Node, Refusal> {
    if !visible(from, name) || name == from {
        return Err(match ctx.registry.get(name) {
            Some(_) => refuse(
                RefusalKind::NotVisible,
                format!("{name} is not a pod {from} spawned"),
            ),
            None => refuse(RefusalKind::NotFound, format!("no pod named {name}")),
        });
    }
    ctx.registry.get(name).ok_or_else(|| {
        refuse(
            RefusalKind::NotFound,
            format!("no pod named {name} (it may have been reclaimed)"),
        )
    })
}

fn send(
    ctx: &RootCtx,
    from: &str,
    (name, generation, input): (String, Option<u64>, Vec<Segment>),
) -> Answer {
    let node = child_of(ctx, from, &name)?;
    if let Some(g) = generation {
        if g != node.generation {
            return Err(refuse(
                RefusalKind::StaleGeneration,
                format!(
                    "{name} generation {g} has been replaced by generation {}",
                    node.generation
                ),
            ));
        }
    }
    let Some(link) = node.link else {
        return Err(refuse(
            RefusalKind::Invalid,
            format!("{name} is not running"),
        ));
    };
    link.send_message(crate::link::LinkMsg::Method(Method::Run { input }))
        .map_err(|_| refuse(RefusalKind::Invalid, format!("{name} went away")))?;
    Ok(json!({ "sent": name, "generation": node.generation }))
}

fn read_output(ctx: &RootCtx, from: &str, name: &str, last: Option<u32>) -> Answer {
    if !visible(from, name) {
        return Err(refuse(
            RefusalKind::NotVisible,
            format!("{name} is not visible to {from}"),
        ));
    }
    let dir = crate::paths::pod_dir(&ctx.state_dir, name);
    let entries = podsup_pod_worker::session_log::read(&dir)
        .map_err(|e| refuse(RefusalKind::Invalid, e.to_string()))?;
    let skip = last.map_or(0, |n| entries.len().saturating_sub(n as usize));
    let entries: Vec<_> = entries.into_iter().skip(skip).collect();
    Ok(json!({ "name": name, "entries": entries }))
}

async fn stop(ctx: &RootCtx, from: &str, name: &str) -> Answer {
    let node = child_of(ctx, from, name)?;
    let Some(owner) = node.owner else {
        return Err(refuse(
            RefusalKind::Invalid,
            format!("{name} has no supervisor"),
        ));
    };
    match owner
        .call(|reply| SupMsg::RemoveChild(name.to_owned(), reply), None)
        .await
    {
        Ok(CallResult::Success(Ok(()))) => Ok(json!({ "stopped": name, "reclaimed": true })),
        Ok(CallResult::Success(Err(reason))) => Err(refuse(RefusalKind::Invalid, reason)),
        Ok(CallResult::Timeout | CallResult::SenderError) | Err(_) => Err(refuse(
            RefusalKind::Invalid,
            format!("{name}'s supervisor went away"),
        )),
    }
}

fn list(ctx: &RootCtx, from: &str, with_self: bool) -> serde_json::Value {
    let mut names = Vec::new();
    if with_self {
        names.push(from.to_owned());
    }
    if let Some(node) = ctx.registry.get(from) {
        names.extend(node.children);
    }
    let pods: Vec<_> = names.iter().filter_map(|n| inspect(ctx, n)).collect();
    json!({ "pods": pods })
}

fn inspect_request(ctx: &RootCtx, from: &str, name: &str) -> Answer {
    if !visible(from, name) {
        return Err(match ctx.registry.get(name) {
            Some(_) => refuse(
                RefusalKind::NotVisible,
                format!("{name} is not visible to {from}"),
            ),
            None => refuse(RefusalKind::NotFound, format!("no pod named {name}")),
        });
    }
    if let Some(found) = inspect(ctx, name) {
        return Ok(found);
    }
    // Visible by name but not in the tree: reclaimed. Its history may still be on disk.
    let dir = crate::paths::pod_dir(&ctx.state_dir, name);
    match podsup_pod_worker::session_log::read(&dir) {
        Ok(entries) if !entries.is_empty() => Ok(json!({
            "name": name, "state": "reclaimed", "entries": entries.len(),
            "hint": "attach_or_restore_pod brings it back from its session log",
        })),
        Ok(_) | Err(_) => Err(refuse(
            RefusalKind::NotFound,
            format!("no pod named {name} and no saved state for it"),
        )),
    }
}

async fn attach_or_restore(ctx: &Arc<RootCtx>, from: &str, name: &str) -> Answer {
    if !visible(from, name) || name == from {
        return Err(refuse(
            RefusalKind::NotVisible,
            format!("{name} is not a pod {from} spawned"),
        ));
    }
    match ctx.registry.get(name) {
        Some(node) if node.link.is_some() => {
            let mut value = inspect(ctx, name).unwrap_or_default();
            value["attached"] = json!(true);
            Ok(value)
        }
        Some(node) => {
            // Held down by a stop: start it again; it rebuilds itself from its log.
            let owner = node
                .owner
                .ok_or_else(|| refuse(RefusalKind::Invalid, format!("{name} has no supervisor")))?;
            match owner
                .call(|reply| SupMsg::Op(Op::Start(name.to_owned()), reply), None)
                .await
            {
                Ok(CallResult::Success(Ok(message))) => {
                    Ok(json!({ "restored": name, "message": message }))
                }
                Ok(CallResult::Success(Err(reason))) => Err(refuse(RefusalKind::Invalid, reason)),
                Ok(CallResult::Timeout | CallResult::SenderError) | Err(_) => Err(refuse(
                    RefusalKind::Invalid,
                    format!("{name}'s supervisor went away"),
                )),
            }
        }
        None => {
            // Reclaimed: spawn it again under the same name; its session log is replayed.
            let child = name
                .strip_prefix(from)
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(name);
            let spawner = ctx.registry.get(from).filter(|n| n.kind == NodeKind::Pod);
            let engine = spawner
                .and_then(|n| n.pod_spec)
                .map_or("echo", |p| super::engine_name(&p.engine))
                .to_owned();
            let order = Order {
                spawner: from.to_owned(),
                name: child.to_owned(),
                engine,
                restart: podsup_config::Restart::Temporary,
                scope: Vec::new(),
            };
            let spawned = spawn(ctx, order).await?;
            Ok(
                json!({ "restored": spawned.name, "generation": spawned.generation, "from_log": true }),
            )
        }
    }
}
