//! Stopping a process and everything it started, for the commands a pod runs (the
//! `command` engine and the `bash` tool). Those commands stay in the pod's process group,
//! so the tree is found through `/proc/*/task/*/children` rather than by group.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::Child;

/// Time between SIGTERM and SIGKILL when a command must stop.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(2);

/// SIGTERM to the command and its descendants, SIGKILL to whatever is left after
/// [`KILL_GRACE`], then reap the command.
pub(crate) async fn terminate(child: &mut Child, pid: u32) {
    signal_tree(pid, Signal::SIGTERM);
    if tokio::time::timeout(KILL_GRACE, child.wait())
        .await
        .is_err()
    {
        signal_tree(pid, Signal::SIGKILL);
    }
    if let Err(e) = child.wait().await {
        tracing::warn!(%e, "cannot reap command");
    }
}

/// Signals `pid` and every process below it, children first so none is orphaned (and so
/// lost from the walk) before it is reached.
pub(crate) fn signal_tree(pid: u32, signal: Signal) {
    if pid == 0 {
        return;
    }
    for p in descendants(pid)
        .into_iter()
        .rev()
        .chain(std::iter::once(pid))
    {
        match kill(Pid::from_raw(p as i32), signal) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => tracing::warn!(pid = p, %e, "cannot signal command process"),
        }
    }
}

/// Every process below `pid`, parents before children.
pub(crate) fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for child in children
                .split_whitespace()
                .filter_map(|c| c.parse::<u32>().ok())
            {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}
