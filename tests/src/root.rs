use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::{
    WAIT, alive, ctl_command, nodes, output_text, output_within, podsup_bin, signal, wait_until,
};

/// A running `podsup start`, with its own runtime and state dirs.
#[derive(Debug)]
pub struct Root {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Every pid this root's tree has reported, killed on drop just in case.
    seen: std::cell::RefCell<Vec<u32>>,
    exit: Option<ExitStatus>,
}

impl Root {
    /// Writes `tree` to a fresh temporary dir and runs `podsup start` on it, waiting until
    /// the ctl socket answers and the root supervisor is running.
    pub fn start(tree: &str) -> Root {
        let root = Root::spawn(tree);
        let up = wait_until(WAIT, || {
            root.try_status()
                .is_some_and(|s| s["root"]["state"] == "running")
        });
        assert!(up, "tree did not come up; log:\n{}", root.log());
        root
    }

    /// Like [`Root::start`] but returns as soon as the process is spawned.
    pub fn spawn(tree: &str) -> Root {
        Root::spawn_with_env(tree, &[])
    }

    /// Like [`Root::spawn`], with `env` added to the environment of `podsup start` (for
    /// what only the service manager sets, like `NOTIFY_SOCKET` and `WATCHDOG_USEC`).
    pub fn spawn_with_env(tree: &str, env: &[(&str, &std::ffi::OsStr)]) -> Root {
        let dir = tempfile::Builder::new()
            .prefix("podsup-e2e")
            .tempdir()
            .expect("tempdir");
        Root::launch(dir, tree, env)
    }

    /// Like [`Root::start`], but the temporary dir holding tree.toml, run/ and state/ is
    /// searchable (mode 0711) by every user, so children that run as another user
    /// (`user = "nobody"`) can reach their own dirs below it.
    pub fn start_searchable(tree: &str) -> Root {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("podsup-e2e")
            .permissions(std::fs::Permissions::from_mode(0o711))
            .tempdir()
            .expect("tempdir");
        let root = Root::launch(dir, tree, &[]);
        let up = wait_until(WAIT, || {
            root.try_status()
                .is_some_and(|s| s["root"]["state"] == "running")
        });
        assert!(up, "tree did not come up; log:\n{}", root.log());
        root
    }

    /// Runs `podsup start` on `tree` written into `dir`, with `env` added.
    fn launch(dir: tempfile::TempDir, tree: &str, env: &[(&str, &std::ffi::OsStr)]) -> Root {
        let tree_path = dir.path().join("tree.toml");
        std::fs::write(&tree_path, tree).expect("write tree");
        let log = std::fs::File::create(dir.path().join("podsup.log")).expect("log file");
        let child = Command::new(podsup_bin())
            .arg("start")
            .arg(&tree_path)
            .arg("--runtime-dir")
            .arg(dir.path().join("run"))
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .env("PODSUP_LOG", "debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn podsup start");
        Root {
            child: Some(child),
            dir,
            seen: Default::default(),
            exit: None,
        }
    }

    /// The directory holding tree.toml, run/ and state/.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The runtime dir.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// pid of `podsup start`.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("root process")
    }

    /// What `podsup start` logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("podsup.log")).unwrap_or_default()
    }

    /// Runs `podsup ctl --runtime-dir <ours> ARGS…`.
    pub fn ctl(&self, args: &[&str]) -> Output {
        ctl_command(&self.runtime_dir(), args)
            .output()
            .expect("run podsup ctl")
    }

    /// Runs `podsup ctl ARGS…`, which must succeed within [`WAIT`]; returns its stdout.
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let out = output_within(&mut ctl_command(&self.runtime_dir(), args), WAIT);
        assert!(
            out.status.success(),
            "ctl {args:?} failed: {}\nlog:\n{}",
            output_text(&out),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ctl status --json`, or `None` if the root does not answer.
    pub fn try_status(&self) -> Option<Value> {
        let out = self.ctl(&["status", "--json"]);
        if !out.status.success() {
            return None;
        }
        let status: Value = serde_json::from_slice(&out.stdout).ok()?;
        let mut seen = self.seen.borrow_mut();
        for node in nodes(&status["root"]) {
            if let Some(pid) = node["pid"].as_u64() {
                if pid as u32 != self.pid() && !seen.contains(&(pid as u32)) {
                    seen.push(pid as u32);
                }
            }
        }
        Some(status)
    }

    /// `ctl status --json`, panicking with the log if the root does not answer.
    pub fn status(&self) -> Value {
        self.try_status()
            .unwrap_or_else(|| panic!("ctl status failed; log:\n{}", self.log()))
    }

    /// The status node called `name`.
    pub fn node(&self, name: &str) -> Value {
        let status = self.status();
        nodes(&status["root"])
            .into_iter()
            .find(|n| n["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no node {name} in {status:#}"))
    }

    /// pid of the running node `name`.
    pub fn pid_of(&self, name: &str) -> u32 {
        let node = self.node(name);
        node["pid"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has no pid: {node:#}")) as u32
    }

    /// Generation of `name`.
    pub fn generation(&self, name: &str) -> u64 {
        self.node(name)["generation"].as_u64().expect("generation")
    }

    /// Waits until `name` is running at `generation`; returns its pid.
    pub fn wait_running(&self, name: &str, generation: u64) -> u32 {
        let ok = wait_until(WAIT, || {
            let n = self.node(name);
            n["state"] == "running" && n["generation"] == generation && n["pid"].is_u64()
        });
        assert!(
            ok,
            "{name} not running at generation {generation}: {:#}\nlog:\n{}",
            self.node(name),
            self.log()
        );
        self.pid_of(name)
    }

    /// Waits for `podsup start` to exit; `None` on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.exit {
            return Some(status);
        }
        let child = self.child.as_mut().expect("root process");
        let mut status = None;
        wait_until(timeout, || {
            status = child.try_wait().expect("try_wait");
            status.is_some()
        });
        self.exit = status;
        status
    }

    /// Waits until node `name` is in `state` (`"running"`, `"stopped"`, …); returns the node.
    pub fn wait_state(&self, name: &str, state: &str) -> Value {
        let mut last = Value::Null;
        let ok = wait_until(WAIT, || {
            last = self.node(name);
            last["state"] == state
        });
        assert!(
            ok,
            "{name} never became {state}: {last:#}\nlog:\n{}",
            self.log()
        );
        last
    }

    /// Runs `podsup start` again on the same tree file, runtime dir and state dir, as
    /// systemd restarting the service would, once the previous one has exited (or been
    /// killed and reaped by [`Root::wait_exit`]); waits until the new root answers.
    pub fn start_again(&mut self) {
        assert!(
            self.exit.is_some(),
            "start_again: the previous podsup start has not exited"
        );
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("podsup.log"))
            .expect("log file");
        let child = Command::new(podsup_bin())
            .arg("start")
            .arg(self.dir.path().join("tree.toml"))
            .arg("--runtime-dir")
            .arg(self.runtime_dir())
            .arg("--state-dir")
            .arg(self.dir.path().join("state"))
            .env("PODSUP_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn podsup start again");
        let pid = child.id();
        self.child = Some(child);
        self.exit = None;
        let up = wait_until(WAIT, || {
            self.try_status()
                .is_some_and(|s| s["root"]["pid"] == pid && s["root"]["state"] == "running")
        });
        assert!(
            up,
            "podsup start (again) did not come up; log:\n{}",
            self.log()
        );
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.exit.is_none() {
                signal(child.id(), libc::SIGKILL);
                if let Err(e) = child.wait() {
                    eprintln!("cannot reap podsup start: {e}");
                }
            }
        }
        // Children die with the root (death signal); make sure even if that is broken.
        for &pid in self.seen.borrow().iter() {
            // Our children lead their own process group; a reused pid would not.
            // SAFETY: getpgid(2) on a pid.
            let leads_group = unsafe { libc::getpgid(pid as libc::pid_t) } == pid as libc::pid_t;
            if alive(pid) && leads_group {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

/// Waits until the status node `name` satisfies `pred` and returns that node; panics,
/// naming `what` and showing the node and the root's log, if it does not within [`WAIT`].
pub fn wait_node(
    root: &Root,
    name: &str,
    what: &str,
    mut pred: impl FnMut(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    let ok = wait_until(WAIT, || {
        last = root.node(name);
        pred(&last)
    });
    assert!(
        ok,
        "{name}: {what} did not happen: {last:#}\nlog:\n{}",
        root.log()
    );
    last
}
