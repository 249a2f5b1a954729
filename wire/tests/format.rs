//! Exact bytes of a few frames: any change to the framing or the bincode configuration
//! (endianness, integer encoding, variant tags) breaks these before it breaks a peer.

use podsup_wire::{
    CtlRequest, CtlResponse, ExitStatus, FrameDecoder, Hello, MAX_FRAME_LEN, PodEvent, PodToRoot,
    decode_body, encode_frame,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// `msg` encodes to exactly `frame`, and `frame` decodes to `msg`.
fn assert_frame<T>(msg: T, frame: &[u8])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    assert_eq!(
        encode_frame(&msg).expect("encodes"),
        frame,
        "encoding of {msg:?}"
    );
    let mut decoder = FrameDecoder::new();
    decoder.push(frame);
    assert_eq!(decoder.next::<T>().expect("decodes"), Some(msg));
}

#[test]
fn frame_limit_is_8_mib() {
    assert_eq!(MAX_FRAME_LEN, 8 * 1024 * 1024);
}

#[test]
fn unit_variant_is_a_one_byte_body() {
    assert_frame(PodToRoot::Ready, &[1, 0, 0, 0, 1]);
}

#[test]
fn integers_are_varints() {
    // Tag 0, protocol 1 in one byte, pid 300 as 0xFB + u16 LE.
    assert_frame(
        PodToRoot::Hello(Hello {
            protocol: 1,
            pid: 300,
        }),
        &[5, 0, 0, 0, 0, 1, 0xFB, 0x2C, 0x01],
    );
}

#[test]
fn strings_are_length_then_utf8() {
    assert_frame(
        CtlRequest::Stop { name: "web".into() },
        &[5, 0, 0, 0, 2, 3, b'w', b'e', b'b'],
    );
}

#[test]
fn signed_integers_are_zigzag() {
    // Tag 4 (Crashed), name "a", ExitStatus tag 1 (Signal), 9 zigzagged to 18.
    assert_frame(
        PodEvent::Crashed {
            pod_name: "a".into(),
            exit: ExitStatus::Signal(9),
        },
        &[5, 0, 0, 0, 4, 1, b'a', 1, 18],
    );
    // -1 zigzags to 1.
    assert_frame(ExitStatus::Code(-1), &[2, 0, 0, 0, 0, 1]);
}

#[test]
fn length_prefix_is_little_endian() {
    // Tag 5, 0xFB + u16 LE 254, 254 bytes: a body of 258 = 0x0102 bytes.
    let line = "x".repeat(254);
    let frame = encode_frame(&CtlResponse::OutputLine { line: line.clone() }).expect("encodes");
    assert_eq!(frame[..8], [0x02, 0x01, 0, 0, 5, 0xFB, 0xFE, 0x00]);
    assert_eq!(frame.len(), 4 + 0x0102);
    assert_eq!(
        decode_body::<CtlResponse>(&frame[4..]).expect("decodes"),
        CtlResponse::OutputLine { line }
    );
}

#[test]
fn options_are_a_tag_byte() {
    assert_frame(
        CtlRequest::Logs {
            name: String::new(),
            follow: true,
            last: Some(7),
            output: false,
        },
        &[6, 0, 0, 0, 11, 0, 1, 1, 7, 0],
    );
    assert_frame(
        CtlRequest::Logs {
            name: String::new(),
            follow: false,
            last: None,
            output: true,
        },
        &[5, 0, 0, 0, 11, 0, 0, 0, 1],
    );
}
