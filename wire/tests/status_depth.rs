//! Status trees are recursive: their depth is bounded so that decoding a hostile frame
//! cannot overflow the stack.

use podsup_wire::ctl::{CtlResponse, MAX_STATUS_DEPTH, NodeKind, NodeState, StatusNode};
use podsup_wire::{FrameError, decode_body, encode_frame};

fn node(children: Vec<StatusNode>) -> StatusNode {
    StatusNode {
        name: String::new(),
        kind: NodeKind::Supervisor,
        state: NodeState::Starting,
        pid: None,
        generation: 0,
        restarts: 0,
        uptime_ms: None,
        last_exit: None,
        children,
    }
}

/// A chain of `levels` nodes, each the only child of the one before.
fn chain(levels: usize) -> CtlResponse {
    let mut root = node(Vec::new());
    for _ in 1..levels {
        root = node(vec![root]);
    }
    CtlResponse::Status {
        tree: String::new(),
        root,
    }
}

/// The body of `chain(levels)`, built by hand so it can be deeper than any tree the encoder
/// accepts: tag 1 (Status), empty tree name, then per node eight zero bytes (empty name,
/// Supervisor, Starting, no pid, generation 0, restarts 0, no uptime, no last exit) and the
/// number of children.
fn chain_body(levels: usize) -> Vec<u8> {
    let mut body = vec![1, 0];
    for level in 1..=levels {
        body.extend_from_slice(&[0; 8]);
        body.push(u8::from(level < levels));
    }
    body
}

#[test]
fn hand_built_body_matches_the_encoder() {
    for levels in 1..=4 {
        let frame = encode_frame(&chain(levels)).expect("shallow trees encode");
        assert_eq!(frame[4..], chain_body(levels), "{levels} levels");
    }
}

#[test]
fn tree_of_the_maximum_depth_round_trips() {
    let msg = chain(MAX_STATUS_DEPTH);
    let frame = encode_frame(&msg).expect("the maximum depth encodes");
    assert_eq!(
        decode_body::<CtlResponse>(&frame[4..]).expect("decodes"),
        msg
    );
}

#[test]
fn deeper_tree_is_not_encoded() {
    assert!(matches!(
        encode_frame(&chain(MAX_STATUS_DEPTH + 1)),
        Err(FrameError::Encode(_))
    ));
}

#[test]
fn deeper_tree_is_not_decoded() {
    assert!(matches!(
        decode_body::<CtlResponse>(&chain_body(MAX_STATUS_DEPTH + 1)),
        Err(FrameError::Decode(_))
    ));
}

/// Far deeper than any stack allows: an error, not a crash.
#[test]
fn hostile_depth_is_an_error_not_a_stack_overflow() {
    let body = chain_body(500_000);
    assert!(matches!(
        decode_body::<CtlResponse>(&body),
        Err(FrameError::Decode(_))
    ));
}

/// The depth count is restored after an error, so the next frame on the thread decodes.
#[test]
fn refusal_leaves_no_depth_behind() {
    for _ in 0..3 {
        assert!(decode_body::<CtlResponse>(&chain_body(MAX_STATUS_DEPTH + 1)).is_err());
        assert!(encode_frame(&chain(MAX_STATUS_DEPTH + 1)).is_err());
    }
    let msg = chain(MAX_STATUS_DEPTH);
    let frame = encode_frame(&msg).expect("encodes");
    assert_eq!(
        decode_body::<CtlResponse>(&frame[4..]).expect("decodes"),
        msg
    );
}
