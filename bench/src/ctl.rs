//! The ctl protocol spoken directly from the bench: one request per connection over the
//! root's ctl socket, podsup_wire frames both ways — what `podsup ctl` does, without the
//! cost of exec'ing it.

use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use podsup_wire::frame::{read_frame_blocking, write_frame_blocking};
use podsup_wire::{CtlRequest, CtlResponse};

/// A root's ctl socket.
#[derive(Debug, Clone)]
pub struct Ctl {
    socket: PathBuf,
}

/// An open conversation: the answers to one request.
#[derive(Debug)]
pub struct Conversation {
    rd: BufReader<UnixStream>,
}

impl Ctl {
    /// The ctl socket in `runtime_dir`.
    pub fn new(runtime_dir: &Path) -> Ctl {
        Ctl {
            socket: runtime_dir.join("ctl.sock"),
        }
    }

    /// The socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Connects and sends `request`.
    pub fn open(&self, request: &CtlRequest) -> Result<Conversation> {
        let mut stream = UnixStream::connect(&self.socket)
            .with_context(|| format!("connecting to {}", self.socket.display()))?;
        write_frame_blocking(&mut stream, request)?;
        Ok(Conversation {
            rd: BufReader::with_capacity(256 * 1024, stream),
        })
    }

    /// Sends `request` and returns its final answer (events and notices skipped).
    pub fn call(&self, request: &CtlRequest) -> Result<CtlResponse> {
        let mut conversation = self.open(request)?;
        loop {
            match conversation.next()? {
                CtlResponse::Event { .. } | CtlResponse::Notice { .. } => {}
                last => return Ok(last),
            }
        }
    }

    /// Sends `request` and fails unless the final answer is `Ok`.
    pub fn ok(&self, request: &CtlRequest) -> Result<String> {
        match self.call(request)? {
            CtlResponse::Ok { message } => Ok(message),
            other => bail!("{request:?}: {other:?}"),
        }
    }

    /// One round trip without buffering: connect, request, and the first answer frame.
    /// For latency, where a buffer would only add a copy.
    pub fn round_trip(&self, request: &CtlRequest) -> Result<CtlResponse> {
        let mut stream = UnixStream::connect(&self.socket)?;
        write_frame_blocking(&mut stream, request)?;
        read_frame_blocking(&mut stream)?.context("root closed the connection without answering")
    }
}

impl Conversation {
    /// The next answer; an error at end of conversation.
    pub fn next(&mut self) -> Result<CtlResponse> {
        read_frame_blocking(&mut self.rd)?.context("root closed the conversation")
    }
}
