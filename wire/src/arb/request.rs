//! Strategies for a pod's orchestration requests and the root's replies.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::{engine_spec, scope_rule, segment, text, wide_u32, wide_u64};
use crate::request::{PodReply, PodRequest, RefusalKind};

/// Any [`PodRequest`], every variant.
pub fn pod_request() -> impl Strategy<Value = PodRequest> {
    prop_oneof![
        (text(), engine_spec(), text(), vec(scope_rule(), 0..4)).prop_map(
            |(name, engine, restart, scope)| PodRequest::Spawn {
                name,
                engine,
                restart,
                scope,
            }
        ),
        (text(), option::of(wide_u64()), vec(segment(), 0..4)).prop_map(
            |(name, generation, input)| PodRequest::Send {
                name,
                generation,
                input,
            }
        ),
        (text(), option::of(wide_u32()))
            .prop_map(|(name, last)| PodRequest::ReadOutput { name, last }),
        text().prop_map(|name| PodRequest::Stop { name }),
        Just(PodRequest::List),
        Just(PodRequest::ListVisible),
        text().prop_map(|name| PodRequest::Inspect { name }),
        text().prop_map(|name| PodRequest::AttachOrRestore { name }),
    ]
}

/// Any [`RefusalKind`], every variant.
pub fn refusal_kind() -> impl Strategy<Value = RefusalKind> {
    prop_oneof![
        Just(RefusalKind::NotFound),
        Just(RefusalKind::NotVisible),
        Just(RefusalKind::StaleGeneration),
        Just(RefusalKind::NameTaken),
        Just(RefusalKind::DepthLimit),
        Just(RefusalKind::ChildLimit),
        Just(RefusalKind::EngineNotAllowed),
        Just(RefusalKind::ScopeDenied),
        Just(RefusalKind::Invalid),
    ]
}

/// Any [`PodReply`], every variant.
pub fn pod_reply() -> impl Strategy<Value = PodReply> {
    prop_oneof![
        text().prop_map(|json| PodReply::Ok { json }),
        (refusal_kind(), text()).prop_map(|(kind, message)| PodReply::Refused { kind, message }),
    ]
}

variants!(PodRequest {
    Spawn,
    Send,
    ReadOutput,
    Stop,
    List,
    ListVisible,
    Inspect,
    AttachOrRestore
});
variants!(RefusalKind {
    NotFound,
    NotVisible,
    StaleGeneration,
    NameTaken,
    DepthLimit,
    ChildLimit,
    EngineNotAllowed,
    ScopeDenied,
    Invalid,
});
variants!(PodReply { Ok, Refused });

arbitrary! {
    PodRequest => pod_request();
    RefusalKind => refusal_kind();
    PodReply => pod_reply();
}
