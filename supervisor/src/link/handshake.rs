//! The root's side of the handshake: `Hello` → `Init` → `Ready`.

use podsup_wire::frame::{FrameError, read_frame, write_frame};
use podsup_wire::{Init, PROTOCOL_VERSION, PodToRoot, RootToPod};
use tokio::net::UnixStream;

/// What can go wrong in the handshake.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// Bytes that are not a frame of the protocol.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The pod closed its socket.
    #[error("pod closed its socket during the handshake")]
    Closed,
    /// The pod speaks another protocol version.
    #[error("pod speaks protocol {pod}, this root speaks {PROTOCOL_VERSION}")]
    Version {
        /// The pod's version.
        pod: u32,
    },
    /// The pod could not start and said why.
    #[error("{0}")]
    PodFailed(String),
    /// A frame that does not belong at this point.
    #[error("expected {expected}, got {got}")]
    Unexpected {
        /// What the root waited for.
        expected: &'static str,
        /// What came instead.
        got: String,
    },
}

async fn next(stream: &mut UnixStream) -> Result<PodToRoot, HandshakeError> {
    read_frame(stream).await?.ok_or(HandshakeError::Closed)
}

/// Runs the handshake to `Ready`.
pub async fn run(stream: &mut UnixStream, init: Init) -> Result<(), HandshakeError> {
    match next(stream).await? {
        PodToRoot::Hello(hello) if hello.protocol == PROTOCOL_VERSION => {}
        PodToRoot::Hello(hello) => {
            return Err(HandshakeError::Version {
                pod: hello.protocol,
            });
        }
        other => {
            return Err(HandshakeError::Unexpected {
                expected: "Hello",
                got: format!("{other:?}").chars().take(80).collect(),
            });
        }
    }
    write_frame(stream, &RootToPod::Init(init)).await?;
    match next(stream).await? {
        PodToRoot::Ready => Ok(()),
        PodToRoot::Event(podsup_wire::Event::Error { message, .. }) => {
            Err(HandshakeError::PodFailed(message))
        }
        other => Err(HandshakeError::Unexpected {
            expected: "Ready",
            got: format!("{other:?}").chars().take(80).collect(),
        }),
    }
}
