//! Process creation, all of it on one dedicated long-lived thread.
//!
//! `PR_SET_PDEATHSIG` fires when the thread that forked the child exits, not the process,
//! so every fork happens on the spawner thread, which lives as long as the root. Each
//! child gets its own process group, its resource limits and user (`spawn/limits.rs`), the
//! death signal armed with a `getppid` re-check (the root may have died between fork and
//! prctl), and for pods its socketpair end as fd 3.

mod limits;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;

use podsup_config::Limits;
use tokio::sync::oneshot;

pub use limits::ArmError;

/// Environment variables that belong to the root's own service manager, never a child's.
pub const STRIPPED_ENV: [&str; 7] = [
    "NOTIFY_SOCKET",
    "WATCHDOG_PID",
    "WATCHDOG_USEC",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "PODSUP_RUNTIME_DIR",
];

/// The fd number a pod finds its socketpair end on.
pub const POD_FD: i32 = 3;

struct Job {
    command: Command,
    reply: oneshot::Sender<io::Result<Child>>,
}

/// Handle to the spawner thread. Cheap to clone; the thread ends when every handle is gone.
#[derive(Clone)]
pub struct Spawner {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spawner")
    }
}

impl Spawner {
    /// Starts the spawner thread.
    pub fn start() -> io::Result<Self> {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("podsup-spawner".into())
            .spawn(move || {
                for mut job in rx {
                    let result = job.command.spawn();
                    if job.reply.send(result).is_err() {
                        // The requester gave up; the child is reaped by nobody but will be
                        // killed by its death signal when the root exits. Log it.
                        tracing::warn!(
                            "spawn requester went away before the child was handed over"
                        );
                    }
                }
            })?;
        Ok(Self { jobs })
    }

    /// Spawns `command` on the spawner thread after arming it (see [`arm`]).
    pub async fn spawn(&self, command: Command) -> io::Result<Child> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job { command, reply })
            .map_err(|_| io::Error::other("spawner thread is gone"))?;
        rx.await
            .map_err(|_| io::Error::other("spawner thread dropped the request"))?
    }
}

/// What a child is armed with besides its command.
#[derive(Debug, Clone, Copy)]
pub struct Arming<'a> {
    /// The child's name, for errors.
    pub name: &'a str,
    /// A pod's socketpair end, placed at fd 3; `None` for plain processes.
    pub pod_fd: Option<&'a OwnedFd>,
    /// The user it runs as and the limits it runs under.
    pub limits: &'a Limits,
}

/// Prepares `command` to run as a supervised child: own process group, resource limits,
/// user and group, death signal, stripped environment, and the pod's fd (if any) at fd 3.
///
/// Refuses, before anything is forked, what this root cannot grant: another user when it
/// does not run as root, or a limit above its own hard limit when it cannot raise that.
/// The caller keeps the pod's fd alive until the spawn returned, then drops it.
pub fn arm(command: &mut Command, arming: Arming<'_>) -> Result<(), ArmError> {
    let plan = limits::Plan::check(arming.name, arming.limits)?;
    for key in STRIPPED_ENV {
        command.env_remove(key);
    }
    command.process_group(0);
    let root_pid = std::process::id() as libc::pid_t;
    let fd = arming.pod_fd.map(|fd| fd.as_raw_fd());
    // SAFETY: the closure runs in the forked child before exec and calls only
    // async-signal-safe functions (setrlimit, setgroups, setgid, setuid, prctl, getppid,
    // dup2, fcntl, _exit); `plan` is plain data, so nothing allocates.
    unsafe {
        command.pre_exec(move || {
            // Limits first: raising one needs the privilege the next step gives up.
            plan.apply()?;
            // Only now: changing credentials clears the death signal, so arming it
            // before setuid would leave the child without one.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != root_pid {
                // The root died before the death signal was armed.
                libc::_exit(1);
            }
            if let Some(fd) = fd {
                place_fd(fd, POD_FD)?;
            }
            Ok(())
        });
    }
    Ok(())
}

/// Makes `fd` available as `target` without close-on-exec (async-signal-safe).
fn place_fd(fd: i32, target: i32) -> io::Result<()> {
    // SAFETY: plain fd syscalls on fds this process owns.
    unsafe {
        if fd == target {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(io::Error::last_os_error());
            }
        } else if libc::dup2(fd, target) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
