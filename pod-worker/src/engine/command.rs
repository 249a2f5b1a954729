//! The `command` engine: runs `argv` once per turn with the input on stdin and streams its
//! stdout as the reply. A non-zero exit fails the turn with its stderr; cancel, pause and
//! the time limit end it with SIGTERM, then SIGKILL, to the command and every process it
//! started. The command stays in the pod's process group, so if the pod dies the root's
//! kill of that group (or the guard's, if the root died) takes the command with it.

use std::process::Stdio;
use std::time::Duration;

use podsup_wire::{Event, Item};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::{EngineError, Turn, TurnEnd, last_input};
use crate::process_tree::terminate;
/// How much of stderr is kept for the error message.
const STDERR_CAP: usize = 8 * 1024;

/// Runs a command per turn.
#[derive(Debug, Clone)]
pub struct CommandEngine {
    argv: Vec<String>,
    timeout: Option<Duration>,
}

/// Why the command was stopped before it exited by itself.
enum Stop {
    Cancelled,
    TimedOut,
}

impl CommandEngine {
    /// An engine running `argv` (non-empty) with an optional per-turn time limit.
    pub fn new(argv: Vec<String>, timeout: Option<Duration>) -> Self {
        Self { argv, timeout }
    }

    fn spawn(&self) -> Result<Child, EngineError> {
        let (program, args) = self
            .argv
            .split_first()
            .ok_or_else(|| EngineError::Invalid("command engine has an empty argv".into()))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe; it makes the command die with this pod.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command
            .spawn()
            .map_err(|e| EngineError::Tool(format!("cannot run {program}: {e}")))
    }

    /// Runs one turn.
    pub async fn run(&mut self, turn: Turn) -> Result<TurnEnd, EngineError> {
        let input = last_input(&turn.history);
        let mut child = self.spawn()?;
        let pid = child.id().unwrap_or(0);
        let mut stdin = child.stdin.take();
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| EngineError::Internal("no stdout pipe".into()))?;
        let mut stderr = child
            .stderr
            .take()
            .ok_or_else(|| EngineError::Internal("no stderr pipe".into()))?;
        let feed = async move {
            if let Some(stdin) = stdin.as_mut() {
                // A command that does not read its input closes the pipe: not an error.
                if let Err(e) = stdin.write_all(input.as_bytes()).await {
                    tracing::debug!(%e, "command did not take its whole input");
                }
            }
            drop(stdin);
        };
        let sink = turn.sink.clone();
        let read_out = async move {
            let mut text = String::new();
            let mut pending = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                let n = match stdout.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&buf[..n]);
                let valid = match std::str::from_utf8(&pending) {
                    Ok(s) => s.len(),
                    Err(e) if e.error_len().is_none() => e.valid_up_to(),
                    Err(_) => pending.len(),
                };
                let chunk = String::from_utf8_lossy(&pending[..valid]).into_owned();
                pending.drain(..valid);
                if !chunk.is_empty() {
                    sink.event(Event::TextDelta {
                        text: chunk.clone(),
                    });
                    text.push_str(&chunk);
                }
            }
            text.push_str(&String::from_utf8_lossy(&pending));
            text
        };
        let read_err = async move {
            let mut all = Vec::new();
            if let Err(e) = (&mut stderr)
                .take(STDERR_CAP as u64 * 4)
                .read_to_end(&mut all)
                .await
            {
                tracing::debug!(%e, "command stderr unreadable");
            }
            String::from_utf8_lossy(&all).into_owned()
        };
        let work = async { tokio::join!(feed, read_out, read_err, child.wait()) };
        let limit = async {
            match self.timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        let (stop, outcome) = tokio::select! {
            (_, text, err, status) = work => (None, Some((text, err, status))),
            _ = turn.cancel.cancelled() => (Some(Stop::Cancelled), None),
            _ = limit => (Some(Stop::TimedOut), None),
        };
        if let Some(stop) = stop {
            terminate(&mut child, pid).await;
            return Err(match stop {
                Stop::Cancelled => EngineError::Cancelled,
                Stop::TimedOut => EngineError::Tool(format!(
                    "{} did not finish within {:?} and was killed",
                    self.argv[0],
                    self.timeout.unwrap_or_default()
                )),
            });
        }
        let Some((text, err, status)) = outcome else {
            return Err(EngineError::Internal("command outcome missing".into()));
        };
        let status =
            status.map_err(|e| EngineError::Internal(format!("cannot wait for command: {e}")))?;
        if !status.success() {
            let how = match status.code() {
                Some(code) => format!("exited with code {code}"),
                None => "was killed by a signal".to_owned(),
            };
            let err = tail(&err, STDERR_CAP);
            return Err(EngineError::Tool(format!(
                "{} {how}: {}",
                self.argv[0],
                err.trim()
            )));
        }
        turn.sink.event(Event::TextDone { text: text.clone() });
        turn.sink.commit(Item::Assistant { text });
        Ok(TurnEnd::Finished)
    }
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}
