//! What every actor of one root shares.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::registry::Registry;
use crate::spawn::Spawner;

/// Something only the daemon's main loop can act on.
#[derive(Debug)]
pub enum DaemonEvent {
    /// The root supervisor gave up; `podsup start` exits non-zero with this reason.
    RootFailed(String),
    /// Stop the tree in reverse start order and exit 0 (ctl shutdown, SIGTERM, SIGINT).
    Shutdown,
    /// SIGHUP arrived: reload the tree file.
    Hangup,
    /// `ctl reload`: re-read the tree file and apply (or, dry run, only plan) the diff.
    Reload {
        /// Only plan.
        dry_run: bool,
        /// The plan, or why the new tree was refused.
        reply: tokio::sync::oneshot::Sender<Result<String, String>>,
    },
}

/// Shared by every actor of one root.
#[derive(Debug)]
pub struct RootCtx {
    /// The one thread that forks.
    pub spawner: Spawner,
    /// Status and routing of every node.
    pub registry: Arc<Registry>,
    /// Durable state (session logs, operator intent).
    pub state_dir: PathBuf,
    /// Scratch and sockets; a pod's scratch dir is below it.
    pub runtime_dir: PathBuf,
    /// The executable to run as `podsup pod-worker`.
    pub self_exe: PathBuf,
    /// Kills the children's process groups if the root dies.
    pub guard: crate::guard::Guard,
    /// Serialises spawns, so validation and creation never interleave.
    pub spawn_lock: tokio::sync::Mutex<()>,
    /// Reports to the daemon's main loop.
    pub daemon: mpsc::UnboundedSender<DaemonEvent>,
    /// Captures the children's stdout/stderr into rotated files (and the journal).
    pub outputs: crate::output::Outputs,
}
