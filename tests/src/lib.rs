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
pub mod llm_pod {
    use std::process::Output;

    use serde_json::Value;

    use super::mock_llm::MockLlm;
    use super::{Root, WAIT, ctl_command, event_of, item_of, output_text, output_within};

    /// The llm pod of [`tree`].
    pub const POD: &str = "planner";

    /// A tree with one `engine = "llm"` pod, [`POD`], speaking `scheme` (`openai_chat` or
    /// `anthropic`) to `base_url` without a key, with timeouts and backoffs short enough
    /// for tests: 5 s until headers, 500 ms of silence in a stream, retries after 10 ms
    /// doubling up to 200 ms. `extra` adds lines to the llm table (`max_attempts = 2`,
    /// `api_key_env = "…"`).
    pub fn tree(scheme: &str, base_url: &str, extra: &str) -> String {
        format!(
            r#"
name = "llm"
strategy = "one_for_one"
max_restarts = 100
within = "10s"

[[child]]
name = "{POD}"
kind = "pod"
engine = "llm"

[child.llm]
scheme = "{scheme}"
base_url = "{base_url}"
model = "mock-model"
request_timeout = "5s"
idle_timeout = "500ms"
retry_initial = "10ms"
retry_max = "200ms"
{extra}
"#
        )
    }

    /// Starts [`tree`] at `mock` and waits until [`POD`] runs at generation 1.
    pub fn start(mock: &MockLlm, scheme: &str, extra: &str) -> Root {
        let root = Root::start(&tree(scheme, &mock.url(), extra));
        root.wait_running(POD, 1);
        root
    }

    /// Runs `ctl ARGS…`, killed (and the test failed) if it takes longer than [`WAIT`].
    pub fn ctl(root: &Root, args: &[&str]) -> Output {
        output_within(&mut ctl_command(&root.runtime_dir(), args), WAIT)
    }

    /// Runs `ctl ARGS…` expecting exit code `code`; returns its output.
    pub fn ctl_code(root: &Root, args: &[&str], code: i32) -> Output {
        let out = ctl(root, args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "ctl {args:?}: {}\nlog:\n{}",
            output_text(&out),
            root.log()
        );
        out
    }

    /// Runs `ctl --json ARGS…` expecting exit code `code`; returns its stdout lines, each
    /// parsed as JSON.
    pub fn ctl_json(root: &Root, args: &[&str], code: i32) -> Vec<Value> {
        let args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
        json_lines(&ctl_code(root, &args, code).stdout)
    }

    /// Every line of `stdout` parsed as JSON; panics on a line that is not.
    pub fn json_lines(stdout: &[u8]) -> Vec<Value> {
        String::from_utf8_lossy(stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The variant names of the events in `lines`, in order.
    pub fn event_names(lines: &[Value]) -> Vec<&str> {
        lines
            .iter()
            .filter_map(event_of)
            .map(|(name, _)| name)
            .collect()
    }

    /// The bodies of the events called `name` in `lines`, in order.
    pub fn bodies<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
        lines
            .iter()
            .filter_map(event_of)
            .filter(|(n, _)| *n == name)
            .map(|(_, body)| body)
            .collect()
    }

    /// Where the first event called `name` is in `lines`.
    pub fn position(lines: &[Value], name: &str) -> Option<usize> {
        lines
            .iter()
            .position(|l| event_of(l).is_some_and(|(n, _)| n == name))
    }

    /// The `TextDelta` texts of `lines`, concatenated.
    pub fn streamed_text(lines: &[Value]) -> String {
        bodies(lines, "TextDelta")
            .iter()
            .map(|body| body["text"].as_str().expect("delta text"))
            .collect()
    }

    /// The `RunEnd` results in `lines` (`"Finished"`, `"Paused"`, …), in order.
    pub fn run_ends(lines: &[Value]) -> Vec<&str> {
        bodies(lines, "RunEnd")
            .iter()
            .filter_map(|body| body["result"].as_str())
            .collect()
    }

    /// The committed items of `pod` (`ctl --json logs`) as `(variant, text)`.
    pub fn items(root: &Root, pod: &str) -> Vec<(String, String)> {
        root.entries(pod).iter().map(item_of).collect()
    }

    /// `(kind, text)` as owned strings, to compare with [`items`].
    pub fn pair(kind: &str, text: &str) -> (String, String) {
        (kind.to_owned(), text.to_owned())
    }
}

/// What the tests of pods that spawn pods share (`spawn.rs`, `spawn_llm.rs`,
/// `spawn_model.rs`): a spawner's log read as the pod events it received and as the
/// registry it records, and the spawned pods `ctl status` lists.
pub mod spawning {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::{Root, WAIT, nodes, output_text, wait_until};

    /// The pod events among a pod's committed entries, in order, as `(variant, body)`:
    /// `{"item":{"PodEvent":{"Crashed":{…}}}}` → `("Crashed", {…})`.
    pub fn pod_events(entries: &[Value]) -> Vec<(String, Value)> {
        entries
            .iter()
            .filter_map(|e| e["item"]["PodEvent"].as_object())
            .filter_map(|event| event.iter().next())
            .map(|(kind, body)| (kind.clone(), body.clone()))
            .collect()
    }

    /// The pod events about `pod` (by `pod_name`), in order.
    pub fn events_about(entries: &[Value], pod: &str) -> Vec<(String, Value)> {
        pod_events(entries)
            .into_iter()
            .filter(|(_, body)| body["pod_name"] == pod)
            .collect()
    }

    /// The registry changes (`Item::Registry`) among a pod's committed entries, parsed:
    /// `{"op":"spawned","name":…,"restart":…,"scope":[…],"generation":1}` or
    /// `{"op":"respawned","name":…,"generation":…}`.
    pub fn registry_changes(entries: &[Value]) -> Vec<Value> {
        entries
            .iter()
            .filter_map(|e| e["item"]["Registry"]["json"].as_str())
            .map(|json| {
                serde_json::from_str(json)
                    .unwrap_or_else(|e| panic!("registry entry is not JSON ({e}): {json}"))
            })
            .collect()
    }

    /// The registry a spawner's log records, folded as a restarted spawner or root replays
    /// it: `spawned` adds a record, `respawned` and a `Restarted` event set its generation,
    /// a `Reclaimed` event removes it. Child name → its record.
    pub fn replay(entries: &[Value]) -> BTreeMap<String, Value> {
        let mut registry = BTreeMap::new();
        for entry in entries {
            let item = &entry["item"];
            if let Some(json) = item["Registry"]["json"].as_str() {
                let change: Value = serde_json::from_str(json)
                    .unwrap_or_else(|e| panic!("registry entry is not JSON ({e}): {json}"));
                let name = change["name"].as_str().unwrap_or_default().to_owned();
                match change["op"].as_str() {
                    Some("spawned") => {
                        registry.insert(name, change);
                    }
                    Some("respawned") => {
                        if let Some(record) = registry.get_mut(&name) {
                            record["generation"] = change["generation"].clone();
                        }
                    }
                    other => panic!("unknown registry op {other:?}: {json}"),
                }
            } else if let Some(body) = item["PodEvent"]["Reclaimed"].as_object() {
                let name = body["pod_name"].as_str().unwrap_or_default();
                registry.remove(name);
            } else if let Some(body) = item["PodEvent"]["Restarted"].as_object() {
                let name = body["pod_name"].as_str().unwrap_or_default();
                if let Some(record) = registry.get_mut(name) {
                    record["generation"] = body["generation"].clone();
                }
            }
        }
        registry
    }

    /// The pods `spawner` spawned, as `ctl status` lists them (under its node).
    pub fn spawned_nodes(status: &Value, spawner: &str) -> Vec<Value> {
        nodes(&status["root"])
            .into_iter()
            .find(|n| n["name"] == spawner)
            .and_then(|n| n["children"].as_array())
            .cloned()
            .unwrap_or_default()
    }

    /// Every spawned pod in `ctl status` (a name with a `/`), at any depth.
    pub fn all_spawned(status: &Value) -> Vec<Value> {
        nodes(&status["root"])
            .into_iter()
            .filter(|n| n["name"].as_str().is_some_and(|name| name.contains('/')))
            .cloned()
            .collect()
    }

    impl Root {
        /// `ctl spawn PARENT NAME --restart RESTART`, which must succeed; waits until the
        /// new pod runs at generation 1 and returns its pid.
        pub fn spawn_child(&self, parent: &str, name: &str, restart: &str) -> u32 {
            let out = self.ctl(&["spawn", parent, name, "--restart", restart]);
            assert!(
                out.status.success(),
                "ctl spawn {parent} {name} --restart {restart}: {}\nlog:\n{}",
                output_text(&out),
                self.log()
            );
            self.wait_running(&format!("{parent}/{name}"), 1)
        }

        /// `ctl --json logs POD` as committed entries, or `None` if ctl fails.
        pub fn try_entries(&self, pod: &str) -> Option<Vec<Value>> {
            let out = self.ctl(&["--json", "logs", pod]);
            if !out.status.success() {
                return None;
            }
            let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            Some(super::committed_entries(&lines))
        }

        /// Waits until `pod`'s committed entries satisfy `pred` and returns them; panics,
        /// naming `what` and showing the entries and the root's log, if they never do.
        pub fn wait_entries(
            &self,
            pod: &str,
            what: &str,
            mut pred: impl FnMut(&[Value]) -> bool,
        ) -> Vec<Value> {
            let mut last = Vec::new();
            let ok = wait_until(WAIT, || {
                last = self.try_entries(pod).unwrap_or_default();
                pred(&last)
            });
            assert!(
                ok,
                "{pod}'s log: {what} did not happen; entries:\n{}\nlog:\n{}",
                last.iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
                self.log()
            );
            last
        }

        /// Waits until `spawner`'s log records `child` (a `spawned` registry entry).
        pub fn wait_recorded(&self, spawner: &str, child: &str) -> Vec<Value> {
            self.wait_entries(spawner, &format!("{child} recorded"), |entries| {
                replay(entries).contains_key(child)
            })
        }
    }
}

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
pub mod scripted {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::llm_pod::{bodies, ctl_json};
    use super::mock_llm::{MockLlm, openai};
    use super::{Root, WAIT, output_text, wait_until};

    /// A tool's answer, as the pod committed it (and streamed it: [`Scripted::call`]
    /// checks the two agree).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ToolResult {
        /// What the model was given.
        pub output: String,
        /// Whether the tool failed.
        pub is_error: bool,
    }

    impl ToolResult {
        /// The output; panics if the tool failed.
        pub fn ok(&self) -> &str {
            assert!(!self.is_error, "the tool failed: {}", self.output);
            &self.output
        }

        /// The output parsed as JSON; panics if the tool failed.
        pub fn json(&self) -> Value {
            serde_json::from_str(self.ok())
                .unwrap_or_else(|e| panic!("tool output is not JSON ({e}): {}", self.output))
        }

        /// The refusal text; panics if the tool succeeded.
        pub fn refusal(&self) -> &str {
            assert!(self.is_error, "the tool succeeded: {}", self.output);
            &self.output
        }
    }

    /// A root, the llm pod under test and the provider scripting it. The root (and its
    /// pods) drops before the provider.
    #[derive(Debug)]
    pub struct Scripted {
        /// The running root.
        pub root: Root,
        /// The provider the pod is aimed at.
        pub mock: MockLlm,
        pod: String,
        /// Replies pushed so far.
        pushed: usize,
        /// Tool calls made so far (for unique call ids).
        calls: usize,
    }

    impl Scripted {
        /// Drives `pod` of `root`, which is aimed at `mock` and has not asked it anything.
        pub fn new(root: Root, mock: MockLlm, pod: &str) -> Scripted {
            Scripted {
                root,
                mock,
                pod: pod.to_owned(),
                pushed: 0,
                calls: 0,
            }
        }

        /// Pushes `n` plain replies for the pod-event turns about to happen.
        pub fn expect_pod_event_turns(&mut self, n: usize) {
            for _ in 0..n {
                self.mock.push(openai::text(&["noted"], Duration::ZERO));
            }
            self.pushed += n;
        }

        /// Waits until every pushed reply was asked for and the pod is idle.
        pub fn settle(&self) {
            let pod = &self.pod;
            let mut requests = 0;
            let mut status = String::new();
            let settled = wait_until(WAIT, || {
                requests = self.mock.requests().len();
                status = pod_status(&self.root, pod);
                requests == self.pushed && status == "idle"
            });
            assert!(
                settled,
                "{pod} did not settle: {requests} requests for {} replies, status {status:?}\n\
                 {pod}'s log:\n{}\nlog:\n{}",
                self.pushed,
                self.root
                    .try_entries(pod)
                    .unwrap_or_default()
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
                self.root.log()
            );
        }

        /// One turn of the pod in which the model calls `tool` with `args`, then says
        /// "done"; `pod_event_turns` more turns follow from what the call causes. Returns
        /// the call's result, checking that the `ToolResult` event `ctl --json send`
        /// streamed and the entry committed to the pod's log say the same.
        pub fn call(&mut self, tool: &str, args: Value, pod_event_turns: usize) -> ToolResult {
            self.settle();
            self.calls += 1;
            let id = format!("call-{}", self.calls);
            self.mock
                .push(openai::tool_call(&id, tool, &[&args.to_string()]));
            self.mock.push(openai::text(&["done"], Duration::ZERO));
            self.pushed += 2;
            self.expect_pod_event_turns(pod_event_turns);
            let lines = ctl_json(
                &self.root,
                &["send", &self.pod, &format!("please {tool}")],
                0,
            );
            self.settle();
            let streamed = bodies(&lines, "ToolResult")
                .into_iter()
                .find(|body| body["id"] == id.as_str())
                .unwrap_or_else(|| panic!("no ToolResult event for {id} ({tool}) in {lines:#?}"))
                .clone();
            let entries = self.root.entries(&self.pod);
            let committed = entries
                .iter()
                .map(|e| &e["item"]["ToolResult"])
                .find(|r| r["id"] == id.as_str())
                .unwrap_or_else(|| {
                    panic!("no committed ToolResult for {id} ({tool}) in {entries:#?}")
                });
            assert_eq!(
                json!([streamed["output"], streamed["is_error"]]),
                json!([committed["output"], committed["is_error"]]),
                "{tool}: the streamed and the committed result differ"
            );
            ToolResult {
                output: committed["output"].as_str().unwrap_or_default().to_owned(),
                is_error: committed["is_error"].as_bool().expect("is_error"),
            }
        }

        /// `kill -9` of `child`, a temporary pod the pod spawned: `Crashed` and `Reclaimed`
        /// reach the pod (two turns: the first starts at `Crashed`, the second is for
        /// `Reclaimed`, whether it arrives during the first or after it); returns once
        /// both are committed and the pod is idle again.
        pub fn kill_temporary(&mut self, child: &str) {
            let pid = self.root.pid_of(child);
            self.settle();
            self.expect_pod_event_turns(2);
            super::signal(pid, libc::SIGKILL);
            self.root
                .wait_entries(&self.pod, &format!("{child} reclaimed"), |entries| {
                    super::spawning::events_about(entries, child)
                        .iter()
                        .any(|(kind, _)| kind == "Reclaimed")
                });
            self.settle();
        }

        /// `ctl --json inspect POD`, which must succeed.
        pub fn inspect(&self, pod: &str) -> Value {
            let out = self.root.ctl(&["--json", "inspect", pod]);
            assert!(
                out.status.success(),
                "ctl inspect {pod}: {}",
                output_text(&out)
            );
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("ctl inspect {pod} is not JSON ({e}): {out:?}"))
        }
    }

    /// A pod's controller status (`idle`, `running`, …) from `ctl --json inspect`; empty
    /// if ctl fails.
    pub fn pod_status(root: &Root, pod: &str) -> String {
        let out = root.ctl(&["--json", "inspect", pod]);
        if !out.status.success() {
            return String::new();
        }
        let described: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        described["status"].as_str().unwrap_or_default().to_owned()
    }
}
