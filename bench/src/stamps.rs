//! The pods' start stamps: with `PODSUP_START_STAMP=DIR` every pod-worker writes `DIR/PID`
//! (CLOCK_MONOTONIC ns at its first instruction) and `DIR/PID.ready` (right after it sent
//! `Ready`). An inotify watch on DIR says when a stamp is complete (IN_CLOSE_WRITE), so
//! waiting costs no CPU, and the times themselves come from the pods, not from when this
//! process happened to wake up.

use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One completed stamp file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// `PID`: the pod-worker started.
    Exec(u32),
    /// `PID.ready`: it sent `Ready`.
    Ready(u32),
}

/// A stamp directory and its inotify watch.
#[derive(Debug)]
pub struct Stamps {
    dir: PathBuf,
    inotify: OwnedFd,
    pending: VecDeque<Stamp>,
}

/// When the pods of a cold start came up, CLOCK_MONOTONIC ns.
#[derive(Debug, Clone)]
pub struct AllReady {
    /// The last pod's start stamp.
    pub last_exec: u64,
    /// The last pod's Ready stamp.
    pub last_ready: u64,
    /// Their pids.
    pub pids: Vec<u32>,
}

/// One restarted pod.
#[derive(Debug, Clone, Copy)]
pub struct Restarted {
    /// Its pid.
    pub pid: u32,
    /// Its start stamp.
    pub exec: u64,
    /// Its Ready stamp.
    pub ready: u64,
}

impl Stamps {
    /// Creates `dir` (empty) and watches it.
    pub fn new(dir: &Path) -> Result<Stamps> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // SAFETY: inotify_init1 returns a new fd or -1.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error()).context("inotify_init1");
        }
        // SAFETY: a fresh fd nothing else owns.
        let inotify = unsafe { OwnedFd::from_raw_fd(raw) };
        let cpath = CString::new(dir.as_os_str().as_bytes())?;
        // SAFETY: a valid fd and NUL-terminated path.
        let wd = unsafe {
            libc::inotify_add_watch(inotify.as_raw_fd(), cpath.as_ptr(), libc::IN_CLOSE_WRITE)
        };
        if wd < 0 {
            return Err(io::Error::last_os_error()).context("inotify_add_watch");
        }
        Ok(Stamps {
            dir: dir.to_owned(),
            inotify,
            pending: VecDeque::new(),
        })
    }

    /// The directory, for `PODSUP_START_STAMP`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The time written in one stamp.
    pub fn read(&self, stamp: Stamp) -> Result<u64> {
        let name = match stamp {
            Stamp::Exec(pid) => pid.to_string(),
            Stamp::Ready(pid) => format!("{pid}.ready"),
        };
        let path = self.dir.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        text.trim()
            .parse()
            .with_context(|| format!("{}: {text:?}", path.display()))
    }

    /// The next completed stamp, or `None` once `deadline_ns` passed.
    fn next(&mut self, deadline_ns: u64) -> Result<Option<Stamp>> {
        loop {
            if let Some(stamp) = self.pending.pop_front() {
                return Ok(Some(stamp));
            }
            let now = crate::clock::now_ns();
            if now >= deadline_ns {
                return Ok(None);
            }
            let ms = ((deadline_ns - now) / 1_000_000 + 1).min(i32::MAX as u64) as i32;
            self.fill(ms)?;
        }
    }

    /// Waits up to `timeout_ms` for inotify events and queues the stamps they name.
    fn fill(&mut self, timeout_ms: i32) -> Result<()> {
        let mut pfd = libc::pollfd {
            fd: self.inotify.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(err).context("poll(inotify)");
        }
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: reading into a buffer of its length.
            let got =
                unsafe { libc::read(self.inotify.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if got < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::WouldBlock {
                    return Ok(());
                }
                return Err(err).context("read(inotify)");
            }
            self.parse(&buf[..got as usize])?;
        }
    }

    fn parse(&mut self, mut bytes: &[u8]) -> Result<()> {
        const HEADER: usize = std::mem::size_of::<libc::inotify_event>();
        while bytes.len() >= HEADER {
            let mask = u32::from_ne_bytes(bytes[4..8].try_into()?);
            let len = u32::from_ne_bytes(bytes[12..16].try_into()?) as usize;
            let name = &bytes[HEADER..HEADER + len];
            bytes = &bytes[HEADER + len..];
            if mask & libc::IN_Q_OVERFLOW != 0 {
                bail!("inotify queue overflowed: stamps were lost");
            }
            let name = name.split(|b| *b == 0).next().unwrap_or_default();
            let name = std::str::from_utf8(name).unwrap_or_default();
            let stamp = match name.strip_suffix(".ready") {
                Some(pid) => pid.parse().ok().map(Stamp::Ready),
                None => name.parse().ok().map(Stamp::Exec),
            };
            if let Some(stamp) = stamp {
                self.pending.push_back(stamp);
            }
        }
        Ok(())
    }

    /// Waits until `count` pods sent `Ready` (counting from the last [`Stamps::clear`]).
    pub fn wait_all_ready(&mut self, count: usize, timeout_ms: u64) -> Result<AllReady> {
        let deadline = crate::clock::now_ns() + timeout_ms * 1_000_000;
        let mut pids = Vec::with_capacity(count);
        while pids.len() < count {
            match self.next(deadline)? {
                Some(Stamp::Ready(pid)) => pids.push(pid),
                Some(Stamp::Exec(_)) => {}
                None => bail!(
                    "only {} of {count} pods sent Ready within {timeout_ms} ms",
                    pids.len()
                ),
            }
        }
        let mut last_exec = 0;
        let mut last_ready = 0;
        for pid in &pids {
            last_exec = last_exec.max(self.read(Stamp::Exec(*pid))?);
            last_ready = last_ready.max(self.read(Stamp::Ready(*pid))?);
        }
        Ok(AllReady {
            last_exec,
            last_ready,
            pids,
        })
    }

    /// Drops stamps already queued or waiting in the inotify queue.
    pub fn drain(&mut self) -> Result<()> {
        self.fill(0)?;
        self.pending.clear();
        Ok(())
    }

    /// Waits for one new pod to start and send `Ready`.
    pub fn wait_restart(&mut self, timeout_ms: u64) -> Result<Restarted> {
        let deadline = crate::clock::now_ns() + timeout_ms * 1_000_000;
        let mut started = None;
        loop {
            match (self.next(deadline)?, started) {
                (Some(Stamp::Exec(pid)), None) => started = Some(pid),
                (Some(Stamp::Ready(pid)), Some(want)) if pid == want => {
                    return Ok(Restarted {
                        pid,
                        exec: self.read(Stamp::Exec(pid))?,
                        ready: self.read(Stamp::Ready(pid))?,
                    });
                }
                (Some(other), _) => bail!("unexpected stamp {other:?} while waiting for a restart"),
                (None, None) => bail!("no pod started within {timeout_ms} ms of the kill"),
                (None, Some(pid)) => bail!("pod {pid} did not send Ready within {timeout_ms} ms"),
            }
        }
    }
}
