//! Strategies for events and the history items they carry.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::{pod_event, text, wide_u16, wide_u32, wide_u64};
use crate::event::{AlertLevel, Entry, ErrorCode, Event, InvokeKind, Item, PodStatus, RunResult};

/// Any [`PodStatus`], every variant.
pub fn pod_status() -> impl Strategy<Value = PodStatus> {
    prop_oneof![
        Just(PodStatus::Idle),
        Just(PodStatus::Running),
        Just(PodStatus::Paused),
    ]
}

/// Any [`InvokeKind`], every variant.
pub fn invoke_kind() -> impl Strategy<Value = InvokeKind> {
    prop_oneof![
        Just(InvokeKind::UserSend),
        Just(InvokeKind::Notify),
        Just(InvokeKind::PodEvent),
        Just(InvokeKind::SystemReminder),
        Just(InvokeKind::Wakeup),
        Just(InvokeKind::Resume),
    ]
}

/// Any [`RunResult`], every variant.
pub fn run_result() -> impl Strategy<Value = RunResult> {
    prop_oneof![
        Just(RunResult::Finished),
        Just(RunResult::Paused),
        Just(RunResult::LimitReached),
        Just(RunResult::RolledBack),
        Just(RunResult::Cancelled),
    ]
}

/// Any [`ErrorCode`], every variant.
pub fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        Just(ErrorCode::AlreadyRunning),
        Just(ErrorCode::NotRunning),
        Just(ErrorCode::NotPaused),
        Just(ErrorCode::ProviderError),
        Just(ErrorCode::ToolError),
        Just(ErrorCode::InvalidRequest),
        Just(ErrorCode::Internal),
    ]
}

/// Any [`AlertLevel`], every variant.
pub fn alert_level() -> impl Strategy<Value = AlertLevel> {
    prop_oneof![
        Just(AlertLevel::Info),
        Just(AlertLevel::Warning),
        Just(AlertLevel::Error),
    ]
}

/// Any [`Item`], every variant.
pub fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        text().prop_map(|text| Item::User { text }),
        text().prop_map(|text| Item::Notification { text }),
        text().prop_map(|text| Item::Assistant { text }),
        (text(), text(), text()).prop_map(|(id, name, arguments)| Item::ToolCall {
            id,
            name,
            arguments
        }),
        (text(), text(), any::<bool>()).prop_map(|(id, output, is_error)| Item::ToolResult {
            id,
            output,
            is_error
        }),
        text().prop_map(|text| Item::System { text }),
        pod_event().prop_map(Item::PodEvent),
        text().prop_map(|json| Item::Registry { json }),
    ]
}

/// Any [`Entry`].
pub fn entry() -> impl Strategy<Value = Entry> {
    (wide_u64(), wide_u64(), item()).prop_map(|(seq, at_ms, item)| Entry { seq, at_ms, item })
}

/// Any [`Event`], every variant.
pub fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        pod_status().prop_map(|status| Event::Status { status }),
        text().prop_map(|text| Event::UserMessage { text }),
        text().prop_map(|text| Event::SystemItem { text }),
        invoke_kind().prop_map(|kind| Event::InvokeStart { kind }),
        wide_u64().prop_map(|turn| Event::TurnStart { turn }),
        (wide_u64(), run_result()).prop_map(|(turn, result)| Event::TurnEnd { turn, result }),
        wide_u32().prop_map(|call| Event::LlmCallStart { call }),
        wide_u32().prop_map(|call| Event::LlmCallEnd { call }),
        llm_retry(),
        text().prop_map(|text| Event::TextDelta { text }),
        text().prop_map(|text| Event::TextDone { text }),
        Just(Event::ThinkingStart),
        text().prop_map(|text| Event::ThinkingDelta { text }),
        text().prop_map(|text| Event::ThinkingDone { text }),
        (text(), text()).prop_map(|(id, name)| Event::ToolCallStart { id, name }),
        (text(), text()).prop_map(|(id, json)| Event::ToolCallArgsDelta { id, json }),
        (text(), text(), text()).prop_map(|(id, name, arguments)| Event::ToolCallDone {
            id,
            name,
            arguments
        }),
        (text(), text(), text(), any::<bool>()).prop_map(|(id, summary, output, is_error)| {
            Event::ToolResult {
                id,
                summary,
                output,
                is_error,
            }
        }),
        (wide_u64(), wide_u64(), wide_u64()).prop_map(
            |(input_tokens, output_tokens, cache_read_input_tokens)| Event::Usage {
                input_tokens,
                output_tokens,
                cache_read_input_tokens,
            }
        ),
        run_result().prop_map(|result| Event::RunEnd { result }),
        (error_code(), text()).prop_map(|(code, message)| Event::Error { code, message }),
        (vec(entry(), 0..4), text(), pod_status()).prop_map(|(entries, greeting, status)| {
            Event::Snapshot {
                entries,
                greeting,
                status,
            }
        }),
        (alert_level(), text()).prop_map(|(level, message)| Event::Alert { level, message }),
        vec((wide_u64(), text()), 0..4).prop_map(|targets| Event::RewindTargets { targets }),
        wide_u64().prop_map(|head_entries| Event::RewindApplied { head_entries }),
        text().prop_map(|json| Event::VisiblePods { json }),
        text().prop_map(|json| Event::PodInspection { json }),
        text().prop_map(|json| Event::PodAttachRestore { json }),
        Just(Event::CompactStart),
        (wide_u64(), wide_u64()).prop_map(|(before, after)| Event::CompactDone { before, after }),
        text().prop_map(|message| Event::CompactFailed { message }),
        Just(Event::Shutdown),
        entry().prop_map(Event::Committed),
    ]
}

fn llm_retry() -> impl Strategy<Value = Event> {
    (
        wide_u32(),
        wide_u32(),
        wide_u32(),
        wide_u64(),
        option::of(wide_u16()),
        text(),
    )
        .prop_map(
            |(call, attempt, max, wait_ms, status, error)| Event::LlmRetry {
                call,
                attempt,
                max,
                wait_ms,
                status,
                error,
            },
        )
}

variants!(PodStatus {
    Idle,
    Running,
    Paused
});
variants!(InvokeKind {
    UserSend,
    Notify,
    PodEvent,
    SystemReminder,
    Wakeup,
    Resume,
});
variants!(RunResult {
    Finished,
    Paused,
    LimitReached,
    RolledBack,
    Cancelled,
});
variants!(ErrorCode {
    AlreadyRunning,
    NotRunning,
    NotPaused,
    ProviderError,
    ToolError,
    InvalidRequest,
    Internal,
});
variants!(AlertLevel {
    Info,
    Warning,
    Error
});
variants!(Item {
    User,
    Notification,
    Assistant,
    ToolCall,
    ToolResult,
    System,
    PodEvent,
    Registry,
});
variants!(Event {
    Status,
    UserMessage,
    SystemItem,
    InvokeStart,
    TurnStart,
    TurnEnd,
    LlmCallStart,
    LlmCallEnd,
    LlmRetry,
    TextDelta,
    TextDone,
    ThinkingStart,
    ThinkingDelta,
    ThinkingDone,
    ToolCallStart,
    ToolCallArgsDelta,
    ToolCallDone,
    ToolResult,
    Usage,
    RunEnd,
    Error,
    Snapshot,
    Alert,
    RewindTargets,
    RewindApplied,
    VisiblePods,
    PodInspection,
    PodAttachRestore,
    CompactStart,
    CompactDone,
    CompactFailed,
    Shutdown,
    Committed,
});

arbitrary! {
    PodStatus => pod_status();
    InvokeKind => invoke_kind();
    RunResult => run_result();
    ErrorCode => error_code();
    AlertLevel => alert_level();
    Item => item();
    Entry => entry();
    Event => event();
}
