//! Pods that spawn pods: the root's side of the orchestration requests (a pod's
//! `spawn_pod`, `send_to_pod`, … tools, and `ctl spawn` / `ctl inspect`).
//!
//! A spawned pod is a real supervised process under a dynamic supervisor that belongs to
//! its spawner (created with the first spawn). Its name is `spawner/child`; it is listed
//! under its spawner in status; what it does and what happens to it reaches the spawner as
//! pod events; the spawner's session log records the registry, so a restarted spawner or
//! root can replay it.

use std::sync::Arc;
use std::time::Duration;

use podsup_config::scope::{Rule, Scope, normalise};
use podsup_config::{
    ChildKind, ChildSpec, Intensity, Name, PodSpec, Restart, Shutdown, StartMode, Strategy,
    SupervisorSpec,
};
use podsup_pod_worker::registry::{Change, SpawnRecord};
use podsup_wire::pod_event::ScopeRule;
use podsup_wire::request::RefusalKind;
use podsup_wire::{EngineSpec, Method, NodeKind};
use ractor::Actor;
use ractor::rpc::CallResult;
use serde_json::json;

mod requests;

pub use requests::handle;

use crate::ctx::RootCtx;
use crate::sup::{Role, SupArgs, SupMsg, Supervisor};

/// Deepest spawn chain: a static pod is depth 0, what it spawns depth 1, and so on.
pub const MAX_DEPTH: usize = 4;
/// Most pods one spawner may have at once.
pub const MAX_CHILDREN: usize = 16;
/// A spawner's children's restart intensity: more restarts than this within the window and
/// they are all stopped and reclaimed.
pub const SPAWNED_INTENSITY: Intensity = Intensity {
    max_restarts: 5,
    within: Duration::from_secs(30),
};

/// How long a spawn waits for the spawner to commit its registry entry before answering.
const COMMIT_WAIT: Duration = Duration::from_secs(5);

/// Waits until `item` shows up committed on `feed`, or `limit` passes.
async fn wait_committed(
    mut feed: crate::registry::Subscription,
    item: &podsup_wire::Item,
    limit: Duration,
) {
    let found = tokio::time::timeout(limit, async {
        loop {
            match feed.recv().await {
                Ok(crate::registry::Feed::Event {
                    event: podsup_wire::Event::Committed(entry),
                    ..
                }) if &entry.item == item => return,
                Ok(_) => {}
                // Dropped for falling behind: the entry may have gone by unseen.
                Err(crate::registry::FeedEnd::Lagged | crate::registry::FeedEnd::Closed) => return,
            }
        }
    })
    .await;
    if found.is_err() {
        tracing::warn!(
            "spawner did not commit its registry entry within {limit:?}; it will get it again"
        );
    }
}

/// A request to spawn a pod.
#[derive(Debug, Clone)]
pub struct Order {
    /// The spawning pod.
    pub spawner: String,
    /// The child's own name (without the `spawner/` prefix).
    pub name: String,
    /// `echo`, or the spawner's own engine (`llm`, `command`), which the child inherits.
    pub engine: String,
    /// Restart type.
    pub restart: Restart,
    /// Part of the spawner's scope to delegate.
    pub scope: Vec<ScopeRule>,
}

/// A refused request, typed for the pod and worded for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// Why.
    pub kind: RefusalKind,
    /// What, naming the thing at fault.
    pub message: String,
}

fn refuse(kind: RefusalKind, message: impl Into<String>) -> Refusal {
    Refusal {
        kind,
        message: message.into(),
    }
}

/// A started spawned pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spawned {
    /// Full name.
    pub name: String,
    /// Generation (1).
    pub generation: u64,
    /// Pid.
    pub pid: Option<u32>,
}

fn engine_name(engine: &EngineSpec) -> &'static str {
    match engine {
        EngineSpec::Echo { .. } => "echo",
        EngineSpec::Command { .. } => "command",
        EngineSpec::Llm { .. } => "llm",
    }
}

/// Checks an order against the tree and the limits; returns the child's spec.
fn validate(ctx: &RootCtx, order: &Order) -> Result<ChildSpec, Refusal> {
    let spawner = ctx.registry.get(&order.spawner).ok_or_else(|| {
        refuse(
            RefusalKind::NotFound,
            format!("no pod named {:?}", order.spawner),
        )
    })?;
    let (NodeKind::Pod, Some(spawner_spec)) = (spawner.kind, spawner.pod_spec) else {
        return Err(refuse(
            RefusalKind::Invalid,
            format!("{} is not a pod; only pods spawn pods", order.spawner),
        ));
    };
    let child = Name::parse(&order.name).map_err(|e| {
        refuse(
            RefusalKind::Invalid,
            format!("invalid pod name {:?}: {e}", order.name),
        )
    })?;
    let full = format!("{}/{}", order.spawner, order.name);
    if ctx.registry.get(&full).is_some() {
        return Err(refuse(
            RefusalKind::NameTaken,
            format!("a pod named {full} already exists"),
        ));
    }
    let depth = full.matches('/').count();
    if depth > MAX_DEPTH {
        return Err(refuse(
            RefusalKind::DepthLimit,
            format!("{full} would be {depth} spawns deep; the limit is {MAX_DEPTH}"),
        ));
    }
    if spawner.children.len() >= MAX_CHILDREN {
        return Err(refuse(
            RefusalKind::ChildLimit,
            format!(
                "{} already has {} spawned pods; the limit is {MAX_CHILDREN}",
                order.spawner,
                spawner.children.len()
            ),
        ));
    }
    let own = engine_name(&spawner_spec.engine);
    let engine = match order.engine.as_str() {
        "echo" if own != "echo" => EngineSpec::Echo {
            chunk_chars: 16,
            delay_ms: 0,
        },
        e if e == own => spawner_spec.engine.clone(),
        other => {
            let allowed = match own {
                "echo" => "echo".to_owned(),
                own => format!("echo or {own}"),
            };
            return Err(refuse(
                RefusalKind::EngineNotAllowed,
                format!(
                    "{} may spawn pods with engine {allowed}, not {other:?}",
                    order.spawner
                ),
            ));
        }
    };
    let scope = delegate(ctx, order, &spawner_spec.scope)?;
    let spawner_name = name_of(&order.spawner);
    Ok(ChildSpec {
        name: Name::spawned(&spawner_name, &child),
        restart: order.restart,
        shutdown: Shutdown::Timeout(Duration::from_secs(5)),
        start_timeout: Duration::from_secs(10),
        kind: ChildKind::Pod(Arc::new(PodSpec {
            engine,
            env: spawner_spec.env.clone(),
            cwd: spawner_spec.cwd.clone(),
            scope,
            on_spawner_exit: spawner_spec.on_spawner_exit,
            fsync: spawner_spec.fsync,
        })),
        // A spawned pod never runs with more than its spawner: same user, same limits.
        limits: spawner.limits,
    })
}

/// The rules each live child of `spawner` holds (its scope's allow rules).
fn delegated(ctx: &RootCtx, spawner: &str) -> Vec<(String, Rule)> {
    let children = ctx
        .registry
        .get(spawner)
        .map(|n| n.children)
        .unwrap_or_default();
    children
        .into_iter()
        .filter_map(|c| {
            ctx.registry
                .get(&c)
                .and_then(|n| n.pod_spec)
                .map(|p| (c, p.scope.allow.clone()))
        })
        .flat_map(|(c, rules)| rules.into_iter().map(move |r| (c.clone(), r)))
        .collect()
}

/// A spawner's scope now: its own, without write on what its live children hold.
pub fn current_scope(ctx: &RootCtx, spawner: &str) -> Option<Scope> {
    let base = ctx.registry.get(spawner)?.pod_spec?.scope.clone();
    let held = delegated(ctx, spawner);
    Some(base.without_write_on(held.iter().map(|(_, r)| r)))
}

/// The child's scope for the order's rules, checked against what the spawner holds now.
fn delegate(ctx: &RootCtx, order: &Order, base: &Scope) -> Result<Scope, Refusal> {
    let mut rules = Vec::new();
    for r in &order.scope {
        let target = normalise(&r.target).map_err(|e| {
            refuse(
                RefusalKind::ScopeDenied,
                format!("scope rule {:?}: {e}", r.target),
            )
        })?;
        rules.push(Rule {
            target,
            write: r.write,
            recursive: r.recursive,
        });
    }
    // Checked against the spawner's own scope; what live children hold is excluded by the
    // exclusivity check, which names the holder.
    let held = delegated(ctx, &order.spawner);
    base.delegate(&rules, &held).map_err(|e| {
        refuse(
            RefusalKind::ScopeDenied,
            format!("{} cannot delegate: {e}", order.spawner),
        )
    })
}

/// A registry name as a [`Name`]; spawned names are built from validated parts.
fn name_of(full: &str) -> Name {
    let mut parts = full.split('/');
    let first = Name::parse(parts.next().unwrap_or_default()).unwrap_or_else(|_| Name::root());
    parts.fold(first, |acc, part| match Name::parse(part) {
        Ok(part) => Name::spawned(&acc, &part),
        Err(_) => acc,
    })
}

/// The spawner's dynamic supervisor, started with its first spawn.
async fn dynamic_supervisor(
    ctx: &Arc<RootCtx>,
    spawner: &str,
) -> Result<ractor::ActorRef<SupMsg>, Refusal> {
    if let Some(sup) = ctx.registry.get(spawner).and_then(|n| n.spawned) {
        return Ok(sup);
    }
    let args = SupArgs {
        name: format!("{spawner} (spawned)"),
        generation: 1,
        spec: SupervisorSpec {
            name: Name::root(),
            strategy: Strategy::Dynamic,
            intensity: SPAWNED_INTENSITY,
            backoff: None,
            start: StartMode::Ordered,
            children: Vec::new(),
        },
        role: Role::Spawned {
            spawner: spawner.to_owned(),
        },
        ctx: ctx.clone(),
    };
    let (sup, _) = Actor::spawn(None, Supervisor, args).await.map_err(|e| {
        refuse(
            RefusalKind::Invalid,
            format!("cannot start {spawner}'s supervisor: {e}"),
        )
    })?;
    ctx.registry
        .update(spawner, |n| n.spawned = Some(sup.clone()));
    Ok(sup)
}

/// Spawns the pod `order` describes and records it in the spawner's log.
pub async fn spawn(ctx: &Arc<RootCtx>, order: Order) -> Result<Spawned, Refusal> {
    // One spawn at a time: validation and creation must not interleave.
    let _serial = ctx.spawn_lock.lock().await;
    let spec = validate(ctx, &order)?;
    let spawned = start_spawned(ctx, (&order.spawner, spec, 0)).await?;
    let engine = engine_of(ctx, &spawned.name);
    let record = SpawnRecord {
        name: spawned.name.clone(),
        engine,
        restart: order.restart.to_string(),
        scope: order.scope,
        generation: spawned.generation,
    };
    let item = Change::Spawned(record).item();
    let up = ctx
        .registry
        .get(&order.spawner)
        .is_some_and(|n| n.link.is_some());
    let feed = ctx.registry.subscribe(&order.spawner).filter(|_| up);
    ctx.registry
        .deliver(&order.spawner, Method::Record { item: item.clone() });
    // Answer once the spawner has it on record (it is redelivered if the spawner dies
    // first, so a slow spawner only delays the answer).
    if let Some(feed) = feed {
        wait_committed(feed, &item, COMMIT_WAIT).await;
    }
    tracing::info!(spawner = %order.spawner, pod = %spawned.name, generation = spawned.generation, "spawned");
    Ok(spawned)
}

fn engine_of(ctx: &RootCtx, name: &str) -> EngineSpec {
    ctx.registry
        .get(name)
        .and_then(|n| n.pod_spec)
        .map(|p| p.engine.clone())
        .unwrap_or(EngineSpec::Echo {
            chunk_chars: 16,
            delay_ms: 0,
        })
}

/// Starts `spec` under `spawner`'s dynamic supervisor, continuing from generation
/// `previous`.
async fn start_spawned(
    ctx: &Arc<RootCtx>,
    (spawner, spec, previous): (&str, ChildSpec, u64),
) -> Result<Spawned, Refusal> {
    let full = spec.name.to_string();
    let sup = dynamic_supervisor(ctx, spawner).await?;
    let answer = sup
        .call(
            |reply| SupMsg::AddChild(Box::new(spec), previous, reply),
            None,
        )
        .await;
    match answer {
        Ok(CallResult::Success(Ok((generation, pid)))) => Ok(Spawned {
            name: full,
            generation,
            pid,
        }),
        Ok(CallResult::Success(Err(reason))) => Err(refuse(
            RefusalKind::Invalid,
            format!("{full} did not start: {reason}"),
        )),
        Ok(CallResult::Timeout | CallResult::SenderError) | Err(_) => Err(refuse(
            RefusalKind::Invalid,
            format!("{spawner}'s supervisor went away"),
        )),
    }
}

/// After a restart of the root nothing spawned is running: replays every spawner's
/// registry from its session log and brings back each child by its restart type — a
/// temporary one is reclaimed, any other is spawned again (its own log is replayed in turn).
/// The spawner's log records which.
pub async fn reconcile(ctx: &Arc<RootCtx>) {
    let mut spawners: Vec<String> = ctx
        .registry
        .names()
        .into_iter()
        .filter(|n| {
            ctx.registry
                .get(n)
                .is_some_and(|node| node.kind == NodeKind::Pod)
        })
        .collect();
    while let Some(spawner) = spawners.pop() {
        let dir = crate::paths::pod_dir(&ctx.state_dir, &spawner);
        let entries = match podsup_pod_worker::session_log::read(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::error!(%spawner, %e, "cannot replay the spawner's registry");
                continue;
            }
        };
        for (name, record) in podsup_pod_worker::registry::replay(&entries) {
            // Serialised with spawns, which run while this does (ctl spawn, a pod's
            // spawn_pod or attach_or_restore_pod): a spawner has one dynamic supervisor,
            // created by whichever comes first, and a name is checked and taken by one.
            let _serial = ctx.spawn_lock.lock().await;
            if ctx.registry.get(&name).is_some() {
                continue;
            }
            match respawn(ctx, &spawner, &record).await {
                Some(generation) => {
                    let item = Change::Respawned {
                        name: name.clone(),
                        generation,
                    }
                    .item();
                    ctx.registry.deliver(&spawner, Method::Record { item });
                    spawners.push(name);
                }
                None => {
                    let reclaimed = podsup_wire::PodEvent::Reclaimed { pod_name: name };
                    ctx.registry.deliver(&spawner, Method::PodEvent(reclaimed));
                }
            }
        }
    }
}

/// Spawns `record` again unless it is temporary; its new generation, or `None` if it is
/// not coming back.
async fn respawn(ctx: &Arc<RootCtx>, spawner: &str, record: &SpawnRecord) -> Option<u64> {
    let restart: Restart = record.restart.parse().ok()?;
    if restart == Restart::Temporary {
        tracing::info!(%spawner, pod = %record.name, "temporary spawned pod did not survive the root; reclaimed");
        return None;
    }
    let spawner_spec = ctx.registry.get(spawner)?.pod_spec?;
    let spec = ChildSpec {
        name: name_of(&record.name),
        restart,
        shutdown: Shutdown::Timeout(Duration::from_secs(5)),
        start_timeout: Duration::from_secs(10),
        kind: ChildKind::Pod(Arc::new(PodSpec {
            engine: record.engine.clone(),
            env: spawner_spec.env.clone(),
            cwd: spawner_spec.cwd.clone(),
            // What the record says was delegated, under the spawner's denies.
            scope: Scope {
                allow: record
                    .scope
                    .iter()
                    .filter_map(|r| {
                        normalise(&r.target).ok().map(|target| Rule {
                            target,
                            write: r.write,
                            recursive: r.recursive,
                        })
                    })
                    .collect(),
                deny: spawner_spec.scope.deny.clone(),
            },
            on_spawner_exit: spawner_spec.on_spawner_exit,
            fsync: spawner_spec.fsync,
        })),
        limits: ctx.registry.get(spawner)?.limits,
    };
    match start_spawned(ctx, (spawner, spec, record.generation)).await {
        Ok(spawned) => {
            tracing::info!(%spawner, pod = %record.name, generation = spawned.generation, "re-spawned after a root restart");
            Some(spawned.generation)
        }
        Err(refusal) => {
            tracing::error!(%spawner, pod = %record.name, %refusal, "cannot re-spawn; reclaimed");
            None
        }
    }
}

/// Whether `viewer` may see `target`: itself and the pods it spawned.
pub fn visible(viewer: &str, target: &str) -> bool {
    target == viewer
        || target
            .strip_prefix(viewer)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// A pod's description for `ctl inspect` and the `inspect_pod` tool.
pub fn inspect(ctx: &RootCtx, name: &str) -> Option<serde_json::Value> {
    let node = ctx.registry.get(name)?;
    let children: Vec<serde_json::Value> = node
        .children
        .iter()
        .filter_map(|c| ctx.registry.get(c).map(|n| (c, n)))
        .map(|(c, n)| json!({ "name": c, "state": format!("{:?}", n.state).to_lowercase(), "generation": n.generation, "pid": n.pid }))
        .collect();
    let spawned = node.kind == NodeKind::Pod && name.contains('/');
    Some(json!({
        "name": name,
        "kind": format!("{:?}", node.kind).to_lowercase(),
        "state": format!("{:?}", node.state).to_lowercase(),
        "pid": node.pid,
        "generation": node.generation,
        "restarts": node.restarts,
        "parent": node.parent,
        "spawned": spawned,
        "status": node.pod_status.map(|s| format!("{s:?}").to_lowercase()),
        "engine": node.pod_spec.as_ref().map(|p| engine_name(&p.engine)),
        "last_exit": node.last_exit.as_ref().map(|l| json!({ "reason": l.reason })),
        "scope": current_scope(ctx, name),
        "delegated": delegated(ctx, name)
            .into_iter()
            .map(|(child, rule)| json!({ "to": child, "rule": rule }))
            .collect::<Vec<_>>(),
        "children": children,
    }))
}

/// A spawner ended (crashed or stopped) with `on_spawner_exit = "stop"`: its spawned pods
/// are stopped and reclaimed with it (deepest first, through their own spawners).
pub async fn spawner_exited(ctx: &Arc<RootCtx>, spawner: &str) {
    let Some(node) = ctx.registry.get(spawner) else {
        return;
    };
    let policy = node.pod_spec.as_ref().map(|p| p.on_spawner_exit);
    let (Some(podsup_config::OnSpawnerExit::Stop), Some(sup)) = (policy, node.spawned) else {
        return;
    };
    tracing::info!(%spawner, "spawner exited with on_spawner_exit = stop: stopping its pods");
    for child in node.children {
        match sup
            .call(|reply| SupMsg::RemoveChild(child.clone(), reply), None)
            .await
        {
            Ok(CallResult::Success(Ok(()))) => {}
            Ok(CallResult::Success(Err(e))) => {
                tracing::warn!(%spawner, %child, %e, "cannot stop spawned pod")
            }
            Ok(CallResult::Timeout | CallResult::SenderError) | Err(_) => {
                tracing::warn!(%spawner, "spawned pods' supervisor went away");
                return;
            }
        }
    }
}
