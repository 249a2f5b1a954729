//! `podsup start`: the root daemon's life, from loading the tree to the last child reaped.
//! A library function, so tests and benchmarks can boot a root in-process.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::fcntl::{Flock, FlockArg};
use podsup_wire::{NodeKind, NodeState};
use ractor::Actor;
use tokio::net::UnixListener;
use tokio::sync::mpsc;

use crate::ctl::server::{self, CtlCtx};
use crate::ctx::{DaemonEvent, RootCtx};
use crate::notify::{self, Counts, Heartbeat};
use crate::paths;
use crate::registry::{Node, Registry};
use crate::spawn::Spawner;
use crate::sup::{SupArgs, SupMsg, Supervisor};

/// Name of the root supervisor node.
pub const ROOT: &str = "root";

/// `podsup start` options.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// The tree file.
    pub tree: PathBuf,
    /// `--runtime-dir`.
    pub runtime_dir: Option<PathBuf>,
    /// `--state-dir`.
    pub state_dir: Option<PathBuf>,
}

/// Why the daemon stopped with a failure.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The tree file is invalid (exit 2).
    #[error("{0}")]
    Config(#[from] podsup_config::ConfigError),
    /// The tree file is invalid; the message also says where the last applied tree is
    /// kept (exit 2).
    #[error("{0}")]
    InvalidTree(String),
    /// The daemon could not set itself up (exit 1).
    #[error("{0}")]
    Setup(String),
    /// The root supervisor failed (exit 1).
    #[error("root supervisor failed: {0}")]
    RootFailed(String),
}

/// Held for the daemon's life: the instance lock and the paths to clean up.
struct Instance {
    _lock: Flock<File>,
    socket: PathBuf,
    pid_file: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        for path in [&self.socket, &self.pid_file] {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::debug!(path = %path.display(), %e, "cleanup");
            }
        }
    }
}

fn setup_err(what: &str, path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Setup(format!("{what} {}: {e}", path.display()))
}

/// Takes the runtime dir's lock (one root per runtime dir), writes the pid file and binds
/// the ctl socket with mode 0600.
fn claim(runtime_dir: &Path) -> Result<(Instance, UnixListener), RunError> {
    paths::ensure_private_dir(runtime_dir)
        .map_err(|e| setup_err("cannot create runtime dir", runtime_dir, e))?;
    let lock_path = runtime_dir.join("podsup.lock");
    let lock_file =
        File::create(&lock_path).map_err(|e| setup_err("cannot open", &lock_path, e))?;
    let lock = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
        let pid = std::fs::read_to_string(runtime_dir.join(paths::PID_FILE)).unwrap_or_default();
        RunError::Setup(format!(
            "another podsup (pid {}) already runs with runtime dir {} ({e}); stop it or pass --runtime-dir",
            pid.trim(),
            runtime_dir.display()
        ))
    })?;
    let pid_file = runtime_dir.join(paths::PID_FILE);
    std::fs::write(&pid_file, format!("{}\n", std::process::id()))
        .map_err(|e| setup_err("cannot write", &pid_file, e))?;
    let socket = runtime_dir.join(paths::CTL_SOCKET);
    // We hold the lock, so a socket left here belongs to a dead root.
    match std::fs::remove_file(&socket) {
        Ok(()) => tracing::info!(socket = %socket.display(), "removed stale ctl socket"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(setup_err("cannot remove stale", &socket, e)),
    }
    let listener = UnixListener::bind(&socket).map_err(|e| setup_err("cannot bind", &socket, e))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| setup_err("cannot chmod", &socket, e))?;
    Ok((
        Instance {
            _lock: lock,
            socket,
            pid_file,
        },
        listener,
    ))
}

/// Forwards SIGTERM/SIGINT/SIGHUP to the daemon loop from a signal-hook thread.
fn watch_signals(daemon: mpsc::UnboundedSender<DaemonEvent>) -> Result<(), RunError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| RunError::Setup(format!("cannot install signal handlers: {e}")))?;
    std::thread::Builder::new()
        .name("podsup-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let event = match signal {
                    SIGHUP => DaemonEvent::Hangup,
                    _ => DaemonEvent::Shutdown,
                };
                tracing::info!(signal, "signal received");
                if daemon.send(event).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| RunError::Setup(format!("cannot start signal thread: {e}")))?;
    Ok(())
}

/// Runs a tree until it is shut down (Ok) or its root supervisor fails (Err).
pub async fn run(opts: StartOptions) -> Result<(), RunError> {
    let mut tree = match podsup_config::load(&opts.tree) {
        Ok(tree) => tree,
        Err(e) => return Err(with_applied_hint(e, opts.state_dir.as_deref())),
    };
    let runtime_dir = paths::runtime_dir(opts.runtime_dir.as_deref());
    let state_dir = paths::state_dir(opts.state_dir.as_deref());
    paths::ensure_private_dir(&state_dir)
        .map_err(|e| setup_err("cannot create state dir", &state_dir, e))?;
    let (instance, listener) = claim(&runtime_dir)?;
    record_applied(&tree, &state_dir);

    let (daemon_tx, mut daemon_rx) = mpsc::unbounded_channel();
    watch_signals(daemon_tx.clone())?;
    let intent =
        crate::intent::Intent::load(&state_dir).map_err(|e| RunError::Setup(e.to_string()))?;
    let registry = Arc::new(Registry::new(&tree.name, ROOT, intent));
    let mut root_node = Node::new(NodeKind::Supervisor, None, None);
    root_node.state = NodeState::Starting;
    registry.declare(ROOT, root_node);
    let self_exe = std::env::current_exe()
        .map_err(|e| RunError::Setup(format!("cannot find own executable: {e}")))?;
    let guard = crate::guard::Guard::start(&self_exe)
        .map_err(|e| RunError::Setup(format!("cannot start the guard process: {e}")))?;
    let ctx = Arc::new(RootCtx {
        guard,
        spawn_lock: tokio::sync::Mutex::new(()),
        spawner: Spawner::start()
            .map_err(|e| RunError::Setup(format!("cannot start spawner thread: {e}")))?,
        registry: registry.clone(),
        outputs: crate::output::Outputs::new(&state_dir, tree.logs),
        state_dir,
        runtime_dir: runtime_dir.clone(),
        self_exe,
        daemon: daemon_tx.clone(),
    });
    let ctl = CtlCtx {
        registry: registry.clone(),
        daemon: daemon_tx.clone(),
        uid: nix::unistd::geteuid().as_raw(),
        state_dir: ctx.state_dir.clone(),
        root: ctx.clone(),
    };
    tokio::spawn(server::serve(listener, ctl));

    tracing::info!(tree = %tree.name, runtime_dir = %runtime_dir.display(), pid = std::process::id(), "starting");
    let mut heartbeat = Heartbeat::from_env(std::time::Instant::now());
    heartbeat.starting(&tree.name);
    let args = SupArgs {
        name: ROOT.into(),
        generation: 1,
        spec: tree.root.clone(),
        role: crate::sup::Role::Root,
        ctx: ctx.clone(),
    };
    let root = match Actor::spawn(None, Supervisor, args).await {
        Ok((root, _)) => root,
        Err(ractor::SpawnErr::StartupFailed(e)) => return Err(RunError::RootFailed(e.to_string())),
        Err(e) => return Err(RunError::RootFailed(e.to_string())),
    };
    registry.update(ROOT, |n| {
        n.state = NodeState::Running;
        n.generation = 1;
        n.pid = Some(std::process::id());
        n.since = Some(std::time::Instant::now());
    });
    tracing::info!(tree = %tree.name, "tree is up");
    // Every static child is ready: Actor::spawn returns only after the root's pre_start.
    heartbeat.ready(&Counts::of(&registry));
    crate::orchestrate::reconcile(&ctx).await;
    let mut trim = crate::heap::Trim::new(std::time::Instant::now());

    let outcome = loop {
        // The watchdog is fed from this loop, and only from it, so a wedged root stops
        // feeding it and systemd kills it.
        let deadline = tokio::time::Instant::from_std(heartbeat.next_deadline());
        tokio::select! {
            event = daemon_rx.recv() => match event {
                Some(DaemonEvent::Shutdown) | None => break Ok(()),
                Some(DaemonEvent::RootFailed(reason)) => break Err(RunError::RootFailed(reason)),
                Some(DaemonEvent::Hangup) => match reload((&opts.tree, &ctx.state_dir), &mut tree, &root, false).await {
                    Ok(plan) => tracing::info!("SIGHUP: reloaded {}:\n{plan}", opts.tree.display()),
                    Err(e) => tracing::error!("SIGHUP: reload refused:\n{e}"),
                },
                Some(DaemonEvent::Reload { dry_run, reply }) => {
                    let answer = reload((&opts.tree, &ctx.state_dir), &mut tree, &root, dry_run).await;
                    if reply.send(answer).is_err() {
                        tracing::debug!("reload requester went away");
                    }
                }
            },
            () = tokio::time::sleep_until(deadline) => {
                notify::wedge_if_requested();
                let now = std::time::Instant::now();
                heartbeat.tick(&Counts::of(&registry), now);
                trim.tick(now);
            }
        }
    };
    heartbeat.stopping();
    if outcome.is_ok() {
        tracing::info!("shutting down");
        registry.update(ROOT, |n| n.state = NodeState::Stopping);
        stop_spawned(&registry).await;
        if let Err(e) = root.call(SupMsg::StopAll, None).await {
            tracing::warn!(%e, "root supervisor already gone");
        }
        tracing::info!("all children stopped");
    }
    drop(instance);
    outcome
}

/// Stops every spawner's dynamic supervisor, the most deeply spawned first: spawned pods
/// were started after the static tree, so they stop before it.
async fn stop_spawned(registry: &Registry) {
    let mut spawners: Vec<String> = registry
        .names()
        .into_iter()
        .filter(|n| registry.get(n).is_some_and(|node| node.spawned.is_some()))
        .collect();
    spawners.sort_by_key(|n| std::cmp::Reverse(n.matches('/').count()));
    for spawner in spawners {
        let Some(sup) = registry.get(&spawner).and_then(|n| n.spawned) else {
            continue;
        };
        if let Err(e) = sup.call(SupMsg::StopAll, None).await {
            tracing::debug!(%spawner, %e, "spawned pods' supervisor already gone");
        }
    }
}

/// Re-reads the tree file and applies the difference (or only plans it). An invalid file
/// is refused with its errors and the running tree is left as it is.
async fn reload(
    (path, state_dir): (&Path, &Path),
    tree: &mut podsup_config::Tree,
    root: &ractor::ActorRef<SupMsg>,
    dry_run: bool,
) -> Result<String, String> {
    let new =
        podsup_config::load(path).map_err(|e| format!("{e}\nthe running tree is unchanged"))?;
    let plan = crate::reload::diff(ROOT, &tree.root, &new.root);
    if dry_run {
        return Ok(format!("dry run, nothing applied:\n{plan}"));
    }
    match root
        .call(
            |reply| SupMsg::Reload(Box::new(new.root.clone()), reply),
            None,
        )
        .await
    {
        Ok(ractor::rpc::CallResult::Success(Ok(applied))) => {
            record_applied(&new, state_dir);
            *tree = new;
            Ok(applied)
        }
        Ok(ractor::rpc::CallResult::Success(Err(e))) => Err(format!("reload failed part way: {e}")),
        Ok(_) | Err(_) => Err("the root supervisor went away during the reload".into()),
    }
}

/// File name, in the state dir, of the copy of the last tree that was applied.
pub const APPLIED_TREE: &str = "applied-tree.toml";

/// Keeps a copy of the tree file that is now running, so an operator can always tell (and
/// restart) what was last applied, even after editing the tree file.
fn record_applied(tree: &podsup_config::Tree, state_dir: &Path) {
    let copy = state_dir.join(APPLIED_TREE);
    if let Err(e) = std::fs::copy(&tree.source, &copy) {
        tracing::warn!(copy = %copy.display(), %e, "cannot keep a copy of the applied tree");
    }
}

/// An invalid tree file: say where the last applied one is kept, if there is one.
fn with_applied_hint(e: podsup_config::ConfigError, state_flag: Option<&Path>) -> RunError {
    let copy = paths::state_dir(state_flag).join(APPLIED_TREE);
    match copy.exists() {
        true => RunError::InvalidTree(format!(
            "{e}\nthe last tree that was applied is kept at {}; `podsup start {}` runs it",
            copy.display(),
            copy.display()
        )),
        false => RunError::Config(e),
    }
}
