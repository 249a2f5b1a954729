//! The guard: a small process (`podsup guard`) that outlives a killed root just long enough
//! to kill every process group the root had running.
//!
//! `PR_SET_PDEATHSIG` kills each child when the root dies, but not what that child started
//! in its group (a shell's background job, a tool's subprocess). The root tells the guard
//! each group it starts (`+PGID`) and reaps (`-PGID`) over a pipe; when the pipe reads EOF —
//! the root exited, however it died — the guard sends SIGKILL to every group still listed.
//! It runs in its own process group and ignores terminal signals, so Ctrl-C on the root's
//! terminal reaches the root (which stops the tree in order) and not the guard.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, ExitCode, Stdio};
use std::sync::Mutex;

use nix::sys::signal::{SigHandler, Signal, killpg, signal};
use nix::unistd::Pid;

/// The root's end of the guard.
#[derive(Debug)]
pub struct Guard {
    pipe: Mutex<Option<ChildStdin>>,
}

impl Guard {
    /// Starts `exe guard`.
    pub fn start(exe: &std::path::Path) -> std::io::Result<Guard> {
        let mut command = Command::new(exe);
        for key in crate::spawn::STRIPPED_ENV {
            command.env_remove(key);
        }
        let mut child = command
            .arg("guard")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()?;
        let pipe = child.stdin.take();
        // The guard exits by itself on EOF; a thread reaps it so it is never a zombie.
        std::thread::Builder::new()
            .name("podsup-guard-reaper".into())
            .spawn(move || {
                if let Err(e) = child.wait() {
                    tracing::warn!(%e, "cannot reap the guard");
                }
            })?;
        Ok(Guard {
            pipe: Mutex::new(pipe),
        })
    }

    fn tell(&self, line: String) {
        let mut pipe = self.pipe.lock().unwrap_or_else(|p| p.into_inner());
        let Some(writer) = pipe.as_mut() else {
            return;
        };
        if let Err(e) = writer.write_all(line.as_bytes()) {
            tracing::error!(%e, "the guard is gone: children's process groups will not be cleaned up if podsup is killed");
            *pipe = None;
        }
    }

    /// A child leading process group `pgid` was started.
    pub fn watch(&self, pgid: u32) {
        self.tell(format!("+{pgid}\n"));
    }

    /// The child leading `pgid` was reaped and its group killed.
    pub fn unwatch(&self, pgid: u32) {
        self.tell(format!("-{pgid}\n"));
    }
}

/// `podsup guard`: the guard process itself.
pub fn main() -> ExitCode {
    for sig in [
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGTERM,
        Signal::SIGPIPE,
    ] {
        // SAFETY: setting a signal to SIG_IGN installs no handler code.
        if let Err(e) = unsafe { signal(sig, SigHandler::SigIgn) } {
            eprintln!("podsup guard: cannot ignore {sig}: {e}");
        }
    }
    let mut groups: HashMap<i32, u32> = HashMap::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let (sign, number) = line.split_at(line.len().min(1));
        let Ok(pgid) = number.parse::<i32>() else {
            eprintln!("podsup guard: ignoring malformed line {line:?}");
            continue;
        };
        match sign {
            "+" => *groups.entry(pgid).or_default() += 1,
            "-" => {
                if let Some(count) = groups.get_mut(&pgid) {
                    *count -= 1;
                    if *count == 0 {
                        groups.remove(&pgid);
                    }
                }
            }
            _ => eprintln!("podsup guard: ignoring malformed line {line:?}"),
        }
    }
    for pgid in groups.keys() {
        match killpg(Pid::from_raw(*pgid), Signal::SIGKILL) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => eprintln!("podsup guard: cannot kill process group {pgid}: {e}"),
        }
    }
    ExitCode::SUCCESS
}
