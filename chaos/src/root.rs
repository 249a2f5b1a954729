//! The `podsup start` under test: started, SIGKILLed and started again on the same tree,
//! runtime dir and state dir, as systemd would. Everything it ran is killed in `Drop`, by
//! pid.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::ctl::Ctl;
use crate::procs;
use crate::status::Snapshot;
use crate::tree::Model;

/// How long a root may take to come up.
const BOOT: Duration = Duration::from_secs(60);

/// Why the root could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    /// `podsup start` could not be spawned.
    #[error("cannot run {bin}: {source}")]
    Spawn {
        /// The podsup binary.
        bin: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The log file could not be opened.
    #[error("cannot open {path}: {source}")]
    Log {
        /// The log file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `podsup start` exited while the tree was coming up.
    #[error("podsup start exited ({status}) before the tree was up; see {log}")]
    Exited {
        /// How it exited.
        status: std::process::ExitStatus,
        /// The root's log file.
        log: String,
    },
    /// The tree did not come up in time.
    #[error("the tree did not come up within {BOOT:?}; see {log}")]
    NotUp {
        /// The root's log file.
        log: String,
    },
}

/// A running `podsup start` and what it has run.
#[derive(Debug)]
pub struct Root {
    bin: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
    /// Every pod and process seen in its status, as pid → start time, killed on drop if
    /// still around.
    seen: BTreeMap<u32, u64>,
}

impl Root {
    /// Writes `model`'s tree into `dir` and starts `podsup start` on it.
    pub fn start(bin: &Path, dir: &Path, model: &Model) -> Result<Root, RootError> {
        let tree = dir.join("tree.toml");
        std::fs::write(&tree, model.to_toml()).map_err(|source| RootError::Log {
            path: tree.display().to_string(),
            source,
        })?;
        let mut root = Root {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            child: None,
            seen: BTreeMap::new(),
        };
        root.boot(model)?;
        Ok(root)
    }

    /// The ctl of this root.
    pub fn ctl(&self) -> Ctl {
        Ctl::new(&self.bin, &self.dir.join("run"))
    }

    /// pid of `podsup start`.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The root's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("podsup.log")
    }

    /// Spawns `podsup start` and waits until every node of `model` runs.
    pub fn boot(&mut self, model: &Model) -> Result<(), RootError> {
        let log_path = self.log_path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| RootError::Log {
                path: log_path.display().to_string(),
                source,
            })?;
        let err = log.try_clone().map_err(|source| RootError::Log {
            path: log_path.display().to_string(),
            source,
        })?;
        let child = Command::new(&self.bin)
            .arg("start")
            .arg(self.dir.join("tree.toml"))
            .arg("--runtime-dir")
            .arg(self.dir.join("run"))
            .arg("--state-dir")
            .arg(self.dir.join("state"))
            .env("PODSUP_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|source| RootError::Spawn {
                bin: self.bin.display().to_string(),
                source,
            })?;
        self.child = Some(child);
        let up = procs::wait_until(BOOT, || {
            self.exited().is_some() || self.snapshot().is_some_and(|s| s.all_running(model))
        });
        match (up, self.exited()) {
            (true, None) => Ok(()),
            (_, Some(status)) => Err(RootError::Exited {
                status,
                log: log_path.display().to_string(),
            }),
            (false, None) => Err(RootError::NotUp {
                log: log_path.display().to_string(),
            }),
        }
    }

    /// `ctl status --json` as a snapshot, remembering every pid in it; `None` if the root
    /// does not answer.
    pub fn snapshot(&mut self) -> Option<Snapshot> {
        let status = self.ctl().status().ok()?;
        let snap = Snapshot::parse(&status).ok()?;
        let own = self.pid();
        for pid in snap.nodes.values().filter_map(|n| n.pid) {
            if Some(pid) != own && !self.seen.contains_key(&pid) {
                if let Some(stat) = procs::stat(pid) {
                    self.seen.insert(pid, stat.start);
                }
            }
        }
        Some(snap)
    }

    /// Whether `podsup start` has exited (reaping it if so).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().ok().flatten()
    }

    /// SIGKILL to `podsup start`, then reap it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            procs::kill(child.id());
            if let Err(e) = child.wait() {
                eprintln!("podsup-chaos: cannot reap podsup start: {e}");
            }
        }
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        self.kill9();
        // Pods die with the root (death signal, guard); make sure, by pid, even if that is
        // broken: every child seen that is still the same process, then whatever is left in
        // their groups (a group id is not reused while its group has members, so a member
        // whose leader is gone is ours; one whose leader is another process is not).
        for (&pid, &start) in &self.seen {
            procs::kill_if_same(pid, start);
        }
        let seen: Vec<u32> = self.seen.keys().copied().collect();
        for (pgid, pid) in procs::group_members(&seen) {
            let leader = procs::stat(pgid);
            if leader.is_none_or(|l| Some(&l.start) == self.seen.get(&pgid)) {
                procs::kill(pid);
            }
        }
    }
}
