//! The validated supervision spec: what a tree.toml means once every rule has been checked.
//!
//! Values of these types come out of [`crate::parse`] and [`crate::load`], which refuse any
//! file that breaks a rule, so code consuming a spec does not re-validate it.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use podsup_wire::EngineSpec;

use crate::name::Name;
use crate::policy::{Restart, Shutdown, StartMode, Strategy};

/// A whole tree file: its name and its root supervisor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// The tree's `name`, validated with the same rules as [`Name`].
    pub name: String,
    /// The root supervisor, named [`Name::ROOT`].
    pub root: SupervisorSpec,
    /// How the captured stdout/stderr of every pod and process is kept (`[logs]`).
    pub logs: LogSpec,
    /// Absolute path of the file the tree was read from (the path given to
    /// [`crate::parse`], made absolute); reloads read it again.
    pub source: PathBuf,
}

/// Size-based rotation of the captured output of each child: `output.log` grows to
/// `max_size`, then becomes `output.log.1` (the older ones move up by one), and at most
/// `max_files` rotated files are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogSpec {
    /// Largest size of one file, in bytes; a file is rotated before a line would take it
    /// past this (a single longer line still gets a file of its own).
    pub max_size: NonZeroU64,
    /// How many rotated files (`output.log.1` … `output.log.N`) are kept besides the
    /// current one.
    pub max_files: NonZeroU32,
}

impl Default for LogSpec {
    fn default() -> LogSpec {
        LogSpec {
            max_size: crate::defaults::LOGS_MAX_SIZE,
            max_files: crate::defaults::LOGS_MAX_FILES,
        }
    }
}

/// A supervisor node and, recursively, everything under it.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorSpec {
    /// The supervisor's name; [`Name::ROOT`] for the root.
    pub name: Name,
    /// How children are restarted together.
    pub strategy: Strategy,
    /// How many restarts it tolerates before failing itself.
    pub intensity: Intensity,
    /// Delay before restarting a child; `None` restarts at once.
    pub backoff: Option<Backoff>,
    /// Whether children start one after the other or all at once. Never
    /// [`StartMode::Parallel`] unless [`Strategy::allows_parallel_start`].
    pub start: StartMode,
    /// Children in start order (file order).
    pub children: Vec<ChildSpec>,
}

/// Restart intensity: more than `max_restarts` restarts within `within` makes the
/// supervisor stop its children and fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// Restarts tolerated within the window (0 = the first restart fails the supervisor).
    pub max_restarts: u32,
    /// The sliding window; never zero.
    pub within: Duration,
}

/// Exponential restart delay: `initial`, then multiplied by `multiplier` after each
/// consecutive failure up to `max`, back to `initial` once a child has run for
/// `reset_after`.
///
/// Invariants when built by the loader: `initial > 0`, `max >= initial`,
/// `multiplier >= 1.0` and finite, `reset_after > 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay before the first restart.
    pub initial: Duration,
    /// Upper bound of the delay.
    pub max: Duration,
    /// Growth factor per consecutive failure.
    pub multiplier: f64,
    /// Uptime after which a child's failure count is forgotten.
    pub reset_after: Duration,
}

/// One child of a supervisor: how it is supervised and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildSpec {
    /// The child's name, unique in the whole tree and never [`Name::ROOT`].
    pub name: Name,
    /// Whether it is restarted after it exits.
    pub restart: Restart,
    /// How it is stopped.
    pub shutdown: Shutdown,
    /// How long it may take to start before the start counts as a failure: until `Ready`
    /// for pods, until a successful exec for processes. Never zero. For a supervisor it is
    /// derived from its children: the sum of theirs for an ordered start, the largest for a
    /// parallel one, and the default of 10s when it has none.
    pub start_timeout: Duration,
    /// What the child is.
    pub kind: ChildKind,
    /// Who it runs as and the resource limits it runs under; always the default for a
    /// supervisor, which is no process.
    pub limits: Limits,
}

/// Who a pod or process runs as and what it may consume. Every field is optional; the
/// default changes nothing (the child runs as the root does, with its limits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// The user (and group) the child runs as, resolved when the file was loaded.
    pub run_as: Option<RunAs>,
    /// `RLIMIT_NOFILE`: open file descriptors (soft and hard).
    pub nofile: Option<u64>,
    /// `RLIMIT_NPROC`: processes of the child's user (soft and hard).
    pub nproc: Option<u64>,
    /// `RLIMIT_AS`: address space in bytes (soft and hard).
    pub address_space: Option<u64>,
    /// Resident memory in bytes above which the child is killed, as a failure, once it
    /// stays above it for a few samples in a row.
    pub memory_max: Option<u64>,
}

/// A user and group to drop privileges to, as the system named them at load time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunAs {
    /// The user's id.
    pub uid: u32,
    /// The group id: `group`'s, or the user's primary group.
    pub gid: u32,
    /// The user's name as written, for messages.
    pub user: String,
}

/// What a child is.
#[derive(Debug, Clone, PartialEq)]
pub enum ChildKind {
    /// A nested supervisor.
    Supervisor(SupervisorSpec),
    /// A pod: a `podsup pod-worker` process talking to the root over a socketpair. Shared,
    /// not copied: the tree, its supervisor, the registry and every generation's link hold
    /// the same spec, which a thousand pods would otherwise pay for four times.
    Pod(Arc<PodSpec>),
    /// A plain command without a socket, supervised like s6 would.
    Process(ProcessSpec),
}

/// A pod's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSpec {
    /// The turn engine. For `Command`, `argv[0]` is already resolved to an absolute path.
    pub engine: EngineSpec,
    /// Environment added to the pod's; names are non-empty and contain no `=` or NUL,
    /// values contain no NUL.
    pub env: BTreeMap<String, String>,
    /// Working directory, absolute and existing when loaded; `None` inherits the root's.
    pub cwd: Option<PathBuf>,
    /// What the pod's tools may read and write, relative to `cwd` (empty: nothing).
    pub scope: crate::scope::Scope,
    /// What happens to the pods it spawned when it exits.
    pub on_spawner_exit: OnSpawnerExit,
    /// When its session log is fsynced.
    pub fsync: Fsync,
}

/// When a pod's session log is flushed to disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fsync {
    /// After every user input and at the end of every turn (the default).
    #[default]
    Checkpoints,
    /// After every entry.
    Always,
    /// Never explicitly (the kernel's own writeback; a machine crash may lose entries).
    Never,
}

impl Fsync {
    /// `checkpoints`, `always` or `never`, as tree.toml says.
    pub fn as_str(self) -> &'static str {
        match self {
            Fsync::Checkpoints => "checkpoints",
            Fsync::Always => "always",
            Fsync::Never => "never",
        }
    }
}

/// What happens to a spawner's children when the spawner exits (crashes or is stopped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnSpawnerExit {
    /// They keep running (they are not its OS children); a restarted spawner re-links
    /// them from its registry.
    #[default]
    Keep,
    /// They are stopped and reclaimed with it.
    Stop,
}

/// A supervised plain command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Program and arguments as written; never empty. `argv[0]` is what the process sees
    /// as its own name.
    pub argv: Vec<String>,
    /// Absolute path of the executable `argv[0]` resolved to when the file was loaded.
    pub program: PathBuf,
    /// Environment added to the process's, with the same rules as [`PodSpec::env`].
    pub env: BTreeMap<String, String>,
    /// Working directory, absolute and existing when loaded; `None` inherits the root's.
    pub cwd: Option<PathBuf>,
}

impl ChildKind {
    /// `"supervisor"`, `"pod"` or `"process"`, as tree.toml's `kind` says.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChildKind::Supervisor(_) => "supervisor",
            ChildKind::Pod(_) => "pod",
            ChildKind::Process(_) => "process",
        }
    }

    /// The pod spec, if this child is a pod.
    pub fn as_pod(&self) -> Option<&Arc<PodSpec>> {
        match self {
            ChildKind::Pod(spec) => Some(spec),
            ChildKind::Supervisor(_) | ChildKind::Process(_) => None,
        }
    }
}

impl ChildSpec {
    /// The nested supervisor, if this child is one.
    pub fn as_supervisor(&self) -> Option<&SupervisorSpec> {
        match &self.kind {
            ChildKind::Supervisor(spec) => Some(spec),
            ChildKind::Pod(_) | ChildKind::Process(_) => None,
        }
    }
}
