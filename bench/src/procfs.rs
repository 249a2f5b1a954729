//! What /proc says about a process: memory (RSS, PSS), CPU time, liveness; and pidfds to
//! wait for processes that are not our children.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use anyhow::{Context, Result};

/// Resident and proportional set size, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident set size.
    pub rss: u64,
    /// Proportional set size: shared pages divided among the processes sharing them.
    pub pss: u64,
}

/// `Rss` and `Pss` of `/proc/PID/smaps_rollup`.
pub fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/smaps_rollup");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let field = |name: &str| -> Result<u64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{path} has no {name}"))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("{path}: {line:?}"))?;
        Ok(kb * 1024)
    };
    Ok(Memory {
        rss: field("Rss:")?,
        pss: field("Pss:")?,
    })
}

/// CPU time of each live thread of `pid`, in nanoseconds (each thread's `schedstat`,
/// which counts in nanoseconds rather than clock ticks).
fn thread_cpu_ns(pid: u32) -> Result<HashMap<u32, u64>> {
    let dir = format!("/proc/{pid}/task");
    let mut threads = HashMap::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {dir}"))? {
        let entry = entry?;
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        // A thread may end between the listing and the read.
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        if let Some(ns) = text.split_whitespace().next().and_then(|f| f.parse().ok()) {
            threads.insert(tid, ns);
        }
    }
    Ok(threads)
}

/// CPU used by `pid` (all its threads, including those that start or end meanwhile) over
/// `span`, sampled every 50 ms; in nanoseconds. A thread that ends loses at most its
/// last 50 ms.
pub fn cpu_over(pid: u32, span: std::time::Duration) -> Result<u64> {
    let deadline = std::time::Instant::now() + span;
    let mut last = thread_cpu_ns(pid)?;
    let mut used = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = thread_cpu_ns(pid)?;
        for (tid, ns) in &now {
            used += ns.saturating_sub(last.get(tid).copied().unwrap_or(0));
        }
        last = now;
        if std::time::Instant::now() >= deadline {
            return Ok(used);
        }
    }
}

/// Whether `pid` names a live (non-zombie) process.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
    }
}

/// Sends `signal` to `pid`; a process that is already gone is not an error.
pub fn signal(pid: u32, signal: i32) -> Result<()> {
    // SAFETY: kill(2) with a pid and a signal number.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    let err = io::Error::last_os_error();
    match rc {
        0 => Ok(()),
        _ if err.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        _ => Err(err).with_context(|| format!("kill({pid}, {signal})")),
    }
}

/// Waits for a set of processes (not necessarily our children) to exit, each through a
/// pidfd in one epoll set, and records when each exit was seen.
#[derive(Debug)]
pub struct ExitWatch {
    epoll: OwnedFd,
    /// Open pidfds, indexed like the pids given to [`ExitWatch::new`].
    pidfds: Vec<Option<OwnedFd>>,
    /// How many have exited.
    pub exited: usize,
    /// When the last exit was seen, CLOCK_MONOTONIC ns.
    pub last_ns: u64,
}

impl ExitWatch {
    /// Watches `pids`; a pid already gone counts as exited now.
    pub fn new(pids: &[u32]) -> Result<ExitWatch> {
        // SAFETY: epoll_create1 returns a new fd or -1.
        let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error()).context("epoll_create1");
        }
        // SAFETY: `raw` is a fresh fd nothing else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut watch = ExitWatch {
            epoll,
            pidfds: Vec::with_capacity(pids.len()),
            exited: 0,
            last_ns: crate::clock::now_ns(),
        };
        for (idx, pid) in pids.iter().enumerate() {
            // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, *pid as libc::pid_t, 0) };
            if fd < 0 {
                watch.pidfds.push(None);
                watch.exited += 1;
                continue;
            }
            // SAFETY: a fresh fd nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            let mut event = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: idx as u64,
            };
            // SAFETY: both fds are open; `event` is a valid epoll_event.
            let rc = unsafe {
                libc::epoll_ctl(
                    watch.epoll.as_raw_fd(),
                    libc::EPOLL_CTL_ADD,
                    fd.as_raw_fd(),
                    &mut event,
                )
            };
            if rc < 0 {
                return Err(io::Error::last_os_error()).context("epoll_ctl(pidfd)");
            }
            watch.pidfds.push(Some(fd));
        }
        Ok(watch)
    }

    /// How many are being watched.
    pub fn len(&self) -> usize {
        self.pidfds.len()
    }

    /// Waits until every process exited or `deadline_ns` passed; true if all exited.
    pub fn wait_all(&mut self, deadline_ns: u64) -> Result<bool> {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        while self.exited < self.pidfds.len() {
            let now = crate::clock::now_ns();
            if now >= deadline_ns {
                return Ok(false);
            }
            let timeout_ms = ((deadline_ns - now) / 1_000_000).max(1) as i32;
            // SAFETY: `events` has room for its length of entries.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    timeout_ms,
                )
            };
            let seen = crate::clock::now_ns();
            if n < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err).context("epoll_wait");
            }
            for event in &events[..n as usize] {
                let idx = event.u64 as usize;
                if let Some(fd) = self.pidfds[idx].take() {
                    // SAFETY: removing an fd this set holds; the event pointer may be null.
                    unsafe {
                        libc::epoll_ctl(
                            self.epoll.as_raw_fd(),
                            libc::EPOLL_CTL_DEL,
                            fd.as_raw_fd(),
                            std::ptr::null_mut(),
                        )
                    };
                    self.exited += 1;
                    self.last_ns = seen;
                }
            }
        }
        Ok(true)
    }
}
