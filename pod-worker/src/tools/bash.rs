//! `bash`: a shell command in the pod's directory, with a time limit, an output cap and a
//! spill file, killed with everything it started on timeout or cancel; and `read_spill`,
//! which reads a spill file back.

mod capture;

use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::Mode;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use capture::{Capture, spill_name};

use super::fs::{Fs, regular};
use super::text::{Window, read_lines};
use super::{ToolCtx, ToolError, opt_count, parse, text};
use crate::engine::llm::tools::{Tool, ToolFuture, ToolOutcome};
use crate::process_tree::terminate;

/// Time limit when the call names none.
const DEFAULT_TIMEOUT: u64 = 60;
/// Longest time limit a call may ask for.
const MAX_TIMEOUT: u64 = 600;
/// How long output is still read once the command has exited or been killed: a process
/// it left in the background may hold the pipe open for ever.
const DRAIN: Duration = Duration::from_millis(500);

/// The `bash` tool of one pod.
pub(super) struct Bash {
    ctx: ToolCtx,
    spills: Arc<AtomicU64>,
}

impl Bash {
    /// `bash` working in `ctx.root`, spilling to `ctx.spill_dir`.
    pub(super) fn new(ctx: ToolCtx) -> Bash {
        Bash {
            ctx,
            spills: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl Tool for Bash {
    fn name(&self) -> &str {
        "bash"
    }

    fn description(&self) -> &str {
        "Run a shell command (bash -c; sh -c where bash is missing) in your directory, stdin empty, stdout and stderr together. It runs with your process's OS permissions, not confined to paths, so it is only available while you hold write on your whole directory. Time limit timeout_secs (default 60, at most 600): the command and everything it started are killed when it runs out or the turn is cancelled. Long output shows its first and last 16 KiB; the whole is kept for read_spill."
    }

    fn parameters(&self) -> String {
        r#"{"type":"object","properties":{"command":{"type":"string"},"timeout_secs":{"type":"integer","minimum":1,"maximum":600}},"required":["command"]}"#.to_owned()
    }

    fn call(&self, arguments: String, cancel: CancellationToken) -> ToolFuture<'_> {
        Box::pin(async move {
            match self.start(&arguments) {
                Ok(run) => {
                    // The command is watched by its own task, so a turn that stops
                    // awaiting this future (cancel) or drops it still gets it killed.
                    let stop = cancel.child_token();
                    let _kill_if_dropped = stop.clone().drop_guard();
                    match tokio::spawn(run.supervise(stop)).await {
                        Ok(outcome) => outcome,
                        Err(e) => {
                            ToolOutcome::error(format!("bash: the command's watcher failed: {e}"))
                        }
                    }
                }
                Err(e) => ToolOutcome::error(e.to_string()),
            }
        })
    }
}

impl Bash {
    /// Checks the call and starts the command.
    fn start(&self, arguments: &str) -> Result<Running, ToolError> {
        let args = parse(arguments)?;
        let command = text(&args, "command")?;
        let secs = opt_count(&args, "timeout_secs")?
            .unwrap_or(DEFAULT_TIMEOUT)
            .min(MAX_TIMEOUT);
        self.ctx.view().check_bash()?;
        let (child, output) = spawn(&self.ctx, command).map_err(|e| {
            ToolError::io(
                format!("cannot start the shell in {}", self.ctx.root.display()),
                e,
            )
        })?;
        Ok(Running {
            child,
            output,
            limit: Duration::from_secs(secs),
            capture: Capture::new(self.ctx.spill_dir.clone(), self.spills.clone()),
        })
    }
}

/// `bash -c command` (or `sh -c`) in the pod's directory, stdin empty, stdout and stderr on
/// one pipe, without the pod's hidden variables. It stays in the pod's process group and
/// dies with the pod (`PR_SET_PDEATHSIG`).
fn spawn(ctx: &ToolCtx, command: &str) -> io::Result<(Child, pipe::Receiver)> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    let mut missing = None;
    for shell in ["bash", "sh"] {
        let mut cmd = Command::new(shell);
        for var in &ctx.hidden_env {
            cmd.env_remove(var);
        }
        cmd.arg("-c")
            .arg(command)
            .current_dir(&ctx.root)
            .stdin(Stdio::null())
            .stdout(Stdio::from(write.try_clone()?))
            .stderr(Stdio::from(write.try_clone()?))
            .kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe; it makes the command die with this pod.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        match cmd.spawn() {
            // `cmd` and `write` close here, so the pipe ends when the command's side does.
            Ok(child) => return Ok((child, pipe::Receiver::from_owned_fd(read)?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(missing.unwrap_or_else(|| io::Error::from(io::ErrorKind::NotFound)))
}

/// How a command ended.
enum Ending {
    /// By itself; `held_open` if something it left behind still held its output.
    Exited { status: ExitStatus, held_open: bool },
    /// The time limit ran out.
    TimedOut,
    /// The turn was cancelled, or the call dropped.
    Cancelled,
    /// Waiting for it failed.
    Lost(io::Error),
}

/// A started command.
struct Running {
    child: Child,
    output: pipe::Receiver,
    limit: Duration,
    capture: Capture,
}

impl Running {
    /// Runs the command to its end, killing its tree on timeout or `stop`.
    async fn supervise(mut self, stop: CancellationToken) -> ToolOutcome {
        let pid = self.child.id().unwrap_or(0);
        let ending = self.pump(Instant::now() + self.limit, &stop).await;
        if matches!(ending, Ending::TimedOut | Ending::Cancelled) {
            terminate(&mut self.child, pid).await;
            self.drain().await;
        }
        let (status, failed) = match &ending {
            Ending::Exited { status, held_open } => {
                let how = match status.code() {
                    Some(code) => format!("exit code {code}"),
                    None => format!("killed by {}", signal_name(*status)),
                };
                let held = if *held_open {
                    "; a process it started still holds its output open, and was left running"
                } else {
                    ""
                };
                (format!("{how}{held}"), false)
            }
            Ending::TimedOut => (
                format!(
                    "timed out after {} s; the command and everything it started were killed",
                    self.limit.as_secs()
                ),
                true,
            ),
            Ending::Cancelled => (
                "cancelled; the command and everything it started were killed".to_owned(),
                true,
            ),
            Ending::Lost(e) => (format!("cannot wait for the command: {e}"), true),
        };
        let text = format!("[{status}]\n{}", self.capture.finish());
        if failed {
            ToolOutcome::error(text)
        } else {
            ToolOutcome::ok(text)
        }
    }

    /// Reads output until the command exits, the deadline passes or `stop` fires.
    async fn pump(&mut self, deadline: Instant, stop: &CancellationToken) -> Ending {
        let mut buf = vec![0u8; 16 * 1024];
        let mut open = true;
        let waited = loop {
            tokio::select! {
                read = self.output.read(&mut buf), if open => match read {
                    Ok(0) | Err(_) => open = false,
                    Ok(n) => self.capture.push(&buf[..n]),
                },
                status = self.child.wait() => break status,
                () = sleep_until(deadline) => return Ending::TimedOut,
                () = stop.cancelled() => return Ending::Cancelled,
            }
        };
        match waited {
            Ok(status) => Ending::Exited {
                status,
                held_open: open && !self.drain().await,
            },
            Err(e) => Ending::Lost(e),
        }
    }

    /// Reads what is left, for at most [`DRAIN`]; whether the output reached its end.
    async fn drain(&mut self) -> bool {
        let mut buf = vec![0u8; 16 * 1024];
        let rest = async {
            loop {
                match self.output.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => self.capture.push(&buf[..n]),
                }
            }
        };
        tokio::time::timeout(DRAIN, rest).await.is_ok()
    }
}

/// `SIGKILL` and the like, for a status that ended by a signal.
fn signal_name(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal().map(nix::sys::signal::Signal::try_from) {
        Some(Ok(signal)) => signal.as_str().to_owned(),
        Some(Err(_)) | None => "a signal".to_owned(),
    }
}

/// `read_spill {n, offset?, limit?}`: a window of lines from spill file `n`.
pub(super) fn read_spill(fs: &Fs, args: &Value) -> Result<String, ToolError> {
    let n = opt_count(args, "n")?
        .ok_or_else(|| ToolError::Arguments("missing integer argument \"n\"".into()))?;
    let window = Window::from_args(args)?;
    let name = spill_name(n);
    let opened = nix::fcntl::open(
        fs.spill_dir(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .and_then(|dir| {
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
        openat(&dir, name.as_str(), flags, Mode::empty())
    });
    let fd = match opened {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => {
            return Err(ToolError::Arguments(format!(
                "there is no spill file {n}; bash names the number when it spills"
            )));
        }
        Err(e) => return Err(ToolError::io(name, e.into())),
    };
    read_lines(regular(fd, Path::new(&name))?, window, &name)
}
