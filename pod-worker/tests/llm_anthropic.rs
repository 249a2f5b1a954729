//! The llm engine against the mock speaking Anthropic messages.

#[path = "llm_support.rs"]
mod support;

use std::time::Duration;

use podsup_config::{ApiKey, LlmScheme, LlmSpec};
use podsup_pod_worker::engine::{EngineError, TurnEnd};
use podsup_tests::mock_llm::{MockLlm, Reply, SseEvent, anthropic};
use podsup_wire::{Event, Item};
use serde_json::json;
use support::{drive, engine, run, spec, user};

fn mock_and_spec() -> (MockLlm, LlmSpec) {
    let mock = MockLlm::start();
    let spec = spec(LlmScheme::Anthropic, &mock);
    (mock, spec)
}

#[tokio::test]
async fn streamed_text_arrives_in_order_and_is_committed_once() {
    let (mock, spec) = mock_and_spec();
    mock.push(anthropic::text(&["Hel", "lo"], Duration::ZERO));
    let mut llm = engine(LlmSpec {
        system: Some("Be brief.".to_owned()),
        ..spec
    });
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    assert_eq!(
        outcome.events,
        vec![
            Event::LlmCallStart { call: 1 },
            Event::TextDelta { text: "Hel".into() },
            Event::TextDelta { text: "lo".into() },
            Event::Usage {
                input_tokens: anthropic::INPUT_TOKENS,
                output_tokens: 2,
                cache_read_input_tokens: 0
            },
            Event::TextDone {
                text: "Hello".into()
            },
            Event::LlmCallEnd { call: 1 },
        ]
    );
    assert_eq!(
        outcome.commits,
        vec![Item::Assistant {
            text: "Hello".into()
        }]
    );
    let request = &mock.requests()[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    let body = &request.body;
    assert_eq!(body["model"], "mock-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(
        body["messages"],
        json!([{ "role": "user", "content": [{ "type": "text", "text": "hi" }] }])
    );
    assert_eq!(body["tools"][0]["name"], "lookup");
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
}

#[tokio::test]
async fn a_tool_use_is_assembled_run_and_answered() {
    let (mock, spec) = mock_and_spec();
    mock.push(anthropic::tool_use(
        "toolu_1",
        "lookup",
        &["{\"pa", "th\":1}"],
    ));
    mock.push(anthropic::text(&["found it"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("find 1")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    assert!(outcome.events.contains(&Event::ToolCallDone {
        id: "toolu_1".into(),
        name: "lookup".into(),
        arguments: "{\"path\":1}".into()
    }));
    assert_eq!(
        outcome.commits,
        vec![
            Item::ToolCall {
                id: "toolu_1".into(),
                name: "lookup".into(),
                arguments: "{\"path\":1}".into()
            },
            Item::ToolResult {
                id: "toolu_1".into(),
                output: "looked up {\"path\":1}".into(),
                is_error: false
            },
            Item::Assistant {
                text: "found it".into()
            },
        ]
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].body["messages"],
        json!([
            { "role": "user", "content": [{ "type": "text", "text": "find 1" }] },
            {
                "role": "assistant",
                "content": [{
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "lookup",
                    "input": { "path": 1 }
                }]
            },
            {
                "role": "user",
                "content": [{
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "looked up {\"path\":1}",
                    "is_error": false
                }]
            },
        ])
    );
}

#[tokio::test]
async fn rate_limited_then_answered_after_retry_after() {
    let (mock, spec) = mock_and_spec();
    mock.push(
        anthropic::error(429, "Number of requests has exceeded your rate limit")
            .with_header("retry-after", "1"),
    );
    mock.push(anthropic::text(&["ok"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    assert_eq!(
        outcome.retries(),
        [(
            1,
            1000,
            Some(429),
            "HTTP 429: Number of requests has exceeded your rate limit".to_owned()
        )]
    );
    assert_eq!(outcome.deltas(), ["ok"]);
}

#[tokio::test]
async fn overloaded_every_time_exhausts_the_attempts() {
    let (mock, spec) = mock_and_spec();
    for _ in 0..3 {
        mock.push(anthropic::error(529, "Overloaded"));
    }
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    let message = outcome.provider_error();
    assert!(message.contains("HTTP 529: Overloaded"), "{message}");
    assert!(message.contains("after 3 attempts"), "{message}");
    assert_eq!(outcome.retries().len(), 2);
}

#[tokio::test]
async fn an_error_event_mid_stream_is_a_provider_error() {
    let (mock, spec) = mock_and_spec();
    let Reply::Sse {
        mut events,
        cut_after,
        framing,
    } = anthropic::text(&["Hel", "lo"], Duration::ZERO)
    else {
        panic!("an event stream")
    };
    events.truncate(4);
    events.push(anthropic::error_event(529, "Overloaded"));
    mock.push(Reply::Sse {
        events,
        cut_after,
        framing,
    });
    mock.push(anthropic::text(&["Hello"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    assert_eq!(
        outcome.retries(),
        [(
            1,
            outcome.retries()[0].1,
            None,
            "overloaded_error: Overloaded".to_owned()
        )]
    );
    assert_eq!(
        outcome.commits,
        vec![Item::Assistant {
            text: "Hello".into()
        }]
    );
    // An invalid request reported in the stream is final.
    mock.push(Reply::Sse {
        events: vec![SseEvent::new(
            Some("error"),
            json!({ "type": "error", "error": { "type": "invalid_request_error", "message": "prompt is too long" } })
                .to_string(),
        )],
        cut_after: None,
        framing: podsup_tests::mock_llm::Framing::Chunked,
    });
    let refused = run(&mut llm, user("hi")).await;
    let message = refused.provider_error();
    assert!(
        message.ends_with("invalid_request_error: prompt is too long"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bad_request_is_not_retried() {
    let (mock, spec) = mock_and_spec();
    mock.push(anthropic::error(400, "max_tokens: Field required"));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    assert!(
        outcome
            .provider_error()
            .contains("HTTP 400: max_tokens: Field required"),
        "{}",
        outcome.provider_error()
    );
    assert!(outcome.retries().is_empty());
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_is_retried() {
    let (mock, spec) = mock_and_spec();
    mock.push(anthropic::text(&["Hel", "lo"], Duration::ZERO).cut_after(5));
    mock.push(anthropic::text(&["Hello"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    assert_eq!(outcome.retries().len(), 1);
    assert_eq!(outcome.deltas(), ["Hel", "lo", "Hello"]);
    assert_eq!(
        outcome.commits,
        vec![Item::Assistant {
            text: "Hello".into()
        }]
    );
}

#[tokio::test]
async fn a_stalled_stream_times_out_and_is_retried() {
    let (mock, spec) = mock_and_spec();
    mock.push(anthropic::text(&["late"], Duration::from_secs(10)));
    mock.push(anthropic::text(&["quick"], Duration::ZERO));
    let mut llm = engine(LlmSpec {
        idle_timeout_ms: 200,
        ..spec
    });
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    assert_eq!(
        outcome.retries()[0].3,
        "the stream stalled: nothing received for 200 ms"
    );
    assert_eq!(outcome.deltas(), ["quick"]);
}

#[tokio::test]
async fn cancel_during_a_slow_stream_returns_promptly() {
    let (mock, spec) = mock_and_spec();
    mock.push(anthropic::text(&["a", "b"], Duration::from_secs(1)));
    let mut llm = engine(spec);
    let outcome = drive(&mut llm, user("hi"), |event| {
        matches!(event, Event::TextDelta { .. })
    })
    .await;
    assert_eq!(outcome.result, Err(EngineError::Cancelled));
    let cancel_to_end = outcome.cancel_to_end.expect("cancelled");
    assert!(
        cancel_to_end < Duration::from_millis(300),
        "{cancel_to_end:?}"
    );
}

#[tokio::test]
async fn the_key_goes_in_x_api_key_and_no_key_means_none() {
    let (mock, spec) = mock_and_spec();
    mock.push(anthropic::text(&["a"], Duration::ZERO));
    mock.push(anthropic::text(&["b"], Duration::ZERO));
    // cargo sets CARGO_PKG_NAME for the test process: a variable that is surely set.
    let mut keyed = engine(LlmSpec {
        api_key: ApiKey::Env {
            var: "CARGO_PKG_NAME".into(),
        },
        ..spec.clone()
    });
    assert_eq!(
        run(&mut keyed, user("hi")).await.result,
        Ok(TurnEnd::Finished)
    );
    let mut keyless = engine(spec);
    assert_eq!(
        run(&mut keyless, user("hi")).await.result,
        Ok(TurnEnd::Finished)
    );
    let requests = mock.requests();
    assert_eq!(
        requests[0].header("x-api-key"),
        Some(env!("CARGO_PKG_NAME"))
    );
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(requests[1].header("x-api-key"), None);
    assert_eq!(requests[1].header("anthropic-version"), Some("2023-06-01"));
}
