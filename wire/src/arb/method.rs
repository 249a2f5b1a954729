//! Strategies for methods.

use proptest::collection::vec;
use proptest::prelude::*;

use super::{pod_event, text, wide_u64};
use crate::method::{Method, Segment};

/// Any [`Segment`], every variant.
pub fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![text().prop_map(Segment::Text)]
}

/// Any [`Method`], every variant.
pub fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        vec(segment(), 0..4).prop_map(|input| Method::Run { input }),
        text().prop_map(|message| Method::Notify { message }),
        pod_event().prop_map(Method::PodEvent),
        Just(Method::Resume),
        Just(Method::Cancel),
        Just(Method::Pause),
        Just(Method::Compact),
        Just(Method::ListRewindTargets),
        (wide_u64(), wide_u64()).prop_map(|(target, expected_head_entries)| Method::RewindTo {
            target,
            expected_head_entries
        }),
        Just(Method::Shutdown),
        Just(Method::ListVisiblePods),
        text().prop_map(|name| Method::InspectPod { name }),
        text().prop_map(|name| Method::AttachOrRestorePod { name }),
        Just(Method::Snapshot),
        crate::arb::event::item().prop_map(|item| Method::Record { item }),
    ]
}

variants!(Segment { Text });
variants!(Method {
    Run,
    Notify,
    PodEvent,
    Resume,
    Cancel,
    Pause,
    Compact,
    ListRewindTargets,
    RewindTo,
    Shutdown,
    ListVisiblePods,
    InspectPod,
    AttachOrRestorePod,
    Snapshot,
    Record,
});

arbitrary! {
    Segment => segment();
    Method => method();
}
