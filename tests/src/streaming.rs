use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::{Root, WAIT, ctl_command, output_text, signal, wait_until};

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
