//! The `podsup` command line. `anyhow` lives here and nowhere else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use podsup_wire::CtlRequest;

use crate::ctl::client;
use crate::ctl::output::Printer;
use crate::daemon::{self, RunError, StartOptions};
use crate::paths;

/// Exit code for usage errors and invalid configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for runtime failures.
pub const EXIT_FAILURE: u8 = 1;

/// Erlang/OTP-style supervisor for LLM-agent pods.
#[derive(Debug, Parser)]
#[command(name = "podsup", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a supervision tree in the foreground until shutdown.
    Start {
        /// The tree file (tree.toml).
        tree: PathBuf,
        /// Directory for the ctl socket and pid file.
        #[arg(long, value_name = "DIR")]
        runtime_dir: Option<PathBuf>,
        /// Directory for durable state (session logs, operator intent).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Validate a tree file and print the tree.
    Check {
        /// The tree file.
        tree: PathBuf,
    },
    /// Control a running tree.
    Ctl {
        /// Runtime dir of the running `podsup start` (default: as `podsup start`).
        #[arg(long, value_name = "DIR", global = true)]
        runtime_dir: Option<PathBuf>,
        /// Print JSON: the status object, or one object per line for streamed events.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        verb: CtlVerb,
    },
    /// Run as a pod (started by the root with its socket on fd 3; not for people).
    #[command(hide = true)]
    PodWorker,
    /// Run as the root's guard (started by the root; not for people).
    #[command(hide = true)]
    Guard,
}

#[derive(Debug, Subcommand)]
enum CtlVerb {
    /// Show the tree: every supervisor and child with state, pid, generation, restarts.
    Status,
    /// Start a stopped child (it is no longer held down).
    Start {
        /// Child name.
        name: String,
    },
    /// Stop a child; it stays stopped until `ctl start`.
    Stop {
        /// Child name.
        name: String,
    },
    /// Stop and start a child.
    Restart {
        /// Child name.
        name: String,
    },
    /// Stop the whole tree in reverse start order; `podsup start` exits 0.
    Shutdown,
    /// Start a turn in a pod and print the reply as it streams.
    Send {
        /// Pod name.
        name: String,
        /// The input.
        text: String,
        /// Return as soon as the input is committed to the pod's log.
        #[arg(long)]
        no_wait: bool,
    },
    /// Give a pod a notification (it starts a turn by itself when idle).
    Notify {
        /// Pod name.
        name: String,
        /// The message.
        message: String,
    },
    /// Pause a pod's running turn.
    Pause {
        /// Pod name.
        name: String,
    },
    /// Resume a paused pod.
    Resume {
        /// Pod name.
        name: String,
    },
    /// Cancel a pod's running (or paused) turn.
    Cancel {
        /// Pod name.
        name: String,
    },
    /// Print a pod's snapshot, then its live events until Ctrl-C.
    Attach {
        /// Pod name.
        name: String,
    },
    /// Spawn a pod under a running pod (as its `spawn_pod` tool would).
    Spawn {
        /// The spawning pod.
        parent: String,
        /// The new pod's name; it becomes PARENT/NAME.
        name: String,
        /// `echo`, or the parent's own engine, which the child inherits.
        #[arg(long, default_value = "echo")]
        engine: String,
        /// permanent, transient or temporary.
        #[arg(long, default_value = "temporary")]
        restart: String,
    },
    /// Re-read the tree file and apply the difference (SIGHUP does the same).
    Reload {
        /// Print the plan without applying it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Describe a pod: state, spawner, spawned pods, engine.
    Inspect {
        /// Pod name.
        name: String,
    },
    /// Print a pod's committed history, or with --output a pod's or process's captured
    /// stdout/stderr.
    Logs {
        /// Pod (or, with --output, process) name.
        name: String,
        /// Keep printing new entries (lines).
        #[arg(short = 'f', long)]
        follow: bool,
        /// Only the last N entries (lines).
        #[arg(short = 'n', long, value_name = "N")]
        lines: Option<u32>,
        /// The captured stdout/stderr (`TIME out|err|sup TEXT` lines) instead of the
        /// committed history.
        #[arg(long)]
        output: bool,
    },
}

/// Entry point of the `podsup` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::PodWorker => podsup_pod_worker::main(),
        Command::Guard => crate::guard::main(),
        Command::Check { tree } => check(&tree),
        Command::Start {
            tree,
            runtime_dir,
            state_dir,
        } => start(StartOptions {
            tree,
            runtime_dir,
            state_dir,
        }),
        Command::Ctl {
            runtime_dir,
            json,
            verb,
        } => ctl(runtime_dir, verb, json),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PODSUP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Blocking threads the root may run at once: output writers' file appends and `ctl logs`
/// reads. Bounded, so a thousand children's first lines do not start a thread each; a
/// writer waiting for a thread only fills its queue (and drops lines), never blocks a pod.
const MAX_BLOCKING_THREADS: usize = 32;

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
}

fn check(tree: &std::path::Path) -> ExitCode {
    match podsup_config::load(tree) {
        Ok(tree) => {
            println!("{tree}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn start(opts: StartOptions) -> ExitCode {
    init_logging();
    crate::heap::limit_arenas();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("podsup: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let outcome = rt.block_on(daemon::run(opts));
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ (RunError::Config(_) | RunError::InvalidTree(_))) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("podsup: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn ctl(runtime_dir: Option<PathBuf>, verb: CtlVerb, json: bool) -> ExitCode {
    // Like any filter: `podsup ctl logs pod | head` ends quietly when head is done.
    // SAFETY: restoring the default disposition of SIGPIPE installs no handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let dir = paths::runtime_dir(runtime_dir.as_deref());
    let request = match verb {
        CtlVerb::Status => CtlRequest::Status,
        CtlVerb::Start { name } => CtlRequest::Start { name },
        CtlVerb::Stop { name } => CtlRequest::Stop { name },
        CtlVerb::Restart { name } => CtlRequest::Restart { name },
        CtlVerb::Shutdown => CtlRequest::Shutdown,
        CtlVerb::Send {
            name,
            text,
            no_wait,
        } => CtlRequest::Send {
            name,
            text,
            wait: !no_wait,
        },
        CtlVerb::Notify { name, message } => CtlRequest::Notify { name, message },
        CtlVerb::Pause { name } => CtlRequest::Pause { name },
        CtlVerb::Resume { name } => CtlRequest::Resume { name },
        CtlVerb::Cancel { name } => CtlRequest::Cancel { name },
        CtlVerb::Attach { name } => CtlRequest::Attach { name },
        CtlVerb::Spawn {
            parent,
            name,
            engine,
            restart,
        } => CtlRequest::Spawn {
            parent,
            name,
            engine,
            restart,
        },
        CtlVerb::Inspect { name } => CtlRequest::Inspect { name },
        CtlVerb::Reload { dry_run } => CtlRequest::Reload { dry_run },
        CtlVerb::Logs {
            name,
            follow,
            lines,
            output,
        } => CtlRequest::Logs {
            name,
            follow,
            last: lines,
            output,
        },
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("podsup: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let history = matches!(request, CtlRequest::Logs { .. });
    let mut printer = Printer::new(json, history);
    let outcome = rt.block_on(async {
        let mut conversation = client::send(&dir, &request).await?;
        while let Some(response) = conversation.next().await? {
            if let Some(code) = printer.print(response) {
                return Ok(code);
            }
        }
        Err(client::ClientError::NoAnswer)
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            printer.finish_line();
            eprintln!("podsup ctl: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
