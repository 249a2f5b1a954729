//! Helpers shared by the wire test binaries.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use podsup_wire::{FrameDecoder, FrameError, encode_frame};
use proptest::collection::vec;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, ReadBuf};

/// Every message of `msgs` as frames, back to back.
pub fn stream_of<T: Serialize>(msgs: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for msg in msgs {
        out.extend(encode_frame(msg).expect("test messages fit in a frame"));
    }
    out
}

/// Chunk sizes for splitting a stream: single bytes, sizes around the 4-byte prefix, larger.
pub fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    vec(prop_oneof![1..=5usize, 1..=64usize, 1..=1024usize], 1..12)
}

/// `bytes` cut into chunks whose sizes cycle through `sizes` (each at least 1).
pub fn split<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.clamp(1, rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// Feeds `chunks` to a fresh [`FrameDecoder`], taking every message after each push, then
/// checks the end of stream.
pub fn decode_chunks<T: DeserializeOwned>(chunks: &[&[u8]]) -> Result<Vec<T>, FrameError> {
    let mut decoder = FrameDecoder::new();
    let mut out = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        while let Some(msg) = decoder.next()? {
            out.push(msg);
        }
    }
    decoder.finish()?;
    Ok(out)
}

/// A reader that hands out `data` in chunks whose sizes cycle through `sizes`, like a socket
/// whose reads return whatever arrived. With `interrupt`, every chunk is preceded by one
/// `ErrorKind::Interrupted` (blocking reads only), as a signal would.
pub struct Chunked {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    next_size: usize,
    interrupt: bool,
    interrupted: bool,
}

impl Chunked {
    /// A reader of `data` in chunks of `sizes` (an empty list means one byte at a time).
    pub fn new(data: Vec<u8>, sizes: &[usize]) -> Self {
        Chunked {
            data,
            pos: 0,
            sizes: if sizes.is_empty() {
                vec![1]
            } else {
                sizes.to_vec()
            },
            next_size: 0,
            interrupt: false,
            interrupted: false,
        }
    }

    /// The same, but every chunk of a blocking read is preceded by an `Interrupted` error.
    pub fn interrupting(data: Vec<u8>, sizes: &[usize]) -> Self {
        Chunked {
            interrupt: true,
            ..Chunked::new(data, sizes)
        }
    }

    /// Bytes not handed out yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Copies the next chunk into `out`, returning its length (0 at the end).
    fn take(&mut self, out: &mut [u8]) -> usize {
        let size = self.sizes[self.next_size % self.sizes.len()].max(1);
        self.next_size += 1;
        let n = size.min(out.len()).min(self.remaining());
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

impl io::Read for Chunked {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.interrupt && !self.interrupted {
            self.interrupted = true;
            return Err(io::ErrorKind::Interrupted.into());
        }
        self.interrupted = false;
        Ok(self.take(out))
    }
}

impl AsyncRead for Chunked {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.take(buf.initialize_unfilled());
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

thread_local! {
    /// One runtime per test thread: property tests block on thousands of small futures.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
}

/// Runs `fut` to completion on this thread's current-thread runtime.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(fut))
}

/// Reads frames with the async [`podsup_wire::frame::read_frame`] until a clean end.
pub async fn read_all_async<T, R>(reader: &mut R) -> Result<Vec<T>, FrameError>
where
    T: DeserializeOwned,
    R: AsyncRead + Unpin,
{
    let mut out = Vec::new();
    while let Some(msg) = podsup_wire::frame::read_frame(reader).await? {
        out.push(msg);
    }
    Ok(out)
}

/// Reads frames with [`podsup_wire::frame::read_frame_blocking`] until a clean end.
pub fn read_all_blocking<T, R>(reader: &mut R) -> Result<Vec<T>, FrameError>
where
    T: DeserializeOwned,
    R: io::Read,
{
    let mut out = Vec::new();
    while let Some(msg) = podsup_wire::frame::read_frame_blocking(reader)? {
        out.push(msg);
    }
    Ok(out)
}
