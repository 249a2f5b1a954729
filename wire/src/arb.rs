//! proptest strategies for every wire type (cargo feature `proptest`).
//!
//! Each type has a strategy function (`arb::event()`, `arb::status_node()`, …) for composing,
//! and an [`Arbitrary`](proptest::arbitrary::Arbitrary) impl, so `any::<PodToRoot>()` works in
//! any crate's tests. Enum strategies list every variant in `prop_oneof!`. Each enum also
//! implements [`Variants`] with an exhaustive match: a new variant does not compile here until
//! it is listed, and this crate's `tests/variants.rs` fails until its strategy generates it.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// The variants of a wire enum, by name, for checking that a strategy reaches them all.
pub trait Variants {
    /// Every variant's name, in declaration order.
    const ALL: &'static [&'static str];

    /// The name of this value's variant.
    fn variant(&self) -> &'static str;
}

/// Implements [`Variants`] for an enum from the list of its variants. The generated match has
/// no catch-all arm, so the list cannot silently fall behind the enum.
macro_rules! variants {
    ($ty:ident { $($variant:ident),+ $(,)? }) => {
        impl $crate::arb::Variants for $ty {
            const ALL: &'static [&'static str] = &[$(stringify!($variant)),+];

            fn variant(&self) -> &'static str {
                match self {
                    $($ty::$variant { .. } => stringify!($variant)),+
                }
            }
        }
    };
}

/// Implements `Arbitrary` for each type with the strategy given.
macro_rules! arbitrary {
    ($($ty:ty => $strategy:expr;)+) => {$(
        impl proptest::arbitrary::Arbitrary for $ty {
            type Parameters = ();
            type Strategy = proptest::strategy::BoxedStrategy<Self>;

            fn arbitrary_with((): ()) -> Self::Strategy {
                proptest::strategy::Strategy::boxed($strategy)
            }
        }
    )+};
}

mod ctl;
mod event;
mod method;
mod pod;
mod pod_event;
mod request;

pub use ctl::{
    ctl_error, ctl_error_kind, ctl_request, ctl_response, last_exit, node_kind, node_state,
    status_node, status_node_levels,
};
pub use event::{alert_level, entry, error_code, event, invoke_kind, item, pod_status, run_result};
pub use method::{method, segment};
pub use pod::{engine_spec, exit_status, hello, init, pod_to_root, root_to_pod};
pub use pod_event::{pod_event, scope_rule};
pub use request::{pod_reply, pod_request, refusal_kind};

/// Values at the varint width boundaries of bincode's integer encoding, and the extremes.
const U64_EDGES: &[u64] = &[
    0,
    1,
    250,
    251,
    0xFFFF,
    0x1_0000,
    0xFFFF_FFFF,
    0x1_0000_0000,
    u64::MAX - 1,
    u64::MAX,
];
const U32_EDGES: &[u32] = &[0, 1, 250, 251, 0xFFFF, 0x1_0000, u32::MAX - 1, u32::MAX];
const U16_EDGES: &[u16] = &[0, 1, 250, 251, u16::MAX - 1, u16::MAX];
const I32_EDGES: &[i32] = &[0, 1, -1, 9, 15, 125, -126, 127, -128, i32::MIN, i32::MAX];

/// Text of any Unicode scalar values (NUL, controls and 4-byte ones included): mostly short,
/// sometimes over 250 bytes so the length needs a wider varint.
pub fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        8 => vec(any::<char>(), 0..12),
        1 => vec(any::<char>(), 251..300),
    ]
    .prop_map(String::from_iter)
}

/// Any `u64`, with small values and varint boundaries as likely as large ones.
pub fn wide_u64() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![any::<u64>(), 0..=1024u64, select(U64_EDGES)]
}

/// Any `u32`, with small values and varint boundaries as likely as large ones.
pub fn wide_u32() -> impl Strategy<Value = u32> + Clone {
    prop_oneof![any::<u32>(), 0..=1024u32, select(U32_EDGES)]
}

/// Any `u16`, with small values and varint boundaries as likely as large ones.
pub fn wide_u16() -> impl Strategy<Value = u16> + Clone {
    prop_oneof![any::<u16>(), 0..=1024u16, select(U16_EDGES)]
}

/// Any `i32`, with exit codes, signal numbers and zigzag boundaries as likely as the rest.
pub fn wide_i32() -> impl Strategy<Value = i32> + Clone {
    prop_oneof![any::<i32>(), -300..=300i32, select(I32_EDGES)]
}
