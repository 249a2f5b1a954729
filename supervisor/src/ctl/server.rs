//! The ctl server: a unix socket (mode 0600) in the runtime dir. Every connection's peer
//! uid is checked with SO_PEERCRED — the root's own uid or root may connect, nobody else —
//! then one request is read and answered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use podsup_wire::frame::{read_frame, write_frame};
use podsup_wire::{CtlError, CtlErrorKind, CtlRequest, CtlResponse, Method};
use ractor::rpc::CallResult;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::agent::{self, Client};
use crate::ctx::DaemonEvent;
use crate::registry::{OwnerError, Registry};
use crate::sup::{Op, SupMsg};

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the ctl server needs from the root.
#[derive(Debug, Clone)]
pub struct CtlCtx {
    /// Status and routing.
    pub registry: Arc<Registry>,
    /// For `shutdown`.
    pub daemon: mpsc::UnboundedSender<DaemonEvent>,
    /// The root's effective uid.
    pub uid: u32,
    /// Where pods keep their session logs (`pods/<name>/`).
    pub state_dir: std::path::PathBuf,
    /// The root's shared context (for spawning).
    pub root: Arc<crate::ctx::RootCtx>,
}

/// Whether a peer with uid `peer` may control a root running as `owner`.
pub fn peer_allowed(owner: u32, peer: u32) -> bool {
    peer == owner || peer == 0
}

/// Accepts connections until the listener fails.
pub async fn serve(listener: UnixListener, ctx: CtlCtx) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let ctx = ctx.clone();
                tokio::spawn(async move { connection(stream, ctx).await });
            }
            Err(e) => {
                tracing::error!(%e, "ctl accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn error(kind: CtlErrorKind, message: impl Into<String>) -> CtlResponse {
    CtlResponse::Error(CtlError {
        kind,
        message: message.into(),
    })
}

async fn connection(mut stream: UnixStream, ctx: CtlCtx) {
    let peer = match stream.peer_cred() {
        Ok(cred) => cred.uid(),
        Err(e) => {
            tracing::warn!(%e, "ctl peer credentials unavailable; refusing");
            return;
        }
    };
    // Read the request before answering, even a refusal, so the client's write never
    // meets a closed socket and it always gets to read why.
    let request =
        match tokio::time::timeout(REQUEST_TIMEOUT, read_frame::<CtlRequest, _>(&mut stream)).await
        {
            Ok(Ok(Some(request))) => request,
            Ok(Ok(None)) => return,
            Ok(Err(e)) => {
                reply(
                    &mut stream,
                    &error(
                        CtlErrorKind::BadRequest,
                        format!("malformed ctl request: {e}"),
                    ),
                )
                .await;
                return;
            }
            Err(_) => {
                reply(
                    &mut stream,
                    &error(CtlErrorKind::BadRequest, "no request within 10s"),
                )
                .await;
                return;
            }
        };
    if !peer_allowed(ctx.uid, peer) {
        tracing::warn!(peer, "ctl connection refused");
        let refusal = error(
            CtlErrorKind::Refused,
            format!(
                "uid {peer} may not control this podsup (it runs as uid {}; only that user or root may)",
                ctx.uid
            ),
        );
        reply(&mut stream, &refusal).await;
        return;
    }
    tracing::debug!(?request, "ctl request");
    let mut client = Client::new(stream);
    let last = match request {
        CtlRequest::Send { name, text, wait } => {
            agent::send(&ctx, &mut client, (name, text, wait)).await
        }
        CtlRequest::Pause { name } => {
            agent::control(&ctx, &mut client, (name, Method::Pause)).await
        }
        CtlRequest::Resume { name } => {
            agent::control(&ctx, &mut client, (name, Method::Resume)).await
        }
        CtlRequest::Cancel { name } => {
            agent::control(&ctx, &mut client, (name, Method::Cancel)).await
        }
        CtlRequest::Attach { name } => agent::attach(&ctx, &mut client, name).await,
        CtlRequest::Logs {
            name,
            follow,
            last,
            output: false,
        } => agent::logs(&ctx, &mut client, (name, follow, last)).await,
        CtlRequest::Logs {
            name,
            follow,
            last,
            output: true,
        } => crate::output::serve::logs(&ctx, &mut client, (name, follow, last)).await,
        CtlRequest::Notify { name, message } => Some(agent::notify(&ctx, (name, message))),
        other => Some(handle(other, &ctx).await),
    };
    if let Some(last) = last {
        client.send(&last).await;
    }
}

async fn reply(stream: &mut UnixStream, response: &CtlResponse) {
    if let Err(e) = write_frame(stream, response).await {
        tracing::debug!(%e, "ctl client went away before the answer");
    }
}

async fn handle(request: CtlRequest, ctx: &CtlCtx) -> CtlResponse {
    match request {
        CtlRequest::Status => {
            let (tree, root) = ctx.registry.status(Instant::now());
            CtlResponse::Status { tree, root }
        }
        CtlRequest::Start { name } => operate(ctx, Op::Start(name)).await,
        CtlRequest::Stop { name } => operate(ctx, Op::Stop(name)).await,
        CtlRequest::Restart { name } => operate(ctx, Op::Restart(name)).await,
        CtlRequest::Shutdown => match ctx.daemon.send(DaemonEvent::Shutdown) {
            Ok(()) => CtlResponse::Ok {
                message: "shutting down: stopping the tree in reverse start order".into(),
            },
            Err(_) => error(CtlErrorKind::ShuttingDown, "already shutting down"),
        },
        CtlRequest::Reload { dry_run } => {
            let (reply, answer) = tokio::sync::oneshot::channel();
            if ctx
                .daemon
                .send(DaemonEvent::Reload { dry_run, reply })
                .is_err()
            {
                return error(CtlErrorKind::ShuttingDown, "podsup is shutting down");
            }
            match answer.await {
                Ok(Ok(plan)) => CtlResponse::Ok { message: plan },
                Ok(Err(e)) => error(CtlErrorKind::BadRequest, e),
                Err(_) => error(CtlErrorKind::ShuttingDown, "podsup is shutting down"),
            }
        }
        CtlRequest::Spawn {
            parent,
            name,
            engine,
            restart,
        } => spawn(ctx, (parent, name, engine, restart)).await,
        CtlRequest::Inspect { name } => match crate::orchestrate::inspect(&ctx.root, &name) {
            Some(value) => CtlResponse::Document {
                json: value.to_string(),
            },
            None => error(
                CtlErrorKind::NotFound,
                format!("no pod, process or supervisor named {name:?}"),
            ),
        },
        other @ (CtlRequest::Send { .. }
        | CtlRequest::Notify { .. }
        | CtlRequest::Pause { .. }
        | CtlRequest::Resume { .. }
        | CtlRequest::Cancel { .. }
        | CtlRequest::Attach { .. }
        | CtlRequest::Logs { .. }) => error(
            CtlErrorKind::BadRequest,
            format!("this podsup does not serve {}", verb(&other)),
        ),
    }
}

fn verb(request: &CtlRequest) -> &'static str {
    match request {
        CtlRequest::Status => "status",
        CtlRequest::Start { .. } => "start",
        CtlRequest::Stop { .. } => "stop",
        CtlRequest::Restart { .. } => "restart",
        CtlRequest::Shutdown => "shutdown",
        CtlRequest::Send { .. } => "send",
        CtlRequest::Notify { .. } => "notify",
        CtlRequest::Pause { .. } => "pause",
        CtlRequest::Resume { .. } => "resume",
        CtlRequest::Cancel { .. } => "cancel",
        CtlRequest::Attach { .. } => "attach",
        CtlRequest::Logs { .. } => "logs",
        CtlRequest::Reload { .. } => "reload",
        CtlRequest::Spawn { .. } => "spawn",
        CtlRequest::Inspect { .. } => "inspect",
    }
}

async fn spawn(
    ctx: &CtlCtx,
    (parent, name, engine, restart): (String, String, String, String),
) -> CtlResponse {
    let restart = match restart.parse() {
        Ok(r) => r,
        Err(_) => {
            return error(
                CtlErrorKind::BadRequest,
                format!("--restart must be permanent, transient or temporary, not {restart:?}"),
            );
        }
    };
    let order = crate::orchestrate::Order {
        spawner: parent,
        name,
        engine,
        restart,
        scope: Vec::new(),
    };
    match crate::orchestrate::spawn(&ctx.root, order).await {
        Ok(spawned) => CtlResponse::Ok {
            message: format!(
                "spawned {} (pid {}, generation {})",
                spawned.name,
                spawned.pid.map_or("-".into(), |p| p.to_string()),
                spawned.generation
            ),
        },
        Err(refusal) => error(
            CtlErrorKind::InvalidState,
            format!("spawn refused ({:?}): {}", refusal.kind, refusal.message),
        ),
    }
}

async fn operate(ctx: &CtlCtx, op: Op) -> CtlResponse {
    let (Op::Start(name) | Op::Stop(name) | Op::Restart(name)) = &op;
    let owner = match ctx.registry.owner_of(name) {
        Ok(owner) => owner,
        Err(OwnerError::NotFound) => {
            return error(
                CtlErrorKind::NotFound,
                format!("no pod, process or supervisor named {name:?} (see `podsup ctl status`)"),
            );
        }
        Err(OwnerError::Root) => {
            return error(
                CtlErrorKind::BadRequest,
                format!("{name} is the root supervisor; use `podsup ctl shutdown`"),
            );
        }
    };
    match owner.call(|reply| SupMsg::Op(op, reply), None).await {
        Ok(CallResult::Success(Ok(message))) => CtlResponse::Ok { message },
        Ok(CallResult::Success(Err(message))) => error(CtlErrorKind::InvalidState, message),
        Ok(CallResult::Timeout | CallResult::SenderError) | Err(_) => error(
            CtlErrorKind::Internal,
            "its supervisor went away while handling the request (restarting or shutting down); try again",
        ),
    }
}
