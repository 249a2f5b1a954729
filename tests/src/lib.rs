//! Harness for podsup's end-to-end tests: real `podsup` binaries, real pods, real signals.
//!
//! Every test boots its own root ([`Root::start`]) in a private temporary directory, talks
//! to it through `podsup ctl` exactly as an operator would, and waits by polling
//! ([`wait_until`]) — never by sleeping as an assertion. Whatever a test starts is killed
//! in `Drop`, by pid.

pub mod mock_llm;

/// A running `podsup start` under test ([`Root`]): its own temporary runtime and state
/// dirs, driven through `podsup ctl` as an operator would, and killed with everything it
/// started in `Drop`.
mod root;

/// Commands whose output is read as it arrives ([`Streaming`]: `ctl send`, `ctl attach`,
/// `ctl logs -f`), and readers of the `ctl --json` event lines they print.
mod streaming;

pub use root::{Root, wait_node};
pub use streaming::{Streaming, committed_entries, event_of, item_of};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
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

/// stderr of `out` as a string, for checking what a failed command said.
pub fn stderr_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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

/// What the `ctl` tests share (`ctl.rs`, `ctl_status.rs`, `ctl_access.rs`): the tree of
/// plain processes they drive, and waiting for a tree's first generation.
pub mod ctl_trees;

/// What the reload tests share (`reload.rs`, `reload_in_place.rs`, `reload_stopped.rs`,
/// `reload_refused.rs`): the trees they rewrite, `ctl reload`, and each child's pid and
/// generation compared before and after.
pub mod reloading;

/// What the end-to-end tests of `llm` pods share (`pod_llm.rs`, `pod_llm_anthropic.rs`):
/// a tree with one llm pod aimed at a [`mock_llm::MockLlm`], bounded `ctl` runs, and
/// readers of `ctl --json` event lines.
pub mod llm_pod;

/// What the tests of pods that spawn pods share (`spawn.rs`, `spawn_llm.rs`,
/// `spawn_model.rs`): a spawner's log read as the pod events it received and as the
/// registry it records, and the spawned pods `ctl status` lists.
pub mod spawning;

/// An `llm` pod driven turn by turn through scripted tool calls (`scope_tools.rs`): the
/// provider ([`mock_llm::MockLlm`]) answers each `ctl send` with one tool call, then
/// "done", and the test reads the call's result.
///
/// Every pod event the pod receives (`Crashed`, `Reclaimed`, …) starts a turn of its own,
/// which asks the provider too. So the script is kept in step: each step says how many such
/// turns it causes (each answered "noted"), and before each scripted turn the pod is idle
/// with every reply pushed so far asked for.
pub mod scripted;
