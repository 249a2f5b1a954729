//! The client side of ctl: connect, send one request, read the answers.

use std::io;
use std::path::{Path, PathBuf};

use podsup_wire::frame::{read_frame, write_frame};
use podsup_wire::{CtlRequest, CtlResponse};
use tokio::net::UnixStream;

/// Why ctl could not talk to a root.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No socket at the path.
    #[error(
        "no podsup is running with runtime dir {dir}: {socket} does not exist (start one with `podsup start TREE`, or pass --runtime-dir / PODSUP_RUNTIME_DIR)"
    )]
    NotRunning {
        /// The runtime dir.
        dir: PathBuf,
        /// The socket path.
        socket: PathBuf,
    },
    /// The socket exists, nobody listens.
    #[error(
        "podsup at {socket} is not answering (connection refused): it has exited and left a stale socket"
    )]
    Refused {
        /// The socket path.
        socket: PathBuf,
    },
    /// Not allowed by file permissions.
    #[error(
        "permission denied on {socket}: ctl must run as the user that runs `podsup start`, or as root"
    )]
    Permission {
        /// The socket path.
        socket: PathBuf,
    },
    /// Any other connection problem.
    #[error("cannot connect to {socket}: {source}")]
    Connect {
        /// The socket path.
        socket: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The conversation broke.
    #[error("ctl connection to {socket} failed: {source}")]
    Frame {
        /// The socket path.
        socket: PathBuf,
        /// The error.
        #[source]
        source: podsup_wire::FrameError,
    },
    /// The root closed the connection without answering.
    #[error("podsup closed the ctl connection without answering")]
    NoAnswer,
}

/// An open ctl conversation.
#[derive(Debug)]
pub struct Conversation {
    stream: UnixStream,
    socket: PathBuf,
}

impl Conversation {
    /// The next answer frame, `None` at end of conversation.
    pub async fn next(&mut self) -> Result<Option<CtlResponse>, ClientError> {
        read_frame(&mut self.stream)
            .await
            .map_err(|source| ClientError::Frame {
                socket: self.socket.clone(),
                source,
            })
    }
}

/// Connects to the root whose runtime dir is `dir` and sends `request`.
pub async fn send(dir: &Path, request: &CtlRequest) -> Result<Conversation, ClientError> {
    let socket = dir.join(crate::paths::CTL_SOCKET);
    let mut stream = match UnixStream::connect(&socket).await {
        Ok(stream) => stream,
        Err(e) => {
            return Err(match e.kind() {
                io::ErrorKind::NotFound => ClientError::NotRunning {
                    dir: dir.to_owned(),
                    socket,
                },
                io::ErrorKind::ConnectionRefused => ClientError::Refused { socket },
                io::ErrorKind::PermissionDenied => ClientError::Permission { socket },
                _ => ClientError::Connect { socket, source: e },
            });
        }
    };
    write_frame(&mut stream, request)
        .await
        .map_err(|source| ClientError::Frame {
            socket: socket.clone(),
            source,
        })?;
    Ok(Conversation { stream, socket })
}

/// Sends `request` and returns the single answer.
pub async fn call(dir: &Path, request: &CtlRequest) -> Result<CtlResponse, ClientError> {
    let mut conversation = send(dir, request).await?;
    conversation.next().await?.ok_or(ClientError::NoAnswer)
}
