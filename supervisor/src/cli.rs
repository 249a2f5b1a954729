//! The `podsup` command line. `anyhow` lives here and nowhere else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use podsup_wire::{CtlErrorKind, CtlRequest, CtlResponse};

use crate::ctl::{client, render};
use crate::daemon::{self, RunError, StartOptions};
use crate::paths;

/// Exit code for usage errors and invalid configuration.
const EXIT_USAGE: u8 = 2;
/// Exit code for runtime failures.
const EXIT_FAILURE: u8 = 1;

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
    Status {
        /// Print the documented JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
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
        Command::Ctl { runtime_dir, verb } => ctl(runtime_dir, verb),
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

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
        Err(RunError::Config(e)) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("podsup: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn ctl(runtime_dir: Option<PathBuf>, verb: CtlVerb) -> ExitCode {
    let dir = paths::runtime_dir(runtime_dir.as_deref());
    let (request, json) = match verb {
        CtlVerb::Status { json } => (CtlRequest::Status, json),
        CtlVerb::Start { name } => (CtlRequest::Start { name }, false),
        CtlVerb::Stop { name } => (CtlRequest::Stop { name }, false),
        CtlVerb::Restart { name } => (CtlRequest::Restart { name }, false),
        CtlVerb::Shutdown => (CtlRequest::Shutdown, false),
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
    match rt.block_on(client::call(&dir, &request)) {
        Ok(response) => print_response(response, json),
        Err(e) => {
            eprintln!("podsup ctl: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn print_response(response: CtlResponse, json: bool) -> ExitCode {
    match response {
        CtlResponse::Status { tree, root } if json => {
            println!("{}", render::status_json(&tree, &root));
            ExitCode::SUCCESS
        }
        CtlResponse::Status { tree, root } => {
            println!("{}", render::status_table(&tree, &root));
            ExitCode::SUCCESS
        }
        CtlResponse::Ok { message } => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        CtlResponse::Error(e) => {
            eprintln!("podsup ctl: {}", e.message);
            match e.kind {
                CtlErrorKind::BadRequest => ExitCode::from(EXIT_USAGE),
                CtlErrorKind::Refused
                | CtlErrorKind::NotFound
                | CtlErrorKind::InvalidState
                | CtlErrorKind::ShuttingDown
                | CtlErrorKind::Internal => ExitCode::from(EXIT_FAILURE),
            }
        }
        CtlResponse::Event { .. } | CtlResponse::Notice { .. } | CtlResponse::OutputLine { .. } => {
            eprintln!("podsup ctl: unexpected answer from podsup: {response:?}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
