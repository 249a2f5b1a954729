//! `podsup ctl`, run as an operator would, each call bounded in time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// Why a ctl call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The command could not be run.
    #[error("cannot run podsup ctl {args}: {source}")]
    Spawn {
        /// The verb and its arguments.
        args: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It did not finish in time and was killed.
    #[error("podsup ctl {args}: no answer within {after:?}")]
    Timeout {
        /// The verb and its arguments.
        args: String,
        /// The limit.
        after: Duration,
    },
    /// It exited non-zero.
    #[error("podsup ctl {args}: {status}: {stderr}")]
    Failed {
        /// The verb and its arguments.
        args: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// Its output was not the JSON expected.
    #[error("podsup ctl {args}: unexpected output: {why}")]
    Output {
        /// The verb and its arguments.
        args: String,
        /// What was wrong.
        why: String,
    },
}

/// A way to reach one root's ctl socket.
#[derive(Debug, Clone)]
pub struct Ctl {
    bin: PathBuf,
    runtime_dir: PathBuf,
}

/// Limit of `ctl status` and `ctl logs`.
pub const QUICK: Duration = Duration::from_secs(5);
/// Limit of `ctl send` (a whole echo turn).
pub const TURN: Duration = Duration::from_secs(10);

impl Ctl {
    /// `bin ctl --runtime-dir runtime_dir …`.
    pub fn new(bin: &Path, runtime_dir: &Path) -> Self {
        Ctl {
            bin: bin.to_owned(),
            runtime_dir: runtime_dir.to_owned(),
        }
    }

    /// Runs `ctl ARGS…`, killed after `limit`; its stdout if it exited 0.
    pub fn run(&self, args: &[&str], limit: Duration) -> Result<String, CtlError> {
        let shown = args.join(" ");
        let child = Command::new(&self.bin)
            .arg("ctl")
            .arg("--runtime-dir")
            .arg(&self.runtime_dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| CtlError::Spawn {
                args: shown.clone(),
                source,
            })?;
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        // wait_with_output drains both pipes, so a long answer cannot block the child.
        std::thread::spawn(move || {
            if let Err(mpsc::SendError(late)) = tx.send(child.wait_with_output()) {
                // Finished after its time limit: the caller already reported a timeout.
                drop(late);
            }
        });
        let output: Output = match rx.recv_timeout(limit) {
            Ok(result) => result.map_err(|source| CtlError::Spawn {
                args: shown.clone(),
                source,
            })?,
            Err(_) => {
                crate::procs::kill(pid);
                return Err(CtlError::Timeout {
                    args: shown,
                    after: limit,
                });
            }
        };
        if !output.status.success() {
            return Err(CtlError::Failed {
                args: shown,
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `ctl status --json`.
    pub fn status(&self) -> Result<Value, CtlError> {
        let out = self.run(&["status", "--json"], QUICK)?;
        serde_json::from_str(&out).map_err(|e| CtlError::Output {
            args: "status --json".into(),
            why: e.to_string(),
        })
    }

    /// `ctl send POD TEXT`: a whole turn, which must end well.
    pub fn send(&self, pod: &str, text: &str) -> Result<(), CtlError> {
        self.run(&["send", pod, text], TURN).map(drop)
    }

    /// The texts of every user input committed in `pod`'s session log (`ctl --json logs`).
    pub fn user_inputs(&self, pod: &str) -> Result<BTreeSet<String>, CtlError> {
        let out = self.run(&["--json", "logs", pod], QUICK)?;
        let mut texts = BTreeSet::new();
        for line in out.lines() {
            let Ok(value) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if let Some(text) = value["event"]["Committed"]["item"]["User"]["text"].as_str() {
                texts.insert(text.to_owned());
            }
        }
        Ok(texts)
    }
}
