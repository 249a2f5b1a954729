use super::Decoder;
use crate::engine::llm::error::AttemptError;
use crate::engine::llm::sse::SseEvent;
use crate::engine::llm::step::{Delta, Usage};

fn feed_all(datas: &[&str]) -> Vec<Delta> {
    let mut decoder = Decoder::new();
    datas
        .iter()
        .flat_map(|data| {
            let event = SseEvent {
                event: None,
                data: (*data).to_owned(),
            };
            decoder
                .feed(&event)
                .unwrap_or_else(|e| panic!("{data}: {e}"))
        })
        .collect()
}

#[test]
fn text_finish_reason_usage_and_done() {
    let deltas = feed_all(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":4}}}"#,
        "[DONE]",
    ]);
    assert_eq!(
        deltas,
        vec![
            Delta::Text("Hel".into()),
            Delta::Text("lo".into()),
            Delta::Stop("stop".into()),
            Delta::Usage(Usage {
                input: Some(9),
                output: Some(2),
                cache_read: Some(4)
            }),
            Delta::End,
        ]
    );
}

#[test]
fn tool_calls_are_assembled_by_index() {
    let deltas = feed_all(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read","arguments":""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\":1}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"name":"late"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ]);
    assert_eq!(
        deltas,
        vec![
            Delta::ToolStart {
                index: 0,
                id: "call_a".into(),
                name: "read".into()
            },
            Delta::ToolArgs {
                index: 0,
                json: "{\"pa".into()
            },
            Delta::ToolArgs {
                index: 0,
                json: "th\":1}".into()
            },
            Delta::ToolStart {
                index: 1,
                id: "call_b".into(),
                name: "late".into()
            },
            Delta::ToolArgs {
                index: 1,
                json: "{}".into()
            },
            Delta::Stop("tool_calls".into()),
            Delta::End,
        ]
    );
}

#[test]
fn reasoning_content_is_thinking() {
    let deltas = feed_all(&[
        r#"{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"ok"}}]}"#,
    ]);
    assert_eq!(
        deltas,
        vec![
            Delta::ThinkingStart,
            Delta::Thinking("hmm".into()),
            Delta::ThinkingEnd,
            Delta::Text("ok".into()),
        ]
    );
}

#[test]
fn errors_in_the_stream() {
    let mut decoder = Decoder::new();
    let event = |data: &str| SseEvent {
        event: None,
        data: data.to_owned(),
    };
    let error = decoder
        .feed(&event(
            r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
        ))
        .expect_err("error object");
    assert!(
        matches!(&error, AttemptError::InStream { kind, message } if kind == "server_error" && message == "overloaded"),
        "{error:?}"
    );
    assert!(error.retryable());
    let malformed = decoder.feed(&event("{not json")).expect_err("malformed");
    assert!(!malformed.retryable());
}
