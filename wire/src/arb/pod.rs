//! Strategies for the root ↔ pod envelopes and the handshake.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::{event, method, pod_event, pod_reply, pod_request, text, wide_i32, wide_u32, wide_u64};
use crate::pod::{EngineSpec, ExitStatus, Hello, Init, PodToRoot, RootToPod};

/// Any [`Hello`].
pub fn hello() -> impl Strategy<Value = Hello> {
    (wide_u32(), wide_u32()).prop_map(|(protocol, pid)| Hello { protocol, pid })
}

/// Any [`Init`].
pub fn init() -> impl Strategy<Value = Init> {
    (
        text(),
        wide_u64(),
        option::of(text()),
        text(),
        text(),
        engine_spec(),
        (text(), text()),
    )
        .prop_map(
            |(name, generation, parent, state_dir, runtime_dir, engine, (scope_json, fsync))| {
                Init {
                    name,
                    generation,
                    parent,
                    state_dir,
                    runtime_dir,
                    engine,
                    scope_json,
                    fsync,
                }
            },
        )
}

/// Any [`EngineSpec`], every variant.
pub fn engine_spec() -> impl Strategy<Value = EngineSpec> {
    prop_oneof![
        (wide_u32(), wide_u64()).prop_map(|(chunk_chars, delay_ms)| EngineSpec::Echo {
            chunk_chars,
            delay_ms
        }),
        (vec(text(), 0..4), wide_u64())
            .prop_map(|(argv, timeout_ms)| EngineSpec::Command { argv, timeout_ms }),
        text().prop_map(|config_json| EngineSpec::Llm { config_json }),
    ]
}

/// Any [`ExitStatus`], every variant.
pub fn exit_status() -> impl Strategy<Value = ExitStatus> {
    prop_oneof![
        wide_i32().prop_map(ExitStatus::Code),
        wide_i32().prop_map(ExitStatus::Signal),
    ]
}

/// Any [`PodToRoot`], every variant.
pub fn pod_to_root() -> impl Strategy<Value = PodToRoot> {
    prop_oneof![
        hello().prop_map(PodToRoot::Hello),
        Just(PodToRoot::Ready),
        event().prop_map(PodToRoot::Event),
        pod_event().prop_map(PodToRoot::PodEvent),
        (wide_u64(), pod_request()).prop_map(|(id, request)| PodToRoot::Request { id, request }),
    ]
}

/// Any [`RootToPod`], every variant.
pub fn root_to_pod() -> impl Strategy<Value = RootToPod> {
    prop_oneof![
        init().prop_map(RootToPod::Init),
        method().prop_map(RootToPod::Method),
        (wide_u64(), pod_reply()).prop_map(|(id, reply)| RootToPod::Reply { id, reply }),
    ]
}

variants!(EngineSpec { Echo, Command, Llm });
variants!(ExitStatus { Code, Signal });
variants!(PodToRoot {
    Hello,
    Ready,
    Event,
    PodEvent,
    Request
});
variants!(RootToPod {
    Init,
    Method,
    Reply
});

arbitrary! {
    Hello => hello();
    Init => init();
    EngineSpec => engine_spec();
    ExitStatus => exit_status();
    PodToRoot => pod_to_root();
    RootToPod => root_to_pod();
}
