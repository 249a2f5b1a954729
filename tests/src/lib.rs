//! Harness for podsup's end-to-end tests: real `podsup` binaries, real pods, real signals.
//!
//! Every test boots its own root ([`Root::start`]) in a private temporary directory, talks
//! to it through `podsup ctl` exactly as an operator would, and waits by polling
//! ([`wait_until`]) — never by sleeping as an assertion. Whatever a test starts is killed
//! in `Drop`, by pid.

pub mod mock_llm;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Generous default for waits: long enough for a loaded 2-core CI machine.
pub const WAIT: Duration = Duration::from_secs(20);

/// The `podsup` binary under test: `PODSUP_BIN`, or the one cargo built next to this test.
pub fn podsup_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("PODSUP_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test>-<hash> → target/<profile>/podsup
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let bin = profile_dir.join("podsup");
    assert!(
        bin.exists(),
        "{} does not exist: build it first (`cargo build --bin podsup`, which scripts/test does)",
        bin.display()
    );
    bin
}

/// Polls `f` every 10 ms until it returns true or `timeout` passes; returns its last answer.
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

/// Whether `pid` names a live (non-zombie) process.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            // The state letter follows the parenthesised command name.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
    }
}

/// Sends `signal` to `pid`, ignoring a process that is already gone.
pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a pid and a signal number.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

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
}

/// A `podsup ctl` command aimed at `runtime_dir`.
pub fn ctl_command(runtime_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(podsup_bin());
    cmd.arg("ctl")
        .arg("--runtime-dir")
        .arg(runtime_dir)
        .args(args);
    cmd.stdin(Stdio::null());
    cmd
}

/// Every node of a status tree, depth first in start order.
pub fn nodes(node: &Value) -> Vec<&Value> {
    let mut out = vec![node];
    if let Some(children) = node["children"].as_array() {
        for child in children {
            out.extend(nodes(child));
        }
    }
    out
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

/// Runs `cmd` to completion, capturing stdout and stderr; kills it and panics if it takes
/// longer than `timeout` (a command that should fail at once must not hang a test).
pub fn output_within(cmd: &mut Command, timeout: Duration) -> Output {
    use std::io::Read;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn command");
    // Drain both pipes on threads so a chatty child cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                if let Err(e) = pipe.read_to_end(&mut buf) {
                    eprintln!("cannot read child output: {e}");
                }
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let mut status = None;
    wait_until(timeout, || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    });
    let Some(status) = status else {
        signal(child.id(), libc::SIGKILL);
        let status = child.wait().expect("reap killed command");
        let stderr = String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned();
        panic!("{cmd:?} still running after {timeout:?} ({status}); stderr:\n{stderr}");
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// stdout and stderr of `out` as one string, for messages and `contains` checks.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Root {
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

impl Root {
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

impl Root {
    /// Like [`Root::spawn`], with `env` added to the environment of `podsup start` (for
    /// what only the service manager sets, like `NOTIFY_SOCKET` and `WATCHDOG_USEC`).
    pub fn spawn_with_env(tree: &str, env: &[(&str, &std::ffi::OsStr)]) -> Root {
        let dir = tempfile::Builder::new()
            .prefix("podsup-e2e")
            .tempdir()
            .expect("tempdir");
        Root::launch(dir, tree, env)
    }
}

/// A command running in the background whose stdout and stderr are collected line by line
/// as they arrive, for watching a `ctl send`, `ctl attach` or `ctl logs -f` stream live.
/// Killed (by pid) and reaped in `Drop`.
#[derive(Debug)]
pub struct Streaming {
    child: Child,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Pipes not read yet ([`Streaming::spawn_unread`]).
    unread: Option<(std::process::ChildStdout, std::process::ChildStderr)>,
    exit: Option<ExitStatus>,
}

type SharedLines = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

fn collect_lines(pipe: impl std::io::Read + Send + 'static, into: SharedLines) {
    use std::io::BufRead;
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            match line {
                Ok(line) => into.lock().expect("lines lock").push(line),
                Err(e) => {
                    eprintln!("cannot read child output: {e}");
                    break;
                }
            }
        }
    });
}

impl Streaming {
    /// Spawns `cmd` with stdout and stderr piped and read as they arrive.
    pub fn spawn(cmd: &mut Command) -> Streaming {
        let mut s = Streaming::spawn_unread(cmd);
        s.start_reading();
        s
    }

    /// Spawns `cmd` with stdout and stderr piped but not read: a client that stalls until
    /// [`Streaming::start_reading`].
    pub fn spawn_unread(cmd: &mut Command) -> Streaming {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn streaming command");
        let out = child.stdout.take().expect("stdout pipe");
        let err = child.stderr.take().expect("stderr pipe");
        Streaming {
            child,
            stdout: Default::default(),
            stderr: Default::default(),
            unread: Some((out, err)),
            exit: None,
        }
    }

    /// Starts reading the pipes (a no-op if they are read already).
    pub fn start_reading(&mut self) {
        if let Some((out, err)) = self.unread.take() {
            collect_lines(out, self.stdout.clone());
            collect_lines(err, self.stderr.clone());
        }
    }

    /// pid of the command.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The stdout lines so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().expect("lines lock").clone()
    }

    /// The stderr lines so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().expect("lines lock").clone()
    }

    /// The stdout lines so far that are JSON objects (`ctl --json` output), parsed.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout_lines()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Everything so far, stdout then stderr, for messages and `contains` checks.
    pub fn text(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout_lines().join("\n"),
            self.stderr_lines().join("\n")
        )
    }

    /// Waits until `pred` holds for the stdout lines so far; panics naming `what`.
    pub fn wait_stdout(&self, what: &str, mut pred: impl FnMut(&[String]) -> bool) {
        let ok = wait_until(WAIT, || pred(&self.stdout_lines()));
        assert!(ok, "{what} did not happen; so far:\n{}", self.text());
    }

    /// Waits until `pred` holds for the JSON lines so far; panics naming `what`.
    pub fn wait_json(&self, what: &str, mut pred: impl FnMut(&[Value]) -> bool) {
        let ok = wait_until(WAIT, || pred(&self.json_lines()));
        assert!(ok, "{what} did not happen; so far:\n{}", self.text());
    }

    /// Whether the command has exited (reaping it if so).
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("try_wait");
        }
        self.exit
    }

    /// Waits for the command to exit; `None` on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_until(timeout, || self.try_exit().is_some());
        self.exit
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            signal(self.child.id(), libc::SIGKILL);
            if let Err(e) = self.child.wait() {
                eprintln!("cannot reap streaming command: {e}");
            }
        }
    }
}

/// The `"event"` of a `ctl --json` event line, as `(variant, body)`:
/// `{"event":{"TextDelta":{"text":"hi"}}}` → `("TextDelta", {"text":"hi"})`.
pub fn event_of(line: &Value) -> Option<(&str, &Value)> {
    let event = line.get("event")?.as_object()?;
    let (name, body) = event.iter().next()?;
    Some((name.as_str(), body))
}

/// The committed entries (`{"seq","at_ms","item"}`) in `ctl --json` event lines.
pub fn committed_entries(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(event_of)
        .filter(|(name, _)| *name == "Committed")
        .map(|(_, entry)| entry.clone())
        .collect()
}

impl Root {
    /// `ctl --json logs NAME`: every committed entry of the pod, in order.
    pub fn entries(&self, name: &str) -> Vec<Value> {
        let out = self.ctl(&["--json", "logs", name]);
        assert!(
            out.status.success(),
            "ctl logs {name} failed: {}\nlog:\n{}",
            output_text(&out),
            self.log()
        );
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        committed_entries(&lines)
    }

    /// Starts `podsup ctl ARGS…` in the background, its output read as it arrives.
    pub fn ctl_stream(&self, args: &[&str]) -> Streaming {
        Streaming::spawn(&mut ctl_command(&self.runtime_dir(), args))
    }
}

/// A committed entry's item as `(variant, text)`: `{"item":{"User":{"text":"hi"}}}` →
/// `("User", "hi")`; the text is empty for items without one.
pub fn item_of(entry: &Value) -> (String, String) {
    let (kind, body) = entry["item"]
        .as_object()
        .and_then(|o| o.iter().next())
        .unwrap_or_else(|| panic!("entry without an item: {entry}"));
    (kind.clone(), body["text"].as_str().unwrap_or("").to_owned())
}

/// What the end-to-end tests of `llm` pods share (`pod_llm.rs`, `pod_llm_anthropic.rs`):
/// a tree with one llm pod aimed at a [`mock_llm::MockLlm`], bounded `ctl` runs, and
/// readers of `ctl --json` event lines.
pub mod llm_pod;

/// What the tests of pods that spawn pods share (`spawn.rs`, `spawn_llm.rs`,
/// `spawn_model.rs`): a spawner's log read as the pod events it received and as the
/// registry it records, and the spawned pods `ctl status` lists.
pub mod spawning;

impl Root {
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
}

/// The `Uid:` or `Gid:` line of `/proc/PID/status` as numbers (real, effective, saved,
/// file system); empty if the process is gone.
pub fn proc_ids(pid: u32, key: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The soft and hard value of limit `name` (`"Max open files"`) in `/proc/PID/limits`, as
/// written there (`"1024"`, `"unlimited"`).
pub fn proc_limit(pid: u32, name: &str) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let rest = limits.lines().find_map(|line| line.strip_prefix(name))?;
    let mut values = rest.split_whitespace();
    Some((values.next()?.to_owned(), values.next()?.to_owned()))
}

/// An `llm` pod driven turn by turn through scripted tool calls (`scope_tools.rs`): the
/// provider ([`mock_llm::MockLlm`]) answers each `ctl send` with one tool call, then
/// "done", and the test reads the call's result.
///
/// Every pod event the pod receives (`Crashed`, `Reclaimed`, …) starts a turn of its own,
/// which asks the provider too. So the script is kept in step: each step says how many such
/// turns it causes (each answered "noted"), and before each scripted turn the pod is idle
/// with every reply pushed so far asked for.
pub mod scripted;
