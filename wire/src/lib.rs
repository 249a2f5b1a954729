//! podsup's wire protocol.
//!
//! This is the only crate that knows bytes. Every message that crosses a process boundary
//! (root ↔ pod over the socketpair, ctl client ↔ root over the ctl socket) is defined here
//! and encoded by [`frame`]: a `u32` little-endian body length followed by a bincode 2 body.
//!
//! bincode is not self-describing, so the types here never use `untagged`, `flatten`,
//! `skip_serializing_if` or dynamic JSON values; JSON travels as `String`. Enum variants are
//! only ever appended, so older peers keep decoding what they knew.
//!
//! The `proptest` cargo feature adds the `arb` module: proptest strategies for every type
//! here, for property tests in any crate that speaks the protocol.

#[cfg(feature = "proptest")]
pub mod arb;
pub mod ctl;
pub mod event;
pub mod frame;
pub mod method;
pub mod pod;
pub mod pod_event;
pub mod request;

pub use ctl::{
    CtlError, CtlErrorKind, CtlRequest, CtlResponse, MAX_STATUS_DEPTH, NodeKind, NodeState,
    StatusNode,
};
pub use event::{Entry, ErrorCode, Event, Item, PodStatus, RunResult};
pub use frame::{FrameDecoder, FrameError, MAX_FRAME_LEN, decode_body, encode_frame};
pub use method::{Method, Segment};
pub use pod::{EngineSpec, ExitStatus, Hello, Init, PodToRoot, RootToPod};
pub use pod_event::PodEvent;
pub use request::{PodReply, PodRequest};

/// Version of the root ↔ pod protocol. The root refuses a pod whose `Hello` names another.
pub const PROTOCOL_VERSION: u32 = 1;
