use super::Decoder;
use crate::engine::llm::error::AttemptError;
use crate::engine::llm::sse::SseEvent;
use crate::engine::llm::step::{Delta, Usage};

fn event(name: &str, data: &str) -> SseEvent {
    SseEvent {
        event: Some(name.to_owned()),
        data: data.to_owned(),
    }
}

fn feed_all(events: &[(&str, &str)]) -> Vec<Delta> {
    let mut decoder = Decoder::new();
    events
        .iter()
        .flat_map(|(name, data)| {
            decoder
                .feed(&event(name, data))
                .unwrap_or_else(|e| panic!("{data}: {e}"))
        })
        .collect()
}

#[test]
fn a_full_message_with_thinking_text_and_tool_use() {
    let deltas = feed_all(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":7}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"x"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
        ),
        ("ping", r#"{"type": "ping"}"#),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":1}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"read","input":{}}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"1}"}}"#,
        ),
        (
            "content_block_stop",
            r#"{"type":"content_block_stop","index":2}"#,
        ),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":40}}"#,
        ),
        ("some_future_event", r#"{"type":"some_future_event"}"#),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ]);
    assert_eq!(
        deltas,
        vec![
            Delta::Usage(Usage {
                input: Some(25),
                output: Some(1),
                cache_read: Some(7)
            }),
            Delta::ThinkingStart,
            Delta::Thinking("hmm".into()),
            Delta::ThinkingEnd,
            Delta::Text("Hi".into()),
            Delta::ToolStart {
                index: 2,
                id: "toolu_1".into(),
                name: "read".into()
            },
            Delta::ToolArgs {
                index: 2,
                json: "{\"a\":".into()
            },
            Delta::ToolArgs {
                index: 2,
                json: "1}".into()
            },
            Delta::Stop("tool_use".into()),
            Delta::Usage(Usage {
                input: None,
                output: Some(40),
                cache_read: None
            }),
            Delta::End,
        ]
    );
}

#[test]
fn an_error_event_is_a_provider_error() {
    let mut decoder = Decoder::new();
    let error = decoder
        .feed(&event(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ))
        .expect_err("error event");
    assert_eq!(error.to_string(), "overloaded_error: Overloaded");
    assert!(error.retryable());
    let refused = decoder
        .feed(&event(
            "error",
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#,
        ))
        .expect_err("error event");
    assert!(matches!(refused, AttemptError::InStream { .. }));
    assert!(!refused.retryable());
}
