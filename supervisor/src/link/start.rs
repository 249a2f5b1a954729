//! Starting one generation: spawn, then wait for readiness within the start deadline —
//! `Ready` after the handshake for pods, a successful exec for plain processes.

use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

use podsup_config::ChildKind;
use podsup_wire::frame::{read_frame, write_frame};
use podsup_wire::{ExitStatus, Init, PodToRoot, RootToPod};
use ractor::ActorRef;
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{LinkArgs, LinkMsg, describe, dirs, handshake};
use crate::reap;
use crate::spawn;

/// How many frames may wait for a slow pod before sends are refused.
const TO_POD_QUEUE: usize = 1024;

/// The queue of frames to one pod. Frames are boxed: the channel allocates its slots in
/// blocks, and a block of `RootToPod`s would cost every idle pod kilobytes of the root.
pub type ToPod = mpsc::Sender<Box<RootToPod>>;

/// Why a start failed, in the operator's words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartFailed(pub String);

/// A started, ready generation.
#[derive(Debug)]
pub struct Started {
    /// Its pid (and process group id).
    pub pid: u32,
    /// Frames to the pod (`None` for plain processes).
    pub to_pod: Option<ToPod>,
}

type ExitWait = JoinHandle<std::io::Result<ExitStatus>>;

/// Spawns the child described by `args` and waits until it is ready.
pub async fn start(args: &LinkArgs, myself: &ActorRef<LinkMsg>) -> Result<Started, StartFailed> {
    let (mut command, socket) = command_for(args)?;
    let arming = spawn::Arming {
        name: &args.name,
        pod_fd: socket.as_ref().map(|(_, theirs)| theirs),
        limits: &args.limits,
    };
    spawn::arm(&mut command, arming).map_err(|e| StartFailed(e.to_string()))?;
    if let (ChildKind::Pod(_), Some(run_as)) = (&args.kind, &args.limits.run_as) {
        let bases = [args.ctx.state_dir.as_path(), args.ctx.runtime_dir.as_path()];
        dirs::hand_over(bases, &args.name, run_as)
            .map_err(|e| StartFailed(format!("{}: {e}", args.name)))?;
    }
    crate::output::pipe(&mut command);
    let mut child = args
        .ctx
        .spawner
        .spawn(command)
        .await
        .map_err(|e| spawn_failed(args, &e))?;
    let pid = child.id();
    args.ctx.guard.watch(pid);
    let generation = crate::output::Generation {
        name: &args.name,
        generation: args.generation,
    };
    args.ctx.outputs.attach(&mut child, generation);
    let ours = socket.map(|(ours, theirs)| {
        drop(theirs);
        ours
    });
    let mut exit: ExitWait = tokio::spawn(reap::wait(child));
    let to_pod = match ours {
        None => None,
        Some(ours) => {
            let pending = Pending { args, pid, myself };
            Some(ready(&pending, ours, &mut exit).await?)
        }
    };
    forward_exit(exit, (args, pid), myself.clone());
    Ok(Started { pid, to_pod })
}

/// A failed spawn, naming the user it was tried as: often a program or directory that
/// user may not reach.
fn spawn_failed(args: &LinkArgs, e: &std::io::Error) -> StartFailed {
    match &args.limits.run_as {
        Some(run_as) => StartFailed(format!("spawn failed as user {}: {e}", run_as.user)),
        None => StartFailed(format!("spawn failed: {e}")),
    }
}

fn command_for(
    args: &LinkArgs,
) -> Result<(Command, Option<(std::os::unix::net::UnixStream, OwnedFd)>), StartFailed> {
    match &args.kind {
        ChildKind::Pod(pod) => {
            let mut command = Command::new(&args.ctx.self_exe);
            command
                .arg("pod-worker")
                .envs(&pod.env)
                .stdin(Stdio::null());
            if let Some(cwd) = &pod.cwd {
                command.current_dir(cwd);
            }
            let (ours, theirs) = std::os::unix::net::UnixStream::pair()
                .map_err(|e| StartFailed(format!("socketpair failed: {e}")))?;
            Ok((command, Some((ours, OwnedFd::from(theirs)))))
        }
        ChildKind::Process(process) => {
            let mut command = Command::new(&process.program);
            command
                .args(&process.argv[1..])
                .envs(&process.env)
                .stdin(Stdio::null());
            std::os::unix::process::CommandExt::arg0(&mut command, &process.argv[0]);
            if let Some(cwd) = &process.cwd {
                command.current_dir(cwd);
            }
            Ok((command, None))
        }
        ChildKind::Supervisor(_) => Err(StartFailed("a supervisor is not a process".into())),
    }
}

/// A spawned pod waiting for its handshake.
struct Pending<'a> {
    args: &'a LinkArgs,
    pid: u32,
    myself: &'a ActorRef<LinkMsg>,
}

/// Handshake under the start deadline, racing the child's exit.
async fn ready(
    pending: &Pending<'_>,
    ours: std::os::unix::net::UnixStream,
    exit: &mut ExitWait,
) -> Result<ToPod, StartFailed> {
    let args = pending.args;
    let mut stream = ours
        .set_nonblocking(true)
        .and_then(|()| UnixStream::from_std(ours))
        .map_err(|e| StartFailed(format!("cannot use socket: {e}")))?;
    let init = init_for(args);
    let outcome = tokio::select! {
        r = tokio::time::timeout(args.start_timeout, handshake::run(&mut stream, init)) => match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(handshake::HandshakeError::PodFailed(why))) => Err(why),
            Ok(Err(e)) => Err(format!("handshake failed: {e}")),
            Err(_) => Err(format!("not ready within {:?}", args.start_timeout)),
        },
        r = &mut *exit => Err(match r {
            Ok(Ok(status)) => format!("exited before Ready ({})", describe(status)),
            Ok(Err(e)) => format!("lost before Ready: {e}"),
            Err(e) => format!("lost before Ready: {e}"),
        }),
    };
    match outcome {
        Ok(()) => Ok(spawn_io(stream, pending)),
        Err(reason) => {
            if !exit.is_finished() {
                reap::signal_group(pending.pid, nix::sys::signal::Signal::SIGKILL);
            }
            // Reap before reporting, so a failed start leaves no zombie behind.
            if let Err(e) = (&mut *exit).await {
                tracing::warn!(pod = %args.name, %e, "waiter task failed");
            }
            args.ctx.guard.unwatch(pending.pid);
            Err(StartFailed(reason))
        }
    }
}

fn init_for(args: &LinkArgs) -> Init {
    let (engine, scope_json, fsync) = match &args.kind {
        ChildKind::Pod(pod) => (
            pod.engine.clone(),
            serde_json::to_string(&pod.scope).unwrap_or_default(),
            pod.fsync.as_str().to_owned(),
        ),
        ChildKind::Process(_) | ChildKind::Supervisor(_) => {
            unreachable!("init only for pods")
        }
    };
    let pod_dir = |base: &std::path::Path| crate::paths::pod_dir(base, &args.name);
    Init {
        name: args.name.clone(),
        generation: args.generation,
        parent: args.parent.clone(),
        state_dir: pod_dir(&args.ctx.state_dir).display().to_string(),
        runtime_dir: pod_dir(&args.ctx.runtime_dir).display().to_string(),
        engine,
        scope_json,
        fsync,
    }
}

/// Reader and writer tasks for a ready pod's socket.
fn spawn_io(stream: UnixStream, pending: &Pending<'_>) -> ToPod {
    let (rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Box<RootToPod>>(TO_POD_QUEUE);
    let name = pending.args.name.clone();
    tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if let Err(e) = write_frame(&mut wr, &*frame).await {
                tracing::debug!(pod = %name, %e, "pod socket write failed");
                break;
            }
        }
    });
    spawn_reader(rd, pending.myself.clone());
    tx
}

/// Reads frames until the socket ends; the actor gets them in its mailbox, which holds
/// them until `pre_start` has returned.
fn spawn_reader(mut rd: tokio::net::unix::OwnedReadHalf, myself: ActorRef<LinkMsg>) {
    tokio::spawn(async move {
        let mut window = FloodWindow::new();
        loop {
            let msg = match read_frame::<PodToRoot, _>(&mut rd).await {
                Ok(Some(frame)) => match window.count(tokio::time::Instant::now()) {
                    Ok(()) => LinkMsg::Frame(frame),
                    Err(flood) => LinkMsg::Broken(flood),
                },
                Ok(None) => LinkMsg::Closed,
                Err(e) => LinkMsg::Broken(e.to_string()),
            };
            let last = matches!(msg, LinkMsg::Broken(_) | LinkMsg::Closed);
            if myself.send_message(msg).is_err() || last {
                break;
            }
        }
    });
}

/// Frames one pod may send within [`FLOOD_WINDOW`]: far above any real stream (an echo
/// pod answering 60,000 characters one at a time stays well below), yet it bounds what a
/// runaway pod can queue in the root before it is killed.
const FLOOD_LIMIT: u32 = 200_000;
/// The window [`FLOOD_LIMIT`] is counted over.
const FLOOD_WINDOW: std::time::Duration = std::time::Duration::from_secs(5);

/// Counts a pod's frames per window.
struct FloodWindow {
    start: tokio::time::Instant,
    frames: u32,
}

impl FloodWindow {
    fn new() -> Self {
        Self {
            start: tokio::time::Instant::now(),
            frames: 0,
        }
    }

    /// Counts one frame at `now`; an error once the pod floods.
    fn count(&mut self, now: tokio::time::Instant) -> Result<(), String> {
        if now.duration_since(self.start) >= FLOOD_WINDOW {
            self.start = now;
            self.frames = 0;
        }
        self.frames += 1;
        match self.frames > FLOOD_LIMIT {
            false => Ok(()),
            true => Err(format!(
                "flooding: more than {FLOOD_LIMIT} frames within {FLOOD_WINDOW:?}"
            )),
        }
    }
}

/// Hands the reaped status to the actor once the process exits (and tells the guard the
/// group is gone).
fn forward_exit(exit: ExitWait, (args, pid): (&LinkArgs, u32), myself: ActorRef<LinkMsg>) {
    let ctx = args.ctx.clone();
    tokio::spawn(async move {
        let status = match exit.await {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        ctx.guard.unwatch(pid);
        if myself.send_message(LinkMsg::Exited(status)).is_err() {
            tracing::debug!("link gone before its process exit was delivered");
        }
    });
}
