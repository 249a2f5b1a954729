//! Truncated, oversize, garbled and over-limit input gives an error, never a wrong message
//! or a panic.

mod support;

use std::fmt::Debug;

use podsup_wire::frame::{read_frame, read_frame_blocking};
use podsup_wire::{
    CtlRequest, CtlResponse, Event, FrameDecoder, FrameError, MAX_FRAME_LEN, PodToRoot, RootToPod,
    decode_body, encode_frame,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use support::{Chunked, block_on, chunk_sizes, split};

/// `body` behind a length prefix that matches it.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut frame = (body.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(body);
    frame
}

/// Every strict prefix of `msg`'s frame is an incomplete frame to every reader, and a
/// truncated body never decodes as anything.
fn truncations_are_errors<T>(msg: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + Debug,
{
    let frame = encode_frame(msg)?;
    for cut in 0..frame.len() {
        let part = &frame[..cut];
        let want = if cut < 4 { 4 } else { frame.len() };

        let mut decoder = FrameDecoder::new();
        decoder.push(part);
        prop_assert!(decoder.next::<T>()?.is_none(), "decoded from {cut} bytes");
        match decoder.finish() {
            Ok(()) => prop_assert_eq!(cut, 0),
            Err(FrameError::Truncated { got, want: w }) => prop_assert_eq!((got, w), (cut, want)),
            Err(e) => prop_assert!(false, "finish after {cut} bytes: {e}"),
        }

        let blocking = read_frame_blocking::<T, _>(&mut &part[..]);
        let nonblocking = block_on(read_frame::<T, _>(&mut &part[..]));
        for result in [blocking, nonblocking] {
            match result {
                Ok(None) => prop_assert_eq!(cut, 0),
                Err(FrameError::Truncated { got, want: w }) => {
                    prop_assert_eq!((got, w), (cut, want));
                }
                other => prop_assert!(false, "read of {cut} bytes gave {other:?}"),
            }
        }

        if cut > 4 {
            prop_assert!(decode_body::<T>(&frame[4..cut]).is_err());
        }
    }
    Ok(())
}

/// If `bytes` decode as a `T` at all, the message re-encodes and decodes to itself.
fn decodes_sanely<T>(bytes: &[u8]) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    if let Ok(msg) = decode_body::<T>(bytes) {
        let frame = encode_frame(&msg)?;
        prop_assert_eq!(decode_body::<T>(&frame[4..])?, msg);
    }
    Ok(())
}

/// Feeds `bytes` to a decoder in `sizes` chunks until it errs or wants more; no panic, and
/// it always stops.
fn decoder_survives<T: DeserializeOwned>(bytes: &[u8], sizes: &[usize]) {
    let mut decoder = FrameDecoder::new();
    for chunk in split(bytes, sizes) {
        decoder.push(chunk);
        loop {
            match decoder.next::<T>() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

proptest! {
    #[test]
    fn truncated_pod_to_root_frames_are_errors(msg in any::<PodToRoot>()) {
        truncations_are_errors(&msg)?;
    }

    #[test]
    fn truncated_root_to_pod_frames_are_errors(msg in any::<RootToPod>()) {
        truncations_are_errors(&msg)?;
    }

    #[test]
    fn truncated_ctl_request_frames_are_errors(msg in any::<CtlRequest>()) {
        truncations_are_errors(&msg)?;
    }

    #[test]
    fn truncated_ctl_response_frames_are_errors(msg in any::<CtlResponse>()) {
        truncations_are_errors(&msg)?;
    }

    /// Any announced length above the limit is refused by every reader as soon as the four
    /// prefix bytes are in, whatever follows.
    #[test]
    fn oversize_prefix_is_refused_unread(
        len in (MAX_FRAME_LEN as u32 + 1)..=u32::MAX,
        tail in vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = len.to_le_bytes().to_vec();
        bytes.extend_from_slice(&tail);

        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes[..4]);
        let refused = matches!(
            decoder.next::<PodToRoot>(),
            Err(FrameError::Oversize { len: l }) if l == u64::from(len)
        );
        prop_assert!(refused);

        let mut reader = Chunked::new(bytes.clone(), &[1]);
        let refused = matches!(
            read_frame_blocking::<PodToRoot, _>(&mut reader),
            Err(FrameError::Oversize { len: l }) if l == u64::from(len)
        );
        prop_assert!(refused);
        prop_assert_eq!(reader.remaining(), tail.len(), "read past the prefix");

        let mut reader = Chunked::new(bytes, &[1]);
        let refused = matches!(
            block_on(read_frame::<PodToRoot, _>(&mut reader)),
            Err(FrameError::Oversize { len: l }) if l == u64::from(len)
        );
        prop_assert!(refused);
        prop_assert_eq!(reader.remaining(), tail.len(), "read past the prefix");
    }

    #[test]
    fn random_bodies_decode_or_err(bytes in vec(any::<u8>(), 0..512)) {
        decodes_sanely::<PodToRoot>(&bytes)?;
        decodes_sanely::<RootToPod>(&bytes)?;
        decodes_sanely::<CtlRequest>(&bytes)?;
        decodes_sanely::<CtlResponse>(&bytes)?;
    }

    /// Random bodies behind an honest length prefix: a complete frame is always either a
    /// message or an error, never "need more".
    #[test]
    fn random_complete_frames_decode_or_err(body in vec(any::<u8>(), 0..512)) {
        let frame = framed(&body);
        let mut decoder = FrameDecoder::new();
        decoder.push(&frame);
        prop_assert!(!matches!(decoder.next::<PodToRoot>(), Ok(None)));
        decoder.push(&frame);
        prop_assert!(!matches!(decoder.next::<CtlResponse>(), Ok(None)));
    }

    /// Raw random bytes as a stream, including random length prefixes.
    #[test]
    fn random_streams_never_panic(bytes in vec(any::<u8>(), 0..1024), sizes in chunk_sizes()) {
        decoder_survives::<PodToRoot>(&bytes, &sizes);
        decoder_survives::<RootToPod>(&bytes, &sizes);
        decoder_survives::<CtlRequest>(&bytes, &sizes);
        decoder_survives::<CtlResponse>(&bytes, &sizes);
    }

    /// Valid bodies with a few bytes overwritten reach deep into the decoder.
    #[test]
    fn corrupted_bodies_decode_or_err(
        msg in any::<PodToRoot>(),
        reply in any::<CtlResponse>(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        for mut body in [encode_frame(&msg)?.split_off(4), encode_frame(&reply)?.split_off(4)] {
            for (at, byte) in &edits {
                let i = at.index(body.len());
                body[i] = *byte;
            }
            decodes_sanely::<PodToRoot>(&body)?;
            decodes_sanely::<CtlResponse>(&body)?;
        }
    }

    #[test]
    fn trailing_garbage_is_refused(
        msg in any::<PodToRoot>(),
        garbage in vec(any::<u8>(), 1..16),
    ) {
        let mut body = encode_frame(&msg)?.split_off(4);
        body.extend_from_slice(&garbage);
        let refused = matches!(
            decode_body::<PodToRoot>(&body),
            Err(FrameError::Trailing { extra }) if extra == garbage.len()
        );
        prop_assert!(refused);

        let mut decoder = FrameDecoder::new();
        decoder.push(&framed(&body));
        let refused = matches!(
            decoder.next::<PodToRoot>(),
            Err(FrameError::Trailing { extra }) if extra == garbage.len()
        );
        prop_assert!(refused);
    }
}

fn text_delta(len: usize) -> PodToRoot {
    PodToRoot::Event(Event::TextDelta {
        text: "x".repeat(len),
    })
}

/// Body of [`text_delta`]: two variant tags, a 5-byte length (0xFC + u32), the text.
const TEXT_DELTA_OVERHEAD: usize = 1 + 1 + 5;

#[test]
fn message_over_the_limit_is_not_encoded() {
    let nine_mib = 9 * 1024 * 1024;
    match encode_frame(&text_delta(nine_mib)) {
        Err(FrameError::Oversize { len }) => {
            assert_eq!(len, (nine_mib + TEXT_DELTA_OVERHEAD) as u64);
        }
        other => panic!("a 9 MiB message gave {:?}", other.map(|f| f.len())),
    }
    let one_over = text_delta(MAX_FRAME_LEN - TEXT_DELTA_OVERHEAD + 1);
    assert!(matches!(
        encode_frame(&one_over),
        Err(FrameError::Oversize { len }) if len == MAX_FRAME_LEN as u64 + 1
    ));
}

#[test]
fn message_at_the_limit_round_trips() {
    let msg = text_delta(MAX_FRAME_LEN - TEXT_DELTA_OVERHEAD);
    let frame = encode_frame(&msg).expect("a body of exactly the limit is legal");
    assert_eq!(frame.len(), 4 + MAX_FRAME_LEN);
    let mut decoder = FrameDecoder::new();
    decoder.push(&frame);
    assert_eq!(decoder.next::<PodToRoot>().expect("decodes"), Some(msg));
}

/// bincode's limit counts decoded in-memory bytes (8 for a one-byte varint), not input
/// bytes. A body near the limit made of the densest such values must still decode: every
/// frame `encode_frame` accepts is one the peer can read.
#[test]
fn densest_message_at_the_limit_decodes() {
    // Each target is 2 bytes on the wire (varint 0, empty string) but 16 in bincode's count.
    let count = (MAX_FRAME_LEN - TEXT_DELTA_OVERHEAD) / 2;
    let msg = PodToRoot::Event(Event::RewindTargets {
        targets: vec![(0, String::new()); count],
    });
    let frame = encode_frame(&msg).expect("fits in a frame");
    assert!(frame.len() > 4 + MAX_FRAME_LEN - 2, "not at the limit");
    let decoded: PodToRoot = decode_body(&frame[4..]).expect("an encodable frame decodes");
    assert!(decoded == msg);
}

/// A frame of exactly the limit is accepted by the readers; a missing body is truncation.
#[test]
fn prefix_of_exactly_the_limit_waits_for_the_body() {
    let prefix = (MAX_FRAME_LEN as u32).to_le_bytes();
    let mut decoder = FrameDecoder::new();
    decoder.push(&prefix);
    assert!(matches!(decoder.next::<PodToRoot>(), Ok(None)));
    assert!(matches!(
        decoder.finish(),
        Err(FrameError::Truncated { got: 4, want }) if want == 4 + MAX_FRAME_LEN
    ));
    assert!(matches!(
        read_frame_blocking::<PodToRoot, _>(&mut &prefix[..]),
        Err(FrameError::Truncated { got: 4, want }) if want == 4 + MAX_FRAME_LEN
    ));
}

/// The largest prefix of all, alone: refused, nothing else buffered.
#[test]
fn all_ones_prefix_is_oversize() {
    let mut decoder = FrameDecoder::new();
    decoder.push(&[0xFF; 4]);
    assert!(matches!(
        decoder.next::<CtlRequest>(),
        Err(FrameError::Oversize { len: 0xFFFF_FFFF })
    ));
    assert_eq!(decoder.pending(), 4);
}

/// A blocking read cut inside the body reports truncation like the async one, with the
/// bytes that did arrive.
#[test]
fn blocking_read_cut_in_the_body_is_truncated() {
    let frame = encode_frame(&CtlRequest::Stop { name: "web".into() }).expect("encodes");
    let cut = frame.len() - 1;
    let mut reader = Chunked::interrupting(frame[..cut].to_vec(), &[2]);
    assert!(matches!(
        read_frame_blocking::<CtlRequest, _>(&mut reader),
        Err(FrameError::Truncated { got, want }) if got == cut && want == frame.len()
    ));
}
