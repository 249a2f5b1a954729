//! A stream of frames decodes to the same messages however the bytes are chunked.

mod support;

use std::fmt::Debug;

use podsup_wire::frame::write_frame;
use podsup_wire::{CtlRequest, CtlResponse, FrameDecoder, PodToRoot, RootToPod};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use support::{
    Chunked, block_on, chunk_sizes, decode_chunks, read_all_async, read_all_blocking, split,
    stream_of,
};

/// Decodes the frames of `msgs`, cut at the boundaries `sizes` gives, with the
/// [`FrameDecoder`] and both stream readers; each must give back `msgs` in order.
fn decodes_in_chunks<T>(msgs: &[T], sizes: &[usize]) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = stream_of(msgs);

    let decoded: Vec<T> = decode_chunks(&split(&bytes, sizes))?;
    prop_assert_eq!(&decoded, msgs);

    let mut reader = Chunked::interrupting(bytes.clone(), sizes);
    let read: Vec<T> = read_all_blocking(&mut reader)?;
    prop_assert_eq!(&read, msgs);

    let mut reader = Chunked::new(bytes, sizes);
    let read: Vec<T> = block_on(read_all_async(&mut reader))?;
    prop_assert_eq!(&read, msgs);
    Ok(())
}

proptest! {
    #[test]
    fn pod_to_root_stream_decodes_in_any_chunks(
        msgs in vec(any::<PodToRoot>(), 0..8),
        sizes in chunk_sizes(),
    ) {
        decodes_in_chunks(&msgs, &sizes)?;
    }

    #[test]
    fn root_to_pod_stream_decodes_in_any_chunks(
        msgs in vec(any::<RootToPod>(), 0..8),
        sizes in chunk_sizes(),
    ) {
        decodes_in_chunks(&msgs, &sizes)?;
    }

    #[test]
    fn ctl_request_stream_decodes_in_any_chunks(
        msgs in vec(any::<CtlRequest>(), 0..8),
        sizes in chunk_sizes(),
    ) {
        decodes_in_chunks(&msgs, &sizes)?;
    }

    #[test]
    fn ctl_response_stream_decodes_in_any_chunks(
        msgs in vec(any::<CtlResponse>(), 0..8),
        sizes in chunk_sizes(),
    ) {
        decodes_in_chunks(&msgs, &sizes)?;
    }

    /// Writer and reader on the two ends of an in-memory pipe smaller than most frames, so
    /// both block in the middle of frames.
    #[test]
    fn frames_cross_a_narrow_duplex_pipe(
        msgs in vec(any::<PodToRoot>(), 0..8),
        capacity in 1..64usize,
    ) {
        let (mut near, mut far) = tokio::io::duplex(capacity);
        let (written, read) = block_on(async {
            let write = async {
                for msg in &msgs {
                    write_frame(&mut near, msg).await?;
                }
                drop(near);
                Ok::<_, podsup_wire::FrameError>(())
            };
            tokio::join!(write, read_all_async::<PodToRoot, _>(&mut far))
        });
        written?;
        prop_assert_eq!(read?, msgs);
    }

    /// Pushes and takes interleave arbitrarily: nothing is lost or taken twice, and
    /// `pending` always counts exactly the bytes not yet decoded.
    #[test]
    fn decoder_tracks_pending_bytes(
        msgs in vec(any::<CtlRequest>(), 1..8),
        sizes in chunk_sizes(),
    ) {
        let bytes = stream_of(&msgs);
        let mut decoder = FrameDecoder::new();
        let mut decoded = Vec::new();
        let mut pushed = 0;
        let mut taken = 0;
        for chunk in split(&bytes, &sizes) {
            decoder.push(chunk);
            pushed += chunk.len();
            prop_assert_eq!(decoder.pending(), pushed - taken);
            if let Some(msg) = decoder.next::<CtlRequest>()? {
                taken += podsup_wire::encode_frame(&msg)?.len();
                decoded.push(msg);
            }
            prop_assert_eq!(decoder.pending(), pushed - taken);
        }
        while let Some(msg) = decoder.next::<CtlRequest>()? {
            decoded.push(msg);
        }
        prop_assert_eq!(decoder.pending(), 0);
        decoder.finish()?;
        prop_assert_eq!(decoded, msgs);
    }
}

/// Many small frames arriving in one read all come out, in order.
#[test]
fn one_read_of_many_frames_decodes_all() {
    let msgs: Vec<CtlRequest> = (0..20_000)
        .map(|i| CtlRequest::Stop {
            name: format!("pod-{i}"),
        })
        .collect();
    let bytes = stream_of(&msgs);
    let decoded: Vec<CtlRequest> = decode_chunks(&[&bytes]).expect("a valid stream decodes");
    assert_eq!(decoded, msgs);
}

/// A stream with no frames at all is a clean end for every reader.
#[test]
fn empty_stream_is_a_clean_end() {
    let decoded: Vec<PodToRoot> = decode_chunks(&[]).expect("nothing to decode");
    assert!(decoded.is_empty());
    let read: Vec<PodToRoot> = read_all_blocking(&mut &[][..]).expect("clean end");
    assert!(read.is_empty());
    let read: Vec<PodToRoot> = block_on(read_all_async(&mut &[][..])).expect("clean end");
    assert!(read.is_empty());
}
