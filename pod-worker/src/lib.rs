//! The pod process (`podsup pod-worker`): started by the root with its socketpair end on
//! fd 3, it performs the handshake and then serves methods until it is told to shut down,
//! its socket closes, or it receives SIGTERM.

pub mod controller;
pub mod engine;
mod hostile;
pub mod orchestra;
mod pod;
mod process_tree;
pub mod registry;
pub mod root_client;
pub mod session_log;
pub mod tools;

use std::process::ExitCode;

pub use pod::PodError;

/// The fd the root places the pod's socketpair end on.
pub const POD_FD: i32 = 3;

/// Environment variable naming a directory where the pod records, for benchmarks, when it
/// started (`DIR/PID`) and when it sent `Ready` (`DIR/PID.ready`): CLOCK_MONOTONIC
/// nanoseconds as decimal text. Unset, nothing is written.
pub const START_STAMP_ENV: &str = "PODSUP_START_STAMP";

/// Writes `DIR/PID{suffix}` with the current CLOCK_MONOTONIC time if [`START_STAMP_ENV`]
/// is set. The clock is read first, so the stamp does not include its own file I/O.
pub(crate) fn stamp(suffix: &str) {
    let Some(dir) = std::env::var_os(START_STAMP_ENV) else {
        return;
    };
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let nanos = now.tv_sec as u128 * 1_000_000_000 + now.tv_nsec as u128;
    let path = std::path::Path::new(&dir).join(format!("{}{suffix}", std::process::id()));
    if let Err(e) = std::fs::write(&path, nanos.to_string()) {
        eprintln!("pod-worker: cannot write {}: {e}", path.display());
    }
}

/// Entry point of `podsup pod-worker`.
pub fn main() -> ExitCode {
    // Test-only: a pod that misbehaves on purpose, for the root's hostile-input tests.
    if let Some(mode) = hostile::requested() {
        return hostile::run(&mode);
    }
    stamp("");
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
