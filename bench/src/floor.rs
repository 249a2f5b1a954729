//! The floor: `podsup-bench floor`, the least a supervisor of pod-workers must do, run as
//! its own process so it is started, measured and stopped exactly like `podsup start`.
//!
//! - cold start: one thread forks every pod (the same way the root does) while a second
//!   thread answers their handshakes through epoll;
//! - restart: the forking thread blocks in `waitpid(-1)` and, the moment a pod dies,
//!   re-spawns it and does its handshake inline;
//! - stop (a line `seq` or `par` on stdin; end of stdin is `seq`): `seq` sends `Shutdown` to
//!   one pod at a time in reverse start order and waits for its exit (what podsup promises),
//!   `par` sends it to all at once and waits for every exit.

use std::collections::HashMap;
use std::io::BufRead;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use podsup_wire::frame::{read_frame_blocking, write_frame_blocking};
use podsup_wire::{Method, PodToRoot, RootToPod};

use crate::pods::{self, PodTemplate};

/// One pod of the floor.
#[derive(Debug, Default)]
struct Slot {
    pid: u32,
    generation: u64,
    sock: Option<UnixStream>,
}

/// What the floor's threads share.
#[derive(Debug)]
struct Shared {
    template: PodTemplate,
    slots: Vec<Mutex<Slot>>,
    stopping: AtomicBool,
}

impl Shared {
    fn slot(&self, idx: usize) -> std::sync::MutexGuard<'_, Slot> {
        self.slots[idx].lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the floor carries for the `ballast` diagnostic: touched memory and open
/// close-on-exec fds, so that its forks cost what a root of that size pays.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ballast {
    /// MiB of anonymous memory, every page written.
    pub mib: usize,
    /// Open fds (of /dev/null, close-on-exec).
    pub fds: usize,
}

/// Runs the floor with `pods` pods until told to stop; exits the process when done.
pub fn run(template: PodTemplate, pods: usize, ballast: Ballast) -> Result<()> {
    let memory = vec![1u8; ballast.mib << 20];
    let files = (0..ballast.fds)
        .map(|_| std::fs::File::open("/dev/null"))
        .collect::<std::io::Result<Vec<_>>>()?;
    let shared = Arc::new(Shared {
        template,
        slots: (0..pods).map(|_| Mutex::new(Slot::default())).collect(),
        stopping: AtomicBool::new(false),
    });
    let (reaped_tx, reaped_rx) = mpsc::channel();
    let spawner = shared.clone();
    std::thread::Builder::new()
        .name("floor-spawner".into())
        .spawn(move || {
            if let Err(e) = spawn_and_restart(&spawner, &reaped_tx) {
                eprintln!("podsup-bench floor: {e:#}");
                std::process::exit(1);
            }
        })?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let stopped = stop(&shared, line.trim() == "par", &reaped_rx);
    drop((memory, files));
    stopped
}

/// The forking thread: cold start, then the restart loop.
fn spawn_and_restart(shared: &Arc<Shared>, reaped: &mpsc::Sender<u32>) -> Result<()> {
    let epoll = epoll_create()?;
    let handshaker = {
        let shared = shared.clone();
        let epoll = epoll.try_clone()?;
        std::thread::Builder::new()
            .name("floor-handshake".into())
            .spawn(move || handshakes(&shared, &epoll))?
    };
    let mut by_pid = HashMap::new();
    for idx in 0..shared.slots.len() {
        let (pid, sock) = shared.template.spawn().context("spawning a pod")?;
        let fd = sock.as_raw_fd();
        *shared.slot(idx) = Slot {
            pid,
            generation: 1,
            sock: Some(sock),
        };
        by_pid.insert(pid, idx);
        epoll_ctl(&epoll, libc::EPOLL_CTL_ADD, fd, idx)?;
    }
    match handshaker.join() {
        Ok(result) => result?,
        Err(_) => bail!("handshake thread panicked"),
    }
    loop {
        let pid = wait_any()?;
        if shared.stopping.load(Ordering::SeqCst) {
            if reaped.send(pid).is_err() {
                return Ok(());
            }
            continue;
        }
        let Some(idx) = by_pid.remove(&pid) else {
            continue;
        };
        let (new_pid, mut sock) = shared.template.spawn().context("re-spawning a pod")?;
        let mut slot = shared.slot(idx);
        slot.generation += 1;
        pods::greet(&mut sock, shared.template.init(idx, slot.generation))?;
        pods::await_ready(&mut sock)?;
        slot.pid = new_pid;
        slot.sock = Some(sock);
        by_pid.insert(new_pid, idx);
    }
}

/// `waitpid(-1)`, retried on EINTR.
fn wait_any() -> Result<u32> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid > 0 {
            return Ok(pid as u32);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => {}
            // No children (no pods, or all stopped): nothing to wait for until the process
            // ends.
            Some(libc::ECHILD) => loop {
                std::thread::park();
            },
            _ => return Err(err).context("waitpid"),
        }
    }
}

/// The handshake thread of the cold start: Hello → Init → Ready for every pod, in
/// whatever order they get there.
fn handshakes(shared: &Shared, epoll: &OwnedFd) -> Result<()> {
    let mut ready = 0;
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    while ready < shared.slots.len() {
        // SAFETY: `events` has room for its length of entries.
        let n = unsafe {
            libc::epoll_wait(
                epoll.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                -1,
            )
        };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err).context("epoll_wait");
        }
        for event in &events[..n as usize] {
            let idx = event.u64 as usize;
            let mut slot = shared.slot(idx);
            let generation = slot.generation;
            let sock = slot.sock.as_mut().context("slot without socket")?;
            match read_frame_blocking::<PodToRoot, _>(sock)? {
                Some(PodToRoot::Hello(_)) => {
                    let init = shared.template.init(idx, generation);
                    write_frame_blocking(sock, &RootToPod::Init(init))?;
                }
                Some(PodToRoot::Ready) => {
                    epoll_ctl(epoll, libc::EPOLL_CTL_DEL, sock.as_raw_fd(), idx)?;
                    ready += 1;
                }
                other => bail!("pod {idx}: unexpected frame in the handshake: {other:?}"),
            }
        }
    }
    Ok(())
}

/// Orderly stop: `Shutdown` to each pod, one at a time in reverse order (or all at once),
/// waiting for the exits; then the process exits.
fn stop(shared: &Shared, parallel: bool, reaped: &mpsc::Receiver<u32>) -> Result<()> {
    shared.stopping.store(true, Ordering::SeqCst);
    let shutdown = RootToPod::Method(Method::Shutdown);
    let mut waiting = 0;
    for idx in (0..shared.slots.len()).rev() {
        let pid = {
            let mut slot = shared.slot(idx);
            let sock = slot.sock.as_mut().context("slot without socket")?;
            write_frame_blocking(sock, &shutdown)?;
            slot.pid
        };
        waiting += 1;
        if !parallel {
            while reaped.recv()? != pid {}
            waiting = 0;
        }
    }
    for _ in 0..waiting {
        reaped.recv()?;
    }
    Ok(())
}

fn epoll_create() -> Result<OwnedFd> {
    // SAFETY: epoll_create1 returns a new fd or -1.
    let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error()).context("epoll_create1");
    }
    // SAFETY: a fresh fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn epoll_ctl(epoll: &OwnedFd, op: i32, fd: i32, idx: usize) -> Result<()> {
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: idx as u64,
    };
    // SAFETY: both fds are open and `event` is a valid epoll_event.
    if unsafe { libc::epoll_ctl(epoll.as_raw_fd(), op, fd, &mut event) } < 0 {
        return Err(std::io::Error::last_os_error()).context("epoll_ctl");
    }
    Ok(())
}
