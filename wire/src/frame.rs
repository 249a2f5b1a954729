//! Frame codec: `u32` LE body length, then a bincode body.
//!
//! The length is checked against [`MAX_FRAME_LEN`] before any buffer for the body is
//! allocated, so a hostile peer announcing 4 GiB costs nothing but an error. Readers then grow
//! their buffers with the bytes that actually arrive, never with the announced length.

use bincode::enc::write::Writer;
use bincode::error::EncodeError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest body a frame may carry (8 MiB). Larger announced lengths are refused unread, and
/// larger messages are refused by [`encode_frame`].
pub const MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

// The length prefix is a `u32`: every legal body length must fit in it.
const _: () = assert!(MAX_FRAME_LEN <= u32::MAX as usize);

const LEN_PREFIX: usize = 4;

/// bincode's limit is a budget of *decoded in-memory* bytes, not of input bytes: a one-byte
/// varint `u64` or length claims 8. No wire type claims more than 8 per encoded byte, so this
/// budget never refuses an honest body of up to [`MAX_FRAME_LEN`] bytes, while it still bounds
/// what a lying length inside a body can make the decoder allocate.
const DECODE_BUDGET: usize = 8 * MAX_FRAME_LEN;

/// Initial body buffer of the stream readers; it grows with the bytes that arrive.
const READ_CHUNK: usize = 64 * 1024;

/// Capacity an emptied [`FrameDecoder`] keeps; what one large frame left behind is released.
const RETAINED_CAPACITY: usize = 64 * 1024;

/// The bincode configuration every frame uses: standard, with the decode budget above.
fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_BUDGET>()
}

/// What can go wrong between bytes and messages.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A body length above [`MAX_FRAME_LEN`]: announced by the peer, or of a message being
    /// encoded.
    #[error("frame of {len} bytes exceeds the limit of {MAX_FRAME_LEN} bytes")]
    Oversize {
        /// The body length.
        len: u64,
    },
    /// The body did not decode as the expected message type.
    #[error("malformed frame body: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    /// The body decoded but left bytes unread, so it was not one message.
    #[error("malformed frame body: {extra} trailing bytes after the message")]
    Trailing {
        /// How many bytes were left over.
        extra: usize,
    },
    /// The message could not be encoded.
    #[error("cannot encode frame: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    /// The stream ended in the middle of a frame.
    #[error("stream ended inside a frame ({got} of {want} bytes)")]
    Truncated {
        /// Bytes received of the current frame.
        got: usize,
        /// Bytes the frame needed (the prefix alone while the prefix is incomplete).
        want: usize,
    },
    /// The underlying socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Collects a frame while its body is encoded. It keeps at most [`MAX_FRAME_LEN`] body bytes
/// but counts them all, so refusing an over-limit message costs no more memory than the
/// largest legal frame and the error still names the real size.
struct FrameWriter {
    frame: Vec<u8>,
    body_len: usize,
}

impl Writer for FrameWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.body_len = self.body_len.saturating_add(bytes.len());
        if self.body_len <= MAX_FRAME_LEN {
            self.frame.extend_from_slice(bytes);
        }
        Ok(())
    }
}

/// Encodes `msg` as one complete frame (length prefix included).
///
/// A message whose body would exceed [`MAX_FRAME_LEN`] is refused with
/// [`FrameError::Oversize`]: no peer could read the frame.
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut out = FrameWriter {
        frame: vec![0u8; LEN_PREFIX],
        body_len: 0,
    };
    bincode::serde::encode_into_writer(msg, &mut out, config())?;
    if out.body_len > MAX_FRAME_LEN {
        return Err(FrameError::Oversize {
            len: out.body_len as u64,
        });
    }
    // Cannot truncate: body_len <= MAX_FRAME_LEN <= u32::MAX (asserted above).
    let prefix = (out.body_len as u32).to_le_bytes();
    out.frame[..LEN_PREFIX].copy_from_slice(&prefix);
    Ok(out.frame)
}

/// Encodes `msg` as a frame body alone, without the length prefix, for stores that frame
/// bodies their own way (the pod's session log). [`decode_body`] reads it back.
///
/// Like [`encode_frame`], a body over [`MAX_FRAME_LEN`] is refused with
/// [`FrameError::Oversize`] and never held in memory whole.
pub fn encode_body<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut out = FrameWriter {
        frame: Vec::new(),
        body_len: 0,
    };
    bincode::serde::encode_into_writer(msg, &mut out, config())?;
    if out.body_len > MAX_FRAME_LEN {
        return Err(FrameError::Oversize {
            len: out.body_len as u64,
        });
    }
    Ok(out.frame)
}

/// Decodes one frame body (without its length prefix) that must hold exactly one message.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    let (msg, used) = bincode::serde::decode_from_slice(body, config())?;
    if used != body.len() {
        return Err(FrameError::Trailing {
            extra: body.len() - used,
        });
    }
    Ok(msg)
}

fn check_len(prefix: [u8; LEN_PREFIX]) -> Result<usize, FrameError> {
    let len = u32::from_le_bytes(prefix);
    match usize::try_from(len) {
        Ok(len) if len <= MAX_FRAME_LEN => Ok(len),
        _ => Err(FrameError::Oversize { len: len.into() }),
    }
}

/// The result of a stream that ended after `got` bytes of a length prefix.
fn end_in_prefix<T>(got: usize) -> Result<Option<T>, FrameError> {
    match got {
        0 => Ok(None),
        _ => Err(FrameError::Truncated {
            got,
            want: LEN_PREFIX,
        }),
    }
}

/// The result of a body read that stopped after `got` of `len` bytes.
fn check_body<T: DeserializeOwned>(body: &[u8], len: usize) -> Result<Option<T>, FrameError> {
    if body.len() < len {
        return Err(FrameError::Truncated {
            got: LEN_PREFIX + body.len(),
            want: LEN_PREFIX + len,
        });
    }
    decode_body(body).map(Some)
}

/// Incremental decoder for a byte stream that arrives in arbitrary chunks.
///
/// Feed bytes with [`push`](Self::push), then take messages with [`next`](Self::next)
/// until it returns `Ok(None)`. After an error the stream is unusable: the caller closes it.
/// The buffer holds only what was pushed: an announced length reserves nothing.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// Received bytes; those before `start` were already decoded.
    buf: Vec<u8>,
    start: usize,
}

impl FrameDecoder {
    /// A decoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet decoded.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    ///
    /// An oversize length prefix is refused as soon as its four bytes are buffered.
    // Not `Iterator::next`: the message type is chosen per call.
    #[allow(clippy::should_implement_trait)]
    pub fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        let rest = &self.buf[self.start..];
        let Some(prefix) = rest.first_chunk::<LEN_PREFIX>() else {
            return Ok(None);
        };
        let len = check_len(*prefix)?;
        let Some(body) = rest.get(LEN_PREFIX..LEN_PREFIX + len) else {
            return Ok(None);
        };
        let msg = decode_body(body);
        // Consumed frames are only skipped here; `push` moves the rest down once, so taking
        // many small frames out of one large read stays linear.
        self.start += LEN_PREFIX + len;
        msg.map(Some)
    }

    /// Call at end of stream, once [`next`](Self::next) returned `Ok(None)`: an error if a
    /// partial frame is still buffered.
    pub fn finish(&self) -> Result<(), FrameError> {
        let rest = &self.buf[self.start..];
        if rest.is_empty() {
            return Ok(());
        }
        let want = match rest.first_chunk::<LEN_PREFIX>() {
            Some(prefix) => LEN_PREFIX.saturating_add(u32::from_le_bytes(*prefix) as usize),
            None => LEN_PREFIX,
        };
        Err(FrameError::Truncated {
            got: rest.len(),
            want,
        })
    }

    /// Drops the decoded bytes in front of the buffer.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buf.drain(..self.start);
        self.start = 0;
        if self.buf.is_empty() {
            self.buf.shrink_to(RETAINED_CAPACITY);
        }
    }
}

/// Reads one message from an async stream. `Ok(None)` on a clean end of stream between frames.
///
/// Not cancel-safe: dropping the future mid-frame loses the bytes read so far. Where reads
/// race other events (`select!`), read into a [`FrameDecoder`] instead.
pub async fn read_frame<T, R>(reader: &mut R) -> Result<Option<T>, FrameError>
where
    T: DeserializeOwned,
    R: AsyncRead + Unpin,
{
    let mut prefix = [0u8; LEN_PREFIX];
    let mut got = 0;
    while got < LEN_PREFIX {
        let n = reader.read(&mut prefix[got..]).await?;
        if n == 0 {
            return end_in_prefix(got);
        }
        got += n;
    }
    let len = check_len(prefix)?;
    let mut body = Vec::with_capacity(len.min(READ_CHUNK));
    (&mut *reader)
        .take(len as u64)
        .read_to_end(&mut body)
        .await?;
    check_body(&body, len)
}

/// Writes one message as a frame and flushes it.
pub async fn write_frame<T, W>(writer: &mut W, msg: &T) -> Result<(), FrameError>
where
    T: Serialize,
    W: AsyncWrite + Unpin,
{
    let frame = encode_frame(msg)?;
    writer.write_all(&frame).await?;
    writer.flush().await?;
    Ok(())
}

/// Blocking read of one message, for the few places without a runtime. Same results as
/// [`read_frame`].
pub fn read_frame_blocking<T, R>(reader: &mut R) -> Result<Option<T>, FrameError>
where
    T: DeserializeOwned,
    R: std::io::Read,
{
    use std::io::{ErrorKind, Read};

    let mut prefix = [0u8; LEN_PREFIX];
    let mut got = 0;
    while got < LEN_PREFIX {
        match reader.read(&mut prefix[got..]) {
            Ok(0) => return end_in_prefix(got),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = check_len(prefix)?;
    let mut body = Vec::with_capacity(len.min(READ_CHUNK));
    reader.by_ref().take(len as u64).read_to_end(&mut body)?;
    check_body(&body, len)
}

/// Blocking write of one message as a frame.
pub fn write_frame_blocking<T, W>(writer: &mut W, msg: &T) -> Result<(), FrameError>
where
    T: Serialize,
    W: std::io::Write,
{
    writer.write_all(&encode_frame(msg)?)?;
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One large frame does not pin its buffer for the life of the connection.
    #[test]
    fn decoder_releases_the_buffer_of_a_large_frame() {
        let big = encode_frame(&"x".repeat(MAX_FRAME_LEN / 2)).expect("fits");
        let small = encode_frame(&7u32).expect("fits");
        let mut decoder = FrameDecoder::new();
        decoder.push(&big);
        assert!(decoder.next::<String>().expect("decodes").is_some());
        decoder.push(&small);
        assert!(decoder.buf.capacity() <= RETAINED_CAPACITY);
        assert_eq!(decoder.next::<u32>().expect("decodes"), Some(7));
    }

    /// Decoded frames are dropped from the front once, when more bytes arrive.
    #[test]
    fn decoder_compacts_on_push() {
        let frames = [encode_frame(&1u8), encode_frame(&2u8), encode_frame(&3u8)]
            .map(|frame| frame.expect("fits"))
            .concat();
        let mut decoder = FrameDecoder::new();
        decoder.push(&frames[..7]);
        assert_eq!(decoder.next::<u8>().expect("decodes"), Some(1));
        assert_eq!(decoder.start, 5);
        decoder.push(&frames[7..]);
        assert_eq!((decoder.start, decoder.buf.len()), (0, 10));
        assert_eq!(decoder.next::<u8>().expect("decodes"), Some(2));
        assert_eq!(decoder.next::<u8>().expect("decodes"), Some(3));
        assert_eq!(decoder.pending(), 0);
    }
}
