//! The two supervisors a figure compares, run as child processes of the bench and handled
//! the same way: `podsup start` on a generated tree, and the floor (`podsup-bench floor`).
//! Each has its own work dir and stamp dir; whatever is left running is killed on drop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::{Context, Result};

use crate::clock::now_ns;
use crate::procfs::{self, ExitWatch};
use crate::stamps::Stamps;

/// Environment of the bench's children that belongs to a service manager or would point
/// them elsewhere (journald, another runtime dir, another log level).
const SCRUBBED_ENV: [&str; 10] = [
    "NOTIFY_SOCKET",
    "WATCHDOG_PID",
    "WATCHDOG_USEC",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
    "INVOCATION_ID",
    "PODSUP_RUNTIME_DIR",
    "PODSUP_STATE_DIR",
    "PODSUP_LOG",
];

/// Which supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `podsup start`.
    Podsup,
    /// `podsup-bench floor`.
    Floor,
}

/// Paths the bench runs with.
#[derive(Debug, Clone)]
pub struct Bins {
    /// The `podsup` binary under test.
    pub podsup: PathBuf,
    /// This binary (run as `podsup-bench floor`).
    pub bench: PathBuf,
    /// Where each subject gets its own dir.
    pub work: PathBuf,
}

/// A running supervisor under test.
#[derive(Debug)]
pub struct Subject {
    /// Which one.
    pub kind: Kind,
    /// Its dir (tree, state, runtime dir, stamps, log).
    pub dir: PathBuf,
    /// Its pods' stamps.
    pub stamps: Stamps,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
}

/// The tree `podsup start` runs for a figure with `pods` echo pods: one_for_one, parallel
/// start, no backoff and an intensity no benchmark reaches.
pub fn pods_tree(pods: usize, stamps: &Path) -> String {
    let mut tree = String::from(
        "name = \"bench\"\nstrategy = \"one_for_one\"\nstart = \"parallel\"\n\
         max_restarts = 4294967295\nwithin = \"1s\"\n",
    );
    for idx in 0..pods {
        tree.push_str(&format!(
            "\n[[child]]\nname = \"{}\"\nkind = \"pod\"\nengine = \"echo\"\nenv = {{ PODSUP_START_STAMP = \"{}\" }}\n",
            crate::pods::pod_name(idx),
            stamps.display()
        ));
    }
    tree
}

impl Subject {
    fn prepare(bins: &Bins, label: &str) -> Result<(PathBuf, Stamps, std::fs::File)> {
        let dir = bins.work.join(format!("{label}-{}", now_ns()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let stamps = Stamps::new(&dir.join("stamps"))?;
        let log = std::fs::File::create(dir.join("log"))?;
        Ok((dir, stamps, log))
    }

    /// Starts `podsup start` on the tree `tree(stamp dir)`; returns it and the time just
    /// before the spawn.
    pub fn podsup(bins: &Bins, tree: impl FnOnce(&Path) -> String) -> Result<(Subject, u64)> {
        let (dir, stamps, log) = Self::prepare(bins, "podsup")?;
        let tree_path = dir.join("tree.toml");
        std::fs::write(&tree_path, tree(stamps.dir()))?;
        let mut command = Command::new(&bins.podsup);
        command
            .arg("start")
            .arg(&tree_path)
            .arg("--runtime-dir")
            .arg(dir.join("run"))
            .arg("--state-dir")
            .arg(dir.join("state"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        scrub(&mut command);
        let t0 = now_ns();
        let child = command.spawn().context("spawning podsup start")?;
        let subject = Subject {
            kind: Kind::Podsup,
            dir,
            stamps,
            child: Some(child),
            stdin: None,
        };
        Ok((subject, t0))
    }

    /// Starts the floor with `pods` pods; returns it and the time just before the spawn.
    pub fn floor(bins: &Bins, pods: usize) -> Result<(Subject, u64)> {
        Self::floor_with(bins, pods, crate::floor::Ballast::default())
    }

    /// Starts the floor with `pods` pods carrying `ballast`.
    pub fn floor_with(
        bins: &Bins,
        pods: usize,
        ballast: crate::floor::Ballast,
    ) -> Result<(Subject, u64)> {
        let (dir, stamps, log) = Self::prepare(bins, "floor")?;
        let mut command = Command::new(&bins.bench);
        command
            .arg("floor")
            .arg("--podsup")
            .arg(&bins.podsup)
            .arg("--pods")
            .arg(pods.to_string())
            .arg("--stamps")
            .arg(stamps.dir())
            .arg("--state")
            .arg(dir.join("state"))
            .arg("--ballast-mib")
            .arg(ballast.mib.to_string())
            .arg("--ballast-fds")
            .arg(ballast.fds.to_string())
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log);
        scrub(&mut command);
        let t0 = now_ns();
        let mut child = command.spawn().context("spawning the floor")?;
        let stdin = child.stdin.take();
        let subject = Subject {
            kind: Kind::Floor,
            dir,
            stamps,
            child: Some(child),
            stdin,
        };
        Ok((subject, t0))
    }

    /// Starts `kind` with `pods` echo pods.
    pub fn start(bins: &Bins, kind: Kind, pods: usize) -> Result<(Subject, u64)> {
        match kind {
            Kind::Podsup => Self::podsup(bins, |stamps| pods_tree(pods, stamps)),
            Kind::Floor => Self::floor(bins, pods),
        }
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// podsup's runtime dir (ctl socket).
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// podsup's state dir.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// Asks for an orderly stop: SIGTERM to podsup; `seq` (or `par`) to the floor.
    pub fn request_stop(&mut self, parallel: bool) -> Result<()> {
        match self.kind {
            Kind::Podsup => procfs::signal(self.pid(), libc::SIGTERM),
            Kind::Floor => {
                let mut stdin = self.stdin.take().context("floor already stopping")?;
                stdin.write_all(if parallel { b"par\n" } else { b"seq\n" })?;
                Ok(())
            }
        }
    }

    /// Waits until the supervisor process exits; returns when its exit was seen and its
    /// status.
    pub fn wait_exit(&mut self, timeout_ms: u64) -> Result<(u64, std::process::ExitStatus)> {
        let mut watch = ExitWatch::new(&[self.pid()])?;
        let done = watch.wait_all(now_ns() + timeout_ms * 1_000_000)?;
        anyhow::ensure!(done, "{:?} did not exit within {timeout_ms} ms", self.kind);
        let mut child = self.child.take().context("already reaped")?;
        let status = child.wait()?;
        Ok((watch.last_ns, status))
    }

    /// What the supervisor logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Kills the supervisor (SIGKILL) without reaping it.
    pub fn kill(&self) -> Result<()> {
        procfs::signal(self.pid(), libc::SIGKILL)
    }

    /// Reaps a killed supervisor.
    pub fn reap(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.wait()?;
        }
        Ok(())
    }
}

fn scrub(command: &mut Command) {
    for key in SCRUBBED_ENV {
        command.env_remove(key);
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            if let Err(e) = procfs::signal(child.id(), libc::SIGKILL) {
                eprintln!("podsup-bench: cannot kill {}: {e:#}", child.id());
            }
            if let Err(e) = child.wait() {
                eprintln!("podsup-bench: cannot reap {}: {e}", child.id());
            }
        }
        if std::env::var_os("PODSUP_BENCH_KEEP").is_none() {
            if let Err(e) = std::fs::remove_dir_all(&self.dir) {
                eprintln!("podsup-bench: cannot remove {}: {e}", self.dir.display());
            }
        }
    }
}
