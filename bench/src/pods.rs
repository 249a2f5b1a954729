//! Starting a pod-worker exactly the way the root does (`supervisor/src/spawn.rs`): the
//! same binary run as `podsup pod-worker`, its own process group, PR_SET_PDEATHSIG(SIGKILL)
//! with the `getppid` re-check, the socketpair end on fd 3, stdin from /dev/null — and the
//! same handshake, spoken with podsup_wire frames.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use podsup_wire::frame::{read_frame_blocking, write_frame_blocking};
use podsup_wire::{EngineSpec, Init, PROTOCOL_VERSION, PodToRoot, RootToPod};

/// The environment variable the pod-worker's start stamps are switched on with.
pub const START_STAMP_ENV: &str = "PODSUP_START_STAMP";

/// The fd a pod finds its socket on.
const POD_FD: i32 = 3;

/// What every pod of one floor shares.
#[derive(Debug, Clone)]
pub struct PodTemplate {
    /// The `podsup` binary.
    pub podsup: PathBuf,
    /// `PODSUP_START_STAMP`.
    pub stamps: PathBuf,
    /// Base of the pods' state dirs (`BASE/pods/NAME`, as the root lays them out).
    pub state: PathBuf,
}

/// The name of pod number `idx`, as the bench's trees name them.
pub fn pod_name(idx: usize) -> String {
    format!("p{idx:04}")
}

impl PodTemplate {
    /// Forks and execs one pod-worker; returns its pid and our end of its socket.
    pub fn spawn(&self) -> io::Result<(u32, UnixStream)> {
        let (ours, theirs) = UnixStream::pair()?;
        let mut command = Command::new(&self.podsup);
        command
            .arg("pod-worker")
            .env(START_STAMP_ENV, &self.stamps)
            .stdin(Stdio::null())
            .process_group(0);
        let parent = std::process::id() as libc::pid_t;
        let fd = theirs.as_raw_fd();
        // SAFETY: runs in the forked child before exec and calls only async-signal-safe
        // functions (prctl, getppid, dup2, fcntl, _exit).
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                place_fd(fd)
            });
        }
        let child = command.spawn()?;
        drop(theirs);
        Ok((child.id(), ours))
    }

    /// The `Init` the root would send pod `idx` in `generation`.
    pub fn init(&self, idx: usize, generation: u64) -> Init {
        let name = pod_name(idx);
        Init {
            state_dir: dir_of(&self.state, &name),
            runtime_dir: dir_of(&self.state.join("run"), &name),
            name,
            generation,
            parent: None,
            engine: EngineSpec::Echo {
                chunk_chars: 16,
                delay_ms: 0,
            },
            // What the root sends a pod whose tree entry sets no scope.
            scope_json: serde_json::to_string(&podsup_config::scope::Scope::default())
                .unwrap_or_default(),
            fsync: "checkpoints".into(),
        }
    }
}

fn dir_of(base: &Path, name: &str) -> String {
    base.join("pods").join(name).display().to_string()
}

/// Makes `fd` the child's fd 3 without close-on-exec (async-signal-safe).
fn place_fd(fd: i32) -> io::Result<()> {
    // SAFETY: plain fd syscalls on fds this process owns.
    unsafe {
        if fd == POD_FD {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(io::Error::last_os_error());
            }
        } else if libc::dup2(fd, POD_FD) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Reads the pod's `Hello` and answers `Init`.
pub fn greet(sock: &mut UnixStream, init: Init) -> Result<()> {
    match read_frame_blocking::<PodToRoot, _>(sock).context("reading Hello")? {
        Some(PodToRoot::Hello(hello)) if hello.protocol == PROTOCOL_VERSION => {}
        other => bail!("expected Hello, got {other:?}"),
    }
    write_frame_blocking(sock, &RootToPod::Init(init)).context("writing Init")
}

/// Reads the pod's `Ready`.
pub fn await_ready(sock: &mut UnixStream) -> Result<()> {
    match read_frame_blocking::<PodToRoot, _>(sock).context("reading Ready")? {
        Some(PodToRoot::Ready) => Ok(()),
        other => bail!("expected Ready, got {other:?}"),
    }
}
