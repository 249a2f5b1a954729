//! The message-path floors, in this process: a socketpair ping-pong between two threads,
//! the same ping-pong routed the way a ctl request travels (connect, client → relay → echo
//! → relay → client), and a one-way stream of frames read with a large buffer.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::clock::now_ns;

/// Echoes every `len`-byte message it reads until its socket closes.
fn echo(mut sock: UnixStream, len: usize) {
    let mut buf = vec![0u8; len];
    while sock.read_exact(&mut buf).is_ok() {
        if sock.write_all(&buf).is_err() {
            break;
        }
    }
}

/// A socketpair with an echo thread on the other end.
#[derive(Debug)]
pub struct PingPong {
    sock: UnixStream,
    msg: Vec<u8>,
}

impl PingPong {
    /// Starts the echo thread; every ping is `len` bytes.
    pub fn new(len: usize) -> Result<PingPong> {
        let (sock, theirs) = UnixStream::pair()?;
        std::thread::Builder::new()
            .name("raw-echo".into())
            .spawn(move || echo(theirs, len))?;
        Ok(PingPong {
            sock,
            msg: vec![7u8; len],
        })
    }

    /// One round trip, in ns.
    pub fn rtt(&mut self) -> Result<u64> {
        let t0 = now_ns();
        self.sock.write_all(&self.msg)?;
        self.sock.read_exact(&mut self.msg)?;
        Ok(now_ns() - t0)
    }
}

/// The path of a ctl request modelled with raw sockets: a listener thread (the "root")
/// accepts a connection per request, forwards the request over a socketpair to an echo
/// thread (the "pod") and relays the answer back. Four hops and a connect, no decoding.
#[derive(Debug)]
pub struct RelayModel {
    path: std::path::PathBuf,
    msg: Vec<u8>,
}

impl RelayModel {
    /// Binds the model's listener at `path`; every request is `len` bytes.
    pub fn new(path: &Path, len: usize) -> Result<RelayModel> {
        let listener =
            UnixListener::bind(path).with_context(|| format!("binding {}", path.display()))?;
        let (mut to_pod, pod) = UnixStream::pair()?;
        std::thread::Builder::new()
            .name("model-pod".into())
            .spawn(move || echo(pod, len))?;
        std::thread::Builder::new()
            .name("model-root".into())
            .spawn(move || {
                let mut buf = vec![0u8; len];
                for client in listener.incoming() {
                    let Ok(mut client) = client else { break };
                    let relayed = client
                        .read_exact(&mut buf)
                        .and_then(|()| to_pod.write_all(&buf))
                        .and_then(|()| to_pod.read_exact(&mut buf))
                        .and_then(|()| client.write_all(&buf));
                    if relayed.is_err() {
                        break;
                    }
                }
            })?;
        Ok(RelayModel {
            path: path.to_owned(),
            msg: vec![7u8; len],
        })
    }

    /// One request through the model, in ns.
    pub fn rtt(&mut self) -> Result<u64> {
        let t0 = now_ns();
        let mut sock = UnixStream::connect(&self.path)?;
        sock.write_all(&self.msg)?;
        sock.read_exact(&mut self.msg)?;
        Ok(now_ns() - t0)
    }
}

/// Reads length-prefixed frames in batches: one `read` into a 64 KiB buffer, then every
/// complete frame in it.
#[derive(Debug)]
pub struct FrameReader<R> {
    rd: R,
    buf: Vec<u8>,
    filled: usize,
}

impl<R: Read> FrameReader<R> {
    /// Wraps `rd`.
    pub fn new(rd: R) -> FrameReader<R> {
        FrameReader {
            rd,
            buf: vec![0u8; 64 * 1024],
            filled: 0,
        }
    }

    /// One `read`; hands every complete frame body to `each`. An error at end of stream.
    pub fn batch(&mut self, mut each: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self.rd.read(&mut self.buf[self.filled..])?;
        if n == 0 {
            bail!("stream ended");
        }
        self.filled += n;
        let mut at = 0;
        while let Some(prefix) = self.buf[at..self.filled].first_chunk::<4>() {
            let len = u32::from_le_bytes(*prefix) as usize;
            if self.filled - at < 4 + len {
                // Make room for a frame larger than the buffer.
                if 4 + len > self.buf.len() {
                    self.buf.resize(4 + len, 0);
                }
                break;
            }
            each(&self.buf[at + 4..at + 4 + len])?;
            at += 4 + len;
        }
        self.buf.copy_within(at..self.filled, 0);
        self.filled -= at;
        Ok(())
    }
}

/// Frames of interest seen over time. The frames of the first batch only open the window:
/// the rate counts the frames that arrived after it, over the time since.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Frames seen.
    pub frames: usize,
    counted: usize,
    first_ns: u64,
    last_ns: u64,
}

impl Window {
    /// `frames` more arrived in a batch read at `now`.
    pub fn saw(&mut self, frames: usize, now: u64) {
        if frames == 0 {
            return;
        }
        if self.frames == 0 {
            self.first_ns = now;
        } else {
            self.counted += frames;
        }
        self.frames += frames;
        self.last_ns = now;
    }

    /// Frames per second, `None` if everything came in one batch.
    pub fn rate(&self) -> Option<f64> {
        let span = self.last_ns.saturating_sub(self.first_ns);
        match (self.counted, span) {
            (0, _) | (_, 0) => None,
            (n, span) => Some(n as f64 * 1e9 / span as f64),
        }
    }
}

/// Streams `count` copies of `frame` (a complete frame, length prefix included) over a
/// socketpair, one `write` per frame as the pod writes them, and reads them with a
/// [`FrameReader`]; returns frames per second.
pub fn stream(frame: &[u8], count: usize) -> Result<f64> {
    let (rd, mut wr) = UnixStream::pair()?;
    let frame = frame.to_vec();
    let writer = std::thread::Builder::new()
        .name("raw-writer".into())
        .spawn(move || -> std::io::Result<()> {
            for _ in 0..count {
                wr.write_all(&frame)?;
            }
            Ok(())
        })?;
    let mut reader = FrameReader::new(rd);
    let mut window = Window::default();
    while window.frames < count {
        let mut complete = 0;
        reader.batch(|_| {
            complete += 1;
            Ok(())
        })?;
        window.saw(complete, now_ns());
    }
    match writer.join() {
        Ok(result) => result?,
        Err(_) => bail!("raw writer panicked"),
    }
    window
        .rate()
        .context("the whole raw stream arrived in one read")
}
