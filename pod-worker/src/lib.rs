//! The pod process (`podsup pod-worker`): started by the root with its socketpair end on
//! fd 3, it performs the handshake and then serves methods until it is told to shut down,
//! its socket closes, or it receives SIGTERM.

pub mod controller;
pub mod engine;
pub mod orchestra;
mod pod;
pub mod registry;
pub mod root_client;
pub mod session_log;

use std::process::ExitCode;

pub use pod::PodError;

/// The fd the root places the pod's socketpair end on.
pub const POD_FD: i32 = 3;

/// Entry point of `podsup pod-worker`.
pub fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PODSUP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pod-worker: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(pod::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(PodError::NoSocket(e)) => {
            eprintln!(
                "pod-worker: no socket on fd {POD_FD} ({e}); pods are started by `podsup start`, not by hand"
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("pod-worker: {e}");
            ExitCode::from(1)
        }
    }
}
