//! Waiting for a child's exit without a thread per child: a pidfd becomes readable when
//! the process exits, then `waitpid` reaps it. Also the process-group kill that follows
//! every exit, so a pod's tool subprocesses die with it.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Child;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use podsup_wire::ExitStatus;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Waits for `child` to exit, kills what is left of its process group, and reaps it.
///
/// The group is killed while the leader is still a zombie, so its pid (and with it the
/// group id) cannot have been reused by an unrelated process.
pub async fn wait(mut child: Child) -> io::Result<ExitStatus> {
    let pid = child.id() as libc::pid_t;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh fd that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    // SAFETY: the AsyncFd owns `pidfd`, so the fd stays open exactly as long as it is
    // registered.
    let pidfd = unsafe { AsyncFd::register_with_interest(pidfd, Interest::READABLE) }
        .map_err(io::Error::from)?;
    loop {
        let mut ready = pidfd.readable().await?;
        signal_group(pid as u32, Signal::SIGKILL);
        if let Some(status) = child.try_wait()? {
            return Ok(convert(status));
        }
        ready.clear_ready();
    }
}

fn convert(status: std::process::ExitStatus) -> ExitStatus {
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitStatus::Code(code),
        (None, Some(sig)) => ExitStatus::Signal(sig),
        (None, None) => ExitStatus::Code(-1),
    }
}

/// Sends `signal` to the whole process group led by `pgid`; a group that no longer exists
/// is not an error.
pub fn signal_group(pgid: u32, signal: Signal) {
    match killpg(Pid::from_raw(pgid as i32), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => tracing::warn!(pgid, %e, ?signal, "cannot signal process group"),
    }
}
