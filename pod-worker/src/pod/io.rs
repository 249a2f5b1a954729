//! The pod's socket to the root: fd 3, the handshake, and reader/writer tasks so the main
//! loop can `select!` on frames without cancelling a half-read one.

use std::os::fd::{FromRawFd, OwnedFd};

use podsup_wire::frame::{FrameError, read_frame, write_frame};
use podsup_wire::{Hello, Init, PROTOCOL_VERSION, PodToRoot, RootToPod};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::POD_FD;
use crate::engine::EngineError;
use crate::session_log::LogError;

/// Why a pod ended with a failure.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    /// fd 3 is not a socket.
    #[error("no usable socket: {0}")]
    NoSocket(std::io::Error),
    /// The link to the root failed.
    #[error("link to root failed: {0}")]
    Link(#[from] FrameError),
    /// The root broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// Local setup failed.
    #[error("{0}")]
    Setup(std::io::Error),
    /// The session log cannot be used.
    #[error("{0}")]
    Log(LogError),
    /// The engine cannot be built.
    #[error("engine: {0}")]
    Engine(EngineError),
}

/// Takes ownership of fd 3.
pub fn socket() -> Result<UnixStream, PodError> {
    // SAFETY: fd 3 is handed to us by the root; we take ownership of it exactly once.
    let fd = unsafe { OwnedFd::from_raw_fd(POD_FD) };
    let std_stream = std::os::unix::net::UnixStream::from(fd);
    // Reject an fd 3 that is not a connected socket before talking.
    std_stream.peer_addr().map_err(PodError::NoSocket)?;
    std_stream
        .set_nonblocking(true)
        .map_err(PodError::NoSocket)?;
    UnixStream::from_std(std_stream).map_err(PodError::NoSocket)
}

/// `Hello` → `Init`.
pub async fn handshake(stream: &mut UnixStream) -> Result<Init, PodError> {
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
    };
    write_frame(stream, &PodToRoot::Hello(hello)).await?;
    match read_frame::<RootToPod, _>(stream).await? {
        Some(RootToPod::Init(init)) => Ok(init),
        Some(other) => Err(PodError::Protocol(format!("expected Init, got {other:?}"))),
        None => Err(PodError::Protocol(
            "root closed the socket before Init".into(),
        )),
    }
}

type Frames = mpsc::UnboundedReceiver<Result<RootToPod, FrameError>>;

/// Splits the socket into a frame receiver, a frame sender and the writer task.
pub fn split(stream: UnixStream) -> (Frames, mpsc::UnboundedSender<PodToRoot>, JoinHandle<()>) {
    let (mut rd, mut wr) = stream.into_split();
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match read_frame::<RootToPod, _>(&mut rd).await {
                Ok(Some(frame)) => {
                    if in_tx.send(Ok(frame)).is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if in_tx.send(Err(e)).is_err() {
                        tracing::debug!("pod loop gone before a link error");
                    }
                    break;
                }
            }
        }
    });
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<PodToRoot>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if let Err(e) = write_frame(&mut wr, &frame).await {
                tracing::debug!(%e, "root link write failed");
                break;
            }
        }
    });
    (in_rx, out_tx, writer)
}

/// Waits until every queued frame is written (the sender must be dropped first).
pub async fn flush(writer: JoinHandle<()>) {
    if let Err(e) = writer.await {
        tracing::debug!(%e, "writer task failed");
    }
}
