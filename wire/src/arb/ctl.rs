//! Strategies for the ctl protocol.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::{event, exit_status, text, wide_u32, wide_u64};
use crate::ctl::{
    CtlError, CtlErrorKind, CtlRequest, CtlResponse, LastExit, NodeKind, NodeState, StatusNode,
};

/// Any [`CtlRequest`], every variant.
pub fn ctl_request() -> impl Strategy<Value = CtlRequest> {
    prop_oneof![
        Just(CtlRequest::Status),
        text().prop_map(|name| CtlRequest::Start { name }),
        text().prop_map(|name| CtlRequest::Stop { name }),
        text().prop_map(|name| CtlRequest::Restart { name }),
        Just(CtlRequest::Shutdown),
        (text(), text(), any::<bool>()).prop_map(|(name, text, wait)| CtlRequest::Send {
            name,
            text,
            wait
        }),
        (text(), text()).prop_map(|(name, message)| CtlRequest::Notify { name, message }),
        text().prop_map(|name| CtlRequest::Pause { name }),
        text().prop_map(|name| CtlRequest::Resume { name }),
        text().prop_map(|name| CtlRequest::Cancel { name }),
        text().prop_map(|name| CtlRequest::Attach { name }),
        (text(), any::<bool>(), option::of(wide_u32()), any::<bool>()).prop_map(
            |(name, follow, last, output)| CtlRequest::Logs {
                name,
                follow,
                last,
                output,
            }
        ),
        any::<bool>().prop_map(|dry_run| CtlRequest::Reload { dry_run }),
        (text(), text(), text(), text()).prop_map(|(parent, name, engine, restart)| {
            CtlRequest::Spawn {
                parent,
                name,
                engine,
                restart,
            }
        }),
        text().prop_map(|name| CtlRequest::Inspect { name }),
    ]
}

/// Any [`CtlErrorKind`], every variant.
pub fn ctl_error_kind() -> impl Strategy<Value = CtlErrorKind> {
    prop_oneof![
        Just(CtlErrorKind::Refused),
        Just(CtlErrorKind::NotFound),
        Just(CtlErrorKind::InvalidState),
        Just(CtlErrorKind::BadRequest),
        Just(CtlErrorKind::ShuttingDown),
        Just(CtlErrorKind::Internal),
    ]
}

/// Any [`CtlError`].
pub fn ctl_error() -> impl Strategy<Value = CtlError> {
    (ctl_error_kind(), text()).prop_map(|(kind, message)| CtlError { kind, message })
}

/// Any [`NodeKind`], every variant.
pub fn node_kind() -> impl Strategy<Value = NodeKind> {
    prop_oneof![
        Just(NodeKind::Supervisor),
        Just(NodeKind::Pod),
        Just(NodeKind::Process),
    ]
}

/// Any [`NodeState`], every variant.
pub fn node_state() -> impl Strategy<Value = NodeState> {
    prop_oneof![
        Just(NodeState::Starting),
        Just(NodeState::Running),
        Just(NodeState::Stopping),
        Just(NodeState::Stopped),
        Just(NodeState::Backoff),
        Just(NodeState::Failed),
    ]
}

/// Any [`LastExit`].
pub fn last_exit() -> impl Strategy<Value = LastExit> {
    (option::of(exit_status()), text()).prop_map(|(status, reason)| LastExit { status, reason })
}

/// Any [`StatusNode`] tree of at most 3 levels (the root and two below it).
pub fn status_node() -> impl Strategy<Value = StatusNode> {
    status_node_levels(3)
}

/// Any [`StatusNode`] tree of at most `levels` levels (at least 1), up to 3 children a node.
pub fn status_node_levels(levels: usize) -> BoxedStrategy<StatusNode> {
    let children = match levels {
        0 | 1 => Just(Vec::new()).boxed(),
        _ => vec(status_node_levels(levels - 1), 0..4).boxed(),
    };
    let node = (
        text(),
        node_kind(),
        node_state(),
        option::of(wide_u32()),
        wide_u64(),
        wide_u64(),
        option::of(wide_u64()),
        option::of(last_exit()),
    );
    (node, children)
        .prop_map(
            |((name, kind, state, pid, generation, restarts, uptime_ms, last_exit), children)| {
                StatusNode {
                    name,
                    kind,
                    state,
                    pid,
                    generation,
                    restarts,
                    uptime_ms,
                    last_exit,
                    children,
                }
            },
        )
        .boxed()
}

/// Any [`CtlResponse`], every variant.
pub fn ctl_response() -> impl Strategy<Value = CtlResponse> {
    prop_oneof![
        text().prop_map(|message| CtlResponse::Ok { message }),
        (text(), status_node()).prop_map(|(tree, root)| CtlResponse::Status { tree, root }),
        ctl_error().prop_map(CtlResponse::Error),
        (text(), wide_u64(), event()).prop_map(|(pod, generation, event)| CtlResponse::Event {
            pod,
            generation,
            event
        }),
        text().prop_map(|message| CtlResponse::Notice { message }),
        text().prop_map(|line| CtlResponse::OutputLine { line }),
        text().prop_map(|json| CtlResponse::Document { json }),
    ]
}

variants!(CtlRequest {
    Status,
    Start,
    Stop,
    Restart,
    Shutdown,
    Send,
    Notify,
    Pause,
    Resume,
    Cancel,
    Attach,
    Logs,
    Reload,
    Spawn,
    Inspect,
});
variants!(CtlErrorKind {
    Refused,
    NotFound,
    InvalidState,
    BadRequest,
    ShuttingDown,
    Internal,
});
variants!(NodeKind {
    Supervisor,
    Pod,
    Process
});
variants!(NodeState {
    Starting,
    Running,
    Stopping,
    Stopped,
    Backoff,
    Failed,
});
variants!(CtlResponse {
    Ok,
    Status,
    Error,
    Event,
    Notice,
    OutputLine,
    Document,
});

arbitrary! {
    CtlRequest => ctl_request();
    CtlErrorKind => ctl_error_kind();
    CtlError => ctl_error();
    NodeKind => node_kind();
    NodeState => node_state();
    LastExit => last_exit();
    StatusNode => status_node();
    CtlResponse => ctl_response();
}
