//! Strategies for pod events.

use proptest::collection::vec;
use proptest::prelude::*;

use super::{exit_status, text, wide_u64};
use crate::pod_event::{PodEvent, ScopeRule};

/// Any [`ScopeRule`].
pub fn scope_rule() -> impl Strategy<Value = ScopeRule> {
    (text(), any::<bool>(), any::<bool>()).prop_map(|(target, write, recursive)| ScopeRule {
        target,
        write,
        recursive,
    })
}

/// Any [`PodEvent`], every variant.
pub fn pod_event() -> impl Strategy<Value = PodEvent> {
    prop_oneof![
        text().prop_map(|pod_name| PodEvent::TurnEnded { pod_name }),
        (text(), text()).prop_map(|(pod_name, message)| PodEvent::Errored { pod_name, message }),
        text().prop_map(|pod_name| PodEvent::ShutDown { pod_name }),
        (text(), text(), vec(scope_rule(), 0..4)).prop_map(|(parent_pod, sub_pod, scope)| {
            PodEvent::ScopeSubDelegated {
                parent_pod,
                sub_pod,
                scope,
            }
        }),
        (text(), exit_status()).prop_map(|(pod_name, exit)| PodEvent::Crashed { pod_name, exit }),
        (text(), wide_u64()).prop_map(|(pod_name, generation)| PodEvent::Restarted {
            pod_name,
            generation
        }),
        text().prop_map(|pod_name| PodEvent::Reclaimed { pod_name }),
    ]
}

variants!(PodEvent {
    TurnEnded,
    Errored,
    ShutDown,
    ScopeSubDelegated,
    Crashed,
    Restarted,
    Reclaimed,
});

arbitrary! {
    ScopeRule => scope_rule();
    PodEvent => pod_event();
}
