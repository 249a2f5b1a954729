//! The frame decoder on arbitrary bytes, pushed in arbitrary chunks, as each message type
//! podsup reads from a peer: never a panic, the blocking reader agrees with the
//! incremental decoder message for message, and every message decoded re-encodes to a
//! frame that decodes to the same message.
//!
//! The first input byte picks the message type (low 2 bits) and the chunk size (the rest).

#![no_main]

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use podsup_wire::frame::{FrameDecoder, encode_frame, read_frame_blocking};
use podsup_wire::{CtlRequest, CtlResponse, PodToRoot, RootToPod};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The messages the decoder yields for `data` fed `chunk` bytes at a time, up to its first
/// error.
fn decode_all<T: DeserializeOwned>(data: &[u8], chunk: usize) -> Vec<T> {
    let mut decoder = FrameDecoder::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        decoder.push(piece);
        loop {
            match decoder.next::<T>() {
                Ok(Some(msg)) => out.push(msg),
                Ok(None) => break,
                // After an error the stream is unusable; what came before stands.
                Err(_) => return out,
            }
        }
    }
    out
}

/// Encoded form of `msg`, compared instead of the message so that a float NaN compares
/// equal to itself.
fn bytes<T: Serialize + Debug>(msg: &T) -> Vec<u8> {
    encode_frame(msg).unwrap_or_else(|e| panic!("a decoded message must re-encode: {e}: {msg:?}"))
}

fn check<T: DeserializeOwned + Serialize + Debug>(data: &[u8], chunk: usize) {
    let decoded = decode_all::<T>(data, chunk);
    let mut reader = data;
    for msg in &decoded {
        match read_frame_blocking::<T, _>(&mut reader) {
            Ok(Some(same)) => assert_eq!(bytes(&same), bytes(msg), "readers disagree"),
            other => panic!("the blocking reader disagrees with the decoder: {other:?} vs {msg:?}"),
        }
        let frame = bytes(msg);
        let again = decode_all::<T>(&frame, frame.len());
        assert_eq!(again.len(), 1, "a re-encoded frame holds one message");
        assert_eq!(bytes(&again[0]), frame, "re-encoding is stable");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(selector >> 2) + 1;
    match selector & 3 {
        0 => check::<PodToRoot>(rest, chunk),
        1 => check::<RootToPod>(rest, chunk),
        2 => check::<CtlRequest>(rest, chunk),
        _ => check::<CtlResponse>(rest, chunk),
    }
});
