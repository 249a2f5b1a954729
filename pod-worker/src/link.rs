//! The pod's side of the socket: handshake, then the method loop.

use std::os::fd::{FromRawFd, OwnedFd};

use podsup_wire::frame::{FrameError, read_frame, write_frame};
use podsup_wire::{
    ErrorCode, Event, Hello, Init, Method, PROTOCOL_VERSION, PodEvent, PodToRoot, RootToPod,
};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::signal::unix::{SignalKind, signal};

use crate::POD_FD;

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
}

fn socket() -> Result<UnixStream, PodError> {
    // SAFETY: fd 3 is handed to us by the root; we take ownership of it exactly once.
    let fd = unsafe { OwnedFd::from_raw_fd(POD_FD) };
    let std_stream = std::os::unix::net::UnixStream::from(fd);
    std_stream.set_nonblocking(true).map_err(PodError::NoSocket)?;
    // Reject fd 3 that is not a connected socket before talking.
    std_stream.peer_addr().map_err(PodError::NoSocket)?;
    UnixStream::from_std(std_stream).map_err(PodError::NoSocket)
}

async fn handshake(stream: &mut UnixStream) -> Result<Init, PodError> {
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
    };
    write_frame(stream, &PodToRoot::Hello(hello)).await?;
    match read_frame::<RootToPod, _>(stream).await? {
        Some(RootToPod::Init(init)) => Ok(init),
        Some(other) => Err(PodError::Protocol(format!("expected Init, got {other:?}"))),
        None => Err(PodError::Protocol("root closed the socket before Init".into())),
    }
}

/// Runs the pod until shutdown.
pub async fn run() -> Result<(), PodError> {
    let mut stream = socket()?;
    let init = handshake(&mut stream).await?;
    let mut terms = signal(SignalKind::terminate()).map_err(PodError::Setup)?;
    write_frame(&mut stream, &PodToRoot::Ready).await?;
    let (mut rd, mut wr) = stream.into_split();
    loop {
        let frame = tokio::select! {
            frame = read_frame::<RootToPod, _>(&mut rd) => frame?,
            _ = terms.recv() => return shut_down(&mut wr, &init).await,
        };
        match frame {
            None => return Ok(()),
            Some(RootToPod::Method(Method::Shutdown)) => return shut_down(&mut wr, &init).await,
            Some(RootToPod::Method(method)) => {
                let refusal = Event::Error {
                    code: ErrorCode::InvalidRequest,
                    message: format!("{}: method {method:?} is not served by this pod", init.name),
                };
                write_frame(&mut wr, &PodToRoot::Event(refusal)).await?;
            }
            Some(RootToPod::Reply { id, .. }) => {
                return Err(PodError::Protocol(format!("reply {id} to a request never made")));
            }
            Some(RootToPod::Init(_)) => {
                return Err(PodError::Protocol("second Init".into()));
            }
        }
    }
}

/// Orderly exit: tell subscribers and the parent, then return (exit 0).
async fn shut_down(wr: &mut OwnedWriteHalf, init: &Init) -> Result<(), PodError> {
    write_frame(wr, &PodToRoot::Event(Event::Shutdown)).await?;
    let shut = PodEvent::ShutDown {
        pod_name: init.name.clone(),
    };
    write_frame(wr, &PodToRoot::PodEvent(shut)).await?;
    Ok(())
}
