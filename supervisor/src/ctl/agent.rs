//! ctl verbs that talk to a pod's controller: send, notify, pause, resume, cancel, attach,
//! logs. They subscribe to the pod's feed *before* acting, so nothing they wait for can
//! slip by, and stream what they see to the client. A client that cannot keep up is
//! dropped with a notice; the pod never waits for it.

use std::path::PathBuf;
use std::time::Duration;

use podsup_wire::{
    CtlError, CtlErrorKind, CtlResponse, Event, Item, Method, NodeKind, PodStatus, RunResult,
    Segment,
};
use ractor::ActorRef;
use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::server::CtlCtx;
use crate::link::LinkMsg;
use crate::registry::{FEED_CAPACITY, Feed, FeedEnd, Subscription};

/// How long pause/resume/cancel wait for the pod's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

fn failure(kind: CtlErrorKind, message: impl Into<String>) -> CtlError {
    CtlError {
        kind,
        message: message.into(),
    }
}

fn error(kind: CtlErrorKind, message: impl Into<String>) -> CtlResponse {
    CtlResponse::Error(failure(kind, message))
}

/// A pod that is up: its link, a fresh subscription and its generation.
struct Target {
    name: String,
    link: Option<ActorRef<LinkMsg>>,
    feed: Subscription,
    generation: u64,
}

/// Looks `name` up as a pod; `need_running` refuses a pod that is not up.
fn target(ctx: &CtlCtx, name: &str, need_running: bool) -> Result<Target, CtlError> {
    let Some(node) = ctx.registry.get(name) else {
        return Err(failure(
            CtlErrorKind::NotFound,
            format!("no pod named {name:?} (see `podsup ctl status`)"),
        ));
    };
    let (NodeKind::Pod, Some(feed)) = (node.kind, ctx.registry.subscribe(name)) else {
        return Err(failure(
            CtlErrorKind::BadRequest,
            format!(
                "{name} is a {}, not a pod: only pods take turns",
                kind_word(node.kind)
            ),
        ));
    };
    if need_running && node.link.is_none() {
        return Err(failure(
            CtlErrorKind::InvalidState,
            format!(
                "pod {name} is not running (state {:?}); start it with `podsup ctl start {name}`",
                node.state
            )
            .to_lowercase(),
        ));
    }
    Ok(Target {
        name: name.to_owned(),
        link: node.link,
        feed,
        generation: node.generation,
    })
}

fn kind_word(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Supervisor => "supervisor",
        NodeKind::Pod => "pod",
        NodeKind::Process => "process",
    }
}

impl Target {
    fn call(&self, method: Method) -> Result<(), CtlError> {
        let delivered = self
            .link
            .as_ref()
            .is_some_and(|link| link.send_message(LinkMsg::Method(method)).is_ok());
        match delivered {
            true => Ok(()),
            false => Err(failure(
                CtlErrorKind::InvalidState,
                format!("pod {} went away before it got the request", self.name),
            )),
        }
    }
}

/// What a streaming verb does with each event; `Some` ends the conversation.
type Verdict = Option<CtlResponse>;

/// The client's side of the socket.
pub struct Client {
    rd: OwnedReadHalf,
    wr: OwnedWriteHalf,
}

impl Client {
    /// Wraps an accepted connection.
    pub fn new(stream: UnixStream) -> Self {
        let (rd, wr) = stream.into_split();
        Self { rd, wr }
    }

    /// Sends one answer frame; false if the client is gone.
    pub async fn send(&mut self, response: &CtlResponse) -> bool {
        match podsup_wire::frame::write_frame(&mut self.wr, response).await {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(%e, "ctl client went away");
                false
            }
        }
    }

    /// Resolves when the client goes away: clients send nothing after their request, so
    /// anything readable (end of stream included) means it is done listening.
    pub async fn gone(&mut self) {
        let mut scratch = [0u8; 16];
        if let Err(e) = self.rd.read(&mut scratch).await {
            tracing::debug!(%e, "ctl client connection failed");
        }
    }

    /// Relays `target`'s feed until `judge` returns a final answer, the client leaves, or it
    /// falls behind.
    async fn relay(
        &mut self,
        target: &mut Target,
        limit: Option<Duration>,
        mut judge: impl FnMut(&Event) -> Verdict,
    ) -> Verdict {
        let deadline = limit.map(|d| tokio::time::Instant::now() + d);
        let mut scratch = [0u8; 64];
        loop {
            let feed = tokio::select! {
                feed = target.feed.recv() => feed,
                // Clients send nothing after their request: readable means gone.
                _ = self.rd.read(&mut scratch) => return None,
                _ = sleep_until(deadline) => {
                    return Some(error(CtlErrorKind::Internal, format!("no answer from pod {} within {:?}", target.name, limit.unwrap_or_default())));
                }
            };
            let (generation, event) = match feed {
                Ok(Feed::Event { generation, event }) => (generation, event),
                Ok(Feed::Started { generation }) => {
                    target.generation = generation;
                    let notice =
                        format!("pod {} is up again (generation {generation})", target.name);
                    if !self.send(&CtlResponse::Notice { message: notice }).await {
                        return None;
                    }
                    continue;
                }
                Ok(Feed::Exited { generation, reason }) => {
                    let message = format!(
                        "pod {} (generation {generation}) exited: {reason}",
                        target.name
                    );
                    if let Some(v) = judge(&Event::Alert {
                        level: podsup_wire::event::AlertLevel::Error,
                        message: message.clone(),
                    }) {
                        return Some(v);
                    }
                    if !self.send(&CtlResponse::Notice { message }).await {
                        return None;
                    }
                    continue;
                }
                Err(FeedEnd::Lagged) => {
                    return Some(error(
                        CtlErrorKind::Internal,
                        format!(
                            "you fell {FEED_CAPACITY} events behind pod {}; disconnected so the pod is not held up",
                            target.name
                        ),
                    ));
                }
                Err(FeedEnd::Closed) => {
                    return Some(error(CtlErrorKind::ShuttingDown, "podsup is shutting down"));
                }
            };
            let verdict = judge(&event);
            // An error that ends the conversation is said once, as the final answer.
            if let Some(CtlResponse::Error(_)) = verdict {
                return verdict;
            }
            let frame = CtlResponse::Event {
                pod: target.name.clone(),
                generation,
                event,
            };
            if !self.send(&frame).await {
                return None;
            }
            if verdict.is_some() {
                return verdict;
            }
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn ok(message: impl Into<String>) -> CtlResponse {
    CtlResponse::Ok {
        message: message.into(),
    }
}

/// `ctl send`: start a turn; stream it to its end, or (no wait) until the input is committed.
pub async fn send(
    ctx: &CtlCtx,
    client: &mut Client,
    (name, text, wait): (String, String, bool),
) -> Verdict {
    let mut target = match target(ctx, &name, true) {
        Ok(t) => t,
        Err(e) => return Some(CtlResponse::Error(e)),
    };
    if let Err(e) = target.call(Method::Run {
        input: vec![Segment::Text(text.clone())],
    }) {
        return Some(CtlResponse::Error(e));
    }
    // This client's turn is the one that committed its input; until then an error is the
    // answer to its Run (another client's turn may be running), and only the end of its
    // own turn ends the conversation.
    let mut mine = false;
    let pod = name.clone();
    let input = Item::User { text };
    client
        .relay(&mut target, None, |event| match event {
            Event::Committed(entry) if !mine && entry.item == input => match wait {
                false => Some(ok(format!("sent to {pod} (entry {} committed)", entry.seq))),
                true => {
                    mine = true;
                    None
                }
            },
            Event::Error { message, .. } if !mine => {
                Some(error(CtlErrorKind::InvalidState, message.clone()))
            }
            Event::Alert {
                level: podsup_wire::event::AlertLevel::Error,
                message,
            } => Some(error(CtlErrorKind::Internal, message.clone())),
            // The run's end was streamed as an event already.
            Event::RunEnd { result } if mine => Some(match result {
                RunResult::Finished | RunResult::LimitReached | RunResult::Paused => ok(""),
                RunResult::RolledBack | RunResult::Cancelled => error(
                    CtlErrorKind::InvalidState,
                    format!("turn ended: {result:?}").to_lowercase(),
                ),
            }),
            _ => None,
        })
        .await
}

/// `ctl notify`.
pub fn notify(ctx: &CtlCtx, (name, message): (String, String)) -> CtlResponse {
    let target = match target(ctx, &name, true) {
        Ok(t) => t,
        Err(e) => return CtlResponse::Error(e),
    };
    match target.call(Method::Notify { message }) {
        Ok(()) => ok(format!("notified {name}")),
        Err(e) => CtlResponse::Error(e),
    }
}

/// `ctl pause|resume|cancel`: send the method and wait for the pod's answer.
pub async fn control(
    ctx: &CtlCtx,
    client: &mut Client,
    (name, method): (String, Method),
) -> Verdict {
    let mut target = match target(ctx, &name, true) {
        Ok(t) => t,
        Err(e) => return Some(CtlResponse::Error(e)),
    };
    let want = match method {
        Method::Pause => PodStatus::Paused,
        Method::Resume => PodStatus::Running,
        _ => PodStatus::Idle,
    };
    if ctx.registry.get(&name).and_then(|n| n.pod_status) == Some(PodStatus::Paused)
        && want == PodStatus::Paused
    {
        return Some(ok(format!("{name} is already paused")));
    }
    if let Err(e) = target.call(method) {
        return Some(CtlResponse::Error(e));
    }
    client
        .relay(&mut target, Some(ANSWER_TIMEOUT), |event| match event {
            Event::Status { status } if *status == want => {
                Some(ok(format!("{name} is {status:?}").to_lowercase()))
            }
            Event::Error { code, message } => Some(error(
                CtlErrorKind::InvalidState,
                format!("{code:?}: {message}"),
            )),
            _ => None,
        })
        .await
}

/// `ctl attach`: a snapshot, then everything live until the client leaves.
pub async fn attach(ctx: &CtlCtx, client: &mut Client, name: String) -> Verdict {
    let mut target = match target(ctx, &name, false) {
        Ok(t) => t,
        Err(e) => return Some(CtlResponse::Error(e)),
    };
    if target.call(Method::Snapshot).is_err() {
        let snapshot = match offline_snapshot(ctx, &name) {
            Ok(s) => s,
            Err(e) => return Some(CtlResponse::Error(e)),
        };
        if !client.send(&snapshot).await {
            return None;
        }
        let notice = format!("pod {name} is not running; waiting for it to start");
        if !client.send(&CtlResponse::Notice { message: notice }).await {
            return None;
        }
    }
    client.relay(&mut target, None, |_| None).await
}

fn pod_dir(ctx: &CtlCtx, name: &str) -> PathBuf {
    crate::paths::pod_dir(&ctx.state_dir, name)
}

fn offline_snapshot(ctx: &CtlCtx, name: &str) -> Result<CtlResponse, CtlError> {
    let entries = podsup_pod_worker::session_log::read(&pod_dir(ctx, name))
        .map_err(|e| failure(CtlErrorKind::Internal, e.to_string()))?;
    let generation = ctx.registry.get(name).map_or(0, |n| n.generation);
    Ok(CtlResponse::Event {
        pod: name.to_owned(),
        generation,
        event: Event::Snapshot {
            greeting: format!("pod {name} (stopped): {} committed entries", entries.len()),
            entries,
            status: PodStatus::Idle,
        },
    })
}

/// `ctl logs`: committed history from the session log, then (follow) new entries.
pub async fn logs(
    ctx: &CtlCtx,
    client: &mut Client,
    (name, follow, last): (String, bool, Option<u32>),
) -> Verdict {
    let mut target = match target(ctx, &name, false) {
        Ok(t) => t,
        Err(e) => return Some(CtlResponse::Error(e)),
    };
    let entries = match podsup_pod_worker::session_log::read(&pod_dir(ctx, &name)) {
        Ok(entries) => entries,
        Err(e) => return Some(error(CtlErrorKind::Internal, e.to_string())),
    };
    let skip = last.map_or(0, |n| entries.len().saturating_sub(n as usize));
    let mut next_seq = entries.last().map_or(0, |e| e.seq + 1);
    for entry in entries.into_iter().skip(skip) {
        let frame = CtlResponse::Event {
            pod: name.clone(),
            generation: target.generation,
            event: Event::Committed(entry),
        };
        if !client.send(&frame).await {
            return None;
        }
    }
    if !follow {
        return Some(ok(""));
    }
    let mut scratch = [0u8; 16];
    loop {
        let feed = tokio::select! {
            feed = target.feed.recv() => feed,
            _ = client.rd.read(&mut scratch) => return None,
        };
        match feed {
            Ok(Feed::Event {
                generation,
                event: Event::Committed(entry),
            }) if entry.seq >= next_seq => {
                next_seq = entry.seq + 1;
                let frame = CtlResponse::Event {
                    pod: name.clone(),
                    generation,
                    event: Event::Committed(entry),
                };
                if !client.send(&frame).await {
                    return None;
                }
            }
            Ok(_) => {}
            Err(FeedEnd::Lagged) => {
                return Some(error(
                    CtlErrorKind::Internal,
                    format!("you fell {FEED_CAPACITY} events behind; run `ctl logs` again"),
                ));
            }
            Err(FeedEnd::Closed) => {
                return Some(error(CtlErrorKind::ShuttingDown, "podsup is shutting down"));
            }
        }
    }
}
