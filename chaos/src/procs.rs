//! What `/proc` says about processes: state, parent, process group, fds, RSS.

use std::time::{Duration, Instant};

use crate::report::Footprint;

/// The fields of `/proc/PID/stat` the harness uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// State letter (`R`, `S`, `Z`, …).
    pub state: char,
    /// Parent pid.
    pub ppid: u32,
    /// Process group id.
    pub pgrp: u32,
    /// Start time in clock ticks since boot: with the pid, it names one process for good
    /// (pids are reused, and `pid_max` may be as low as 32768).
    pub start: u64,
}

/// `/proc/PID/stat`, or `None` if there is no such process.
pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is parenthesised and may hold spaces: fields follow the last ')'.
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    // starttime is field 22; `fields` stands at field 6 now.
    let start = fields.nth(16)?.parse().ok()?;
    Some(Stat {
        state,
        ppid,
        pgrp,
        start,
    })
}

/// Whether `pid` is a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| !matches!(s.state, 'Z' | 'X'))
}

/// Every pid in `/proc`.
pub fn pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// Live processes in the groups `pgids`, as `(pgid, pid)`.
pub fn group_members(pgids: &[u32]) -> Vec<(u32, u32)> {
    pids()
        .into_iter()
        .filter_map(|pid| {
            let s = stat(pid)?;
            (pgids.contains(&s.pgrp) && !matches!(s.state, 'Z' | 'X')).then_some((s.pgrp, pid))
        })
        .collect()
}

/// Zombie children of `parent`.
pub fn zombies_of(parent: u32) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|&pid| stat(pid).is_some_and(|s| s.ppid == parent && s.state == 'Z'))
        .collect()
}

/// The fd count and RSS of `pid`, or `None` if it is gone.
pub fn footprint(pid: u32) -> Option<Footprint> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    Some(Footprint { fds, rss_kib })
}

/// Sends SIGKILL to `pid` if it still leads its own process group (so a pid reused by an
/// unrelated process is left alone); true if it was sent.
pub fn kill_leader(pid: u32) -> bool {
    if !stat(pid).is_some_and(|s| s.pgrp == pid && !matches!(s.state, 'Z' | 'X')) {
        return false;
    }
    // SAFETY: kill(2) with a pid and a signal number.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) == 0 }
}

/// Sends SIGKILL to the process `pid` started at `start` (see [`Stat::start`]) if it is
/// still that process and alive; true if it was sent.
pub fn kill_if_same(pid: u32, start: u64) -> bool {
    if !stat(pid).is_some_and(|s| s.start == start && !matches!(s.state, 'Z' | 'X')) {
        return false;
    }
    kill(pid);
    true
}

/// Sends SIGKILL to `pid`.
pub fn kill(pid: u32) {
    // SAFETY: kill(2) with a pid and a signal number; a pid that is gone is not an error here.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// Polls `f` every 10 ms until it returns true or `timeout` passes; returns its last
/// answer. Waiting, never an assertion by itself.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields are read from the right places: this process's parent and group, and a
    /// start time that names it (a child started later has a later one).
    #[test]
    fn stat_reads_this_process() {
        let me = stat(std::process::id()).expect("own stat");
        // SAFETY: getppid(2) and getpgrp(2) take no arguments.
        let (ppid, pgrp) = unsafe { (libc::getppid(), libc::getpgrp()) };
        assert_eq!((me.ppid, me.pgrp), (ppid as u32, pgrp as u32));
        let mut child = std::process::Command::new("sleep")
            .arg("10")
            .spawn()
            .expect("spawn sleep");
        let theirs = stat(child.id()).expect("child stat");
        assert_eq!(theirs.ppid, std::process::id());
        assert!(theirs.start >= me.start, "{theirs:?} vs {me:?}");
        assert!(
            !kill_if_same(child.id(), theirs.start + 1),
            "another start time"
        );
        assert!(kill_if_same(child.id(), theirs.start));
        child.wait().expect("reap sleep");
    }
}
