//! **Test-only**: a pod that misbehaves on purpose, so the root's defences against a
//! hostile or broken pod can be tested on real processes (`tests/tests/hostile.rs`).
//!
//! When [`HOSTILE_ENV`] is set in a pod's environment (`env = { PODSUP_TEST_HOSTILE =
//! "garbage" }` in a tree file), `podsup pod-worker` runs [`run`] instead of the normal pod.
//! Nothing in podsup sets it; it exists for tests and the chaos harness only, and a
//! production tree must never set it. Every mode keeps the process alive after misbehaving
//! (parked, never exiting by itself), so it is the root that has to notice and kill it:
//!
//! | mode           | what the pod does                                                  |
//! |----------------|--------------------------------------------------------------------|
//! | `garbage`      | handshake, then a frame whose body is not a message                |
//! | `huge-frame`   | handshake, then a length prefix announcing 4 GiB (`u32::MAX`)      |
//! | `flood`        | handshake, then `TextDelta` events as fast as the socket takes them |
//! | `forge-name`   | handshake, then pod events claiming [`TARGET_ENV`]'s name          |
//! | `no-handshake` | never sends `Hello`                                                |
//! | `close-socket` | handshake, then closes fd 3 and keeps running                      |
//!
//! With [`ARM_ENV`] naming a file, the pod misbehaves only while that file exists and is a
//! normal pod otherwise, so a test can bring a tree up first and turn a pod hostile later
//! (a pod that fails its handshake at boot makes `podsup start` fail).

use std::convert::Infallible;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::str::FromStr;

use podsup_wire::frame::{FrameError, encode_frame, read_frame_blocking, write_frame_blocking};
use podsup_wire::{Event, Hello, PROTOCOL_VERSION, PodEvent, PodToRoot, RootToPod};

use crate::POD_FD;

/// Environment variable selecting a hostile [`Mode`] (test-only).
pub const HOSTILE_ENV: &str = "PODSUP_TEST_HOSTILE";

/// Environment variable naming a file: the pod is hostile only while it exists (test-only).
pub const ARM_ENV: &str = "PODSUP_TEST_HOSTILE_ARM";

/// Environment variable with the pod name that `forge-name` claims (default `victim`).
pub const TARGET_ENV: &str = "PODSUP_TEST_HOSTILE_TARGET";

/// How the pod misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A frame whose body decodes as no message, after the handshake.
    Garbage,
    /// A length prefix of `u32::MAX` bytes, after the handshake.
    HugeFrame,
    /// An endless stream of `TextDelta` events, after the handshake.
    Flood,
    /// Pod events that name another pod, after the handshake.
    ForgeName,
    /// No `Hello`, ever.
    NoHandshake,
    /// Closes its socket after the handshake and keeps running.
    CloseSocket,
}

impl Mode {
    /// Every mode with its name in [`HOSTILE_ENV`].
    pub const ALL: [(&'static str, Mode); 6] = [
        ("garbage", Mode::Garbage),
        ("huge-frame", Mode::HugeFrame),
        ("flood", Mode::Flood),
        ("forge-name", Mode::ForgeName),
        ("no-handshake", Mode::NoHandshake),
        ("close-socket", Mode::CloseSocket),
    ];
}

/// Why the hostile pod stopped misbehaving (normally it is killed first).
#[derive(Debug, thiserror::Error)]
pub enum HostileError {
    /// [`HOSTILE_ENV`] names no mode.
    #[error(
        "unknown {HOSTILE_ENV} mode {0:?} (expected one of: garbage, huge-frame, flood, forge-name, no-handshake, close-socket)"
    )]
    UnknownMode(String),
    /// fd 3 is not a socket.
    #[error("no usable socket on fd {POD_FD}: {0}")]
    NoSocket(std::io::Error),
    /// The socket failed (the root closed it, usually).
    #[error("link to root: {0}")]
    Link(#[from] FrameError),
    /// The root did not answer `Hello` with `Init`.
    #[error("expected Init, got {0}")]
    NoInit(String),
}

impl FromStr for Mode {
    type Err = HostileError;

    fn from_str(s: &str) -> Result<Mode, HostileError> {
        Mode::ALL
            .iter()
            .find(|(name, _)| *name == s)
            .map(|&(_, mode)| mode)
            .ok_or_else(|| HostileError::UnknownMode(s.to_owned()))
    }
}

/// The hostile mode this process should run, if any: [`HOSTILE_ENV`], unless [`ARM_ENV`]
/// names a file that does not exist.
pub fn requested() -> Option<String> {
    let mode = std::env::var(HOSTILE_ENV).ok()?;
    match std::env::var_os(ARM_ENV) {
        Some(arm) if !std::path::Path::new(&arm).exists() => None,
        Some(_) | None => Some(mode),
    }
}

/// Runs the hostile pod in `mode` until it is killed (or its socket fails).
pub fn run(mode: &str) -> ExitCode {
    eprintln!("pod-worker: test-only hostile mode {mode:?} ({HOSTILE_ENV})");
    let outcome = mode.parse::<Mode>().and_then(misbehave);
    match outcome {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("pod-worker (hostile): {e}");
            ExitCode::from(1)
        }
    }
}

fn misbehave(mode: Mode) -> Result<Infallible, HostileError> {
    let mut socket = socket()?;
    if mode == Mode::NoHandshake {
        // Hold the socket open and say nothing: only the start deadline ends this.
        park(socket);
    }
    handshake(&mut socket)?;
    match mode {
        Mode::Garbage => {
            // Variant 200 of a seven-variant enum, in a well-framed body.
            socket
                .write_all(&[4, 0, 0, 0, 200, 1, 2, 3])
                .map_err(FrameError::Io)?;
            park(socket)
        }
        Mode::HugeFrame => {
            socket
                .write_all(&u32::MAX.to_le_bytes())
                .map_err(FrameError::Io)?;
            park(socket)
        }
        Mode::Flood => flood(socket),
        Mode::ForgeName => forge(socket),
        Mode::CloseSocket => {
            drop(socket);
            park(())
        }
        Mode::NoHandshake => unreachable!("handled before the handshake"),
    }
}

/// Takes ownership of fd 3.
fn socket() -> Result<UnixStream, HostileError> {
    // SAFETY: fd 3 is handed to us by the root; we take ownership of it exactly once.
    let fd = unsafe { OwnedFd::from_raw_fd(POD_FD) };
    let stream = UnixStream::from(fd);
    stream.peer_addr().map_err(HostileError::NoSocket)?;
    Ok(stream)
}

/// `Hello` → `Init` → `Ready`, as a well-behaved pod would.
fn handshake(socket: &mut UnixStream) -> Result<(), HostileError> {
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
    };
    write_frame_blocking(socket, &PodToRoot::Hello(hello))?;
    match read_frame_blocking::<RootToPod, _>(socket)? {
        Some(RootToPod::Init(_)) => {}
        other => return Err(HostileError::NoInit(format!("{other:?}"))),
    }
    write_frame_blocking(socket, &PodToRoot::Ready)?;
    Ok(())
}

/// Writes `TextDelta` events until the socket fails.
fn flood(mut socket: UnixStream) -> Result<Infallible, HostileError> {
    let delta = PodToRoot::Event(Event::TextDelta {
        text: "flood ".repeat(8),
    });
    let batch = encode_frame(&delta)?.repeat(256);
    loop {
        socket.write_all(&batch).map_err(FrameError::Io)?;
    }
}

/// Sends pod events about [`TARGET_ENV`]'s pod (each only its own pod or the root may
/// send), then reads and ignores frames until the root closes the socket.
fn forge(mut socket: UnixStream) -> Result<Infallible, HostileError> {
    let target = std::env::var(TARGET_ENV).unwrap_or_else(|_| "victim".to_owned());
    let forged = [
        PodEvent::TurnEnded {
            pod_name: target.clone(),
        },
        PodEvent::Errored {
            pod_name: target.clone(),
            message: "forged".to_owned(),
        },
        PodEvent::ShutDown {
            pod_name: target.clone(),
        },
        PodEvent::Reclaimed { pod_name: target },
    ];
    for event in forged {
        write_frame_blocking(&mut socket, &PodToRoot::PodEvent(event))?;
    }
    while read_frame_blocking::<RootToPod, _>(&mut socket)?.is_some() {}
    park(socket)
}

/// Keeps `held` (the socket, usually) and the process alive until something kills it.
fn park<T>(held: T) -> ! {
    // Never dropped: the socket stays open until the process is killed.
    std::mem::forget(held);
    loop {
        std::thread::park();
    }
}
