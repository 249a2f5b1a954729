//! Every message survives encode → decode unchanged, through every decoding path.

mod support;

use std::fmt::Debug;

use podsup_wire::frame::{read_frame, read_frame_blocking};
use podsup_wire::{
    CtlRequest, CtlResponse, FrameDecoder, FrameError, PodToRoot, RootToPod, StatusNode,
    decode_body, encode_frame,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Encodes `msg` and decodes it back with the [`FrameDecoder`], `decode_body`, and both
/// stream readers; each must give `msg` and consume exactly the frame.
fn round_trip<T>(msg: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let frame = encode_frame(msg)?;
    let (prefix, body) = frame
        .split_first_chunk::<4>()
        .expect("a frame has a prefix");
    prop_assert_eq!(u32::from_le_bytes(*prefix) as usize, body.len());

    prop_assert_eq!(&decode_body::<T>(body)?, msg);

    let mut decoder = FrameDecoder::new();
    decoder.push(&frame);
    let decoded = decoder.next::<T>()?;
    prop_assert_eq!(decoded.as_ref(), Some(msg));
    prop_assert!(decoder.next::<T>()?.is_none());
    prop_assert_eq!(decoder.pending(), 0);
    decoder.finish()?;

    let mut reader = &frame[..];
    let read = read_frame_blocking::<T, _>(&mut reader)?;
    prop_assert_eq!(read.as_ref(), Some(msg));
    prop_assert!(read_frame_blocking::<T, _>(&mut reader)?.is_none());

    let (first, second) = support::block_on(async {
        let mut reader = &frame[..];
        let first = read_frame::<T, _>(&mut reader).await?;
        let second = read_frame::<T, _>(&mut reader).await?;
        Ok::<_, FrameError>((first, second))
    })?;
    prop_assert_eq!(first.as_ref(), Some(msg));
    prop_assert!(second.is_none());
    Ok(())
}

proptest! {
    #[test]
    fn pod_to_root_round_trips(msg in any::<PodToRoot>()) {
        round_trip(&msg)?;
    }

    #[test]
    fn root_to_pod_round_trips(msg in any::<RootToPod>()) {
        round_trip(&msg)?;
    }

    #[test]
    fn ctl_request_round_trips(msg in any::<CtlRequest>()) {
        round_trip(&msg)?;
    }

    #[test]
    fn ctl_response_round_trips(msg in any::<CtlResponse>()) {
        round_trip(&msg)?;
    }

    #[test]
    fn status_trees_up_to_three_levels_round_trip(root in any::<StatusNode>()) {
        prop_assert!(depth(&root) <= 3);
        round_trip(&root)?;
    }
}

fn depth(node: &StatusNode) -> usize {
    1 + node.children.iter().map(depth).max().unwrap_or(0)
}
