//! The llm engine when the provider fails or the turn is cancelled: retries, timeouts,
//! give-ups and prompt cancellation, against the mock speaking OpenAI chat completions
//! (the retry logic is the same for both protocols; `llm_anthropic.rs` covers what is
//! Anthropic's own).

#[path = "llm_support.rs"]
mod support;

use std::time::Duration;

use podsup_config::{LlmScheme, LlmSpec};
use podsup_pod_worker::engine::{EngineError, TurnEnd};
use podsup_tests::mock_llm::{Framing, MockLlm, Reply, openai};
use podsup_wire::{Event, Item};
use support::{drive, engine, run, spec, user};

fn mock_and_spec() -> (MockLlm, LlmSpec) {
    let mock = MockLlm::start();
    let spec = spec(LlmScheme::OpenaiChat, &mock);
    (mock, spec)
}

#[tokio::test]
async fn rate_limited_then_answered_after_retry_after() {
    let (mock, spec) = mock_and_spec();
    mock.push(
        openai::error(429, "Rate limit reached for requests").with_header("Retry-After", "1"),
    );
    mock.push(openai::text(&["ok"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    let retries = outcome.retries();
    assert_eq!(retries.len(), 1, "{retries:?}");
    let (attempt, wait_ms, status, error) = &retries[0];
    assert_eq!((*attempt, *status), (1, Some(429)));
    assert_eq!(*wait_ms, 1000);
    assert!(error.contains("Rate limit reached for requests"), "{error}");
    assert!(
        outcome.elapsed >= Duration::from_millis(950),
        "{:?}",
        outcome.elapsed
    );
    assert_eq!(outcome.deltas(), ["ok"]);
    assert!(outcome.events.contains(&Event::LlmRetry {
        call: 1,
        attempt: 1,
        max: 3,
        wait_ms: 1000,
        status: Some(429),
        error: "HTTP 429: Rate limit reached for requests".into(),
    }));
}

#[tokio::test]
async fn server_errors_exhaust_the_attempts() {
    let (mock, spec) = mock_and_spec();
    for _ in 0..3 {
        mock.push(openai::error(500, "The server had an error"));
    }
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    let message = outcome.provider_error();
    assert!(
        message.contains("HTTP 500: The server had an error"),
        "{message}"
    );
    assert!(message.contains("/v1/chat/completions"), "{message}");
    assert!(message.contains("after 3 attempts"), "{message}");
    let statuses: Vec<Option<u16>> = outcome.retries().iter().map(|r| r.2).collect();
    assert_eq!(statuses, [Some(500), Some(500)]);
    assert_eq!(mock.requests().len(), 3);
    assert!(outcome.commits.is_empty());
}

#[tokio::test]
async fn a_bad_request_is_not_retried() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::error(400, "Invalid 'messages[0].content': empty"));
    mock.push(openai::text(&["never sent"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    let message = outcome.provider_error();
    assert!(
        message.contains("HTTP 400: Invalid 'messages[0].content': empty"),
        "{message}"
    );
    assert!(!message.contains("attempts"), "{message}");
    assert!(outcome.retries().is_empty());
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_cut_mid_reply_is_retried() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::text(&["Hel", "lo"], Duration::ZERO).cut_after(2));
    mock.push(openai::text(&["Hel", "lo"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    let retries = outcome.retries();
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(retries[0].2, None);
    assert!(retries[0].3.contains("stream broke"), "{retries:?}");
    // The cut attempt's delta was streamed; only the complete reply is committed.
    assert_eq!(outcome.deltas(), ["Hel", "Hel", "lo"]);
    assert_eq!(
        outcome.commits,
        vec![Item::Assistant {
            text: "Hello".into()
        }]
    );
}

#[tokio::test]
async fn a_clean_end_without_done_is_a_cut_stream() {
    let (mock, spec) = mock_and_spec();
    mock.push(
        openai::text(&["Hel", "lo"], Duration::ZERO)
            .framed(Framing::Close)
            .cut_after(3),
    );
    mock.push(openai::text(&["Hello"], Duration::ZERO).framed(Framing::Close));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    let retries = outcome.retries();
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(
        retries[0].3,
        "the stream ended before its end marker ([DONE])"
    );
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
    mock.push(openai::text(&["late"], Duration::from_secs(10)));
    mock.push(openai::text(&["quick"], Duration::ZERO));
    let mut llm = engine(LlmSpec {
        idle_timeout_ms: 200,
        ..spec
    });
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    let retries = outcome.retries();
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(
        retries[0].3,
        "the stream stalled: nothing received for 200 ms"
    );
    assert_eq!(outcome.deltas(), ["quick"]);
    assert!(
        outcome.elapsed < Duration::from_secs(3),
        "{:?}",
        outcome.elapsed
    );
}

#[tokio::test]
async fn silence_before_the_headers_times_out_and_is_retried() {
    let (mock, spec) = mock_and_spec();
    mock.push(Reply::Hang {
        for_: Duration::from_secs(10),
    });
    mock.push(openai::text(&["there"], Duration::ZERO));
    let mut llm = engine(LlmSpec {
        request_timeout_ms: 200,
        ..spec
    });
    let outcome = run(&mut llm, user("hi")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    let retries = outcome.retries();
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(retries[0].3, "no response within 200 ms");
}

#[tokio::test]
async fn an_unreachable_provider_is_a_transport_error() {
    let unreachable = {
        let mock = MockLlm::start();
        mock.url()
    };
    let mut llm = engine(LlmSpec {
        max_attempts: 2,
        ..LlmSpec::new(LlmScheme::OpenaiChat, unreachable, "m")
    });
    let outcome = run(&mut llm, user("hi")).await;
    let message = outcome.provider_error();
    assert!(message.contains("error sending request"), "{message}");
    assert!(message.contains("after 2 attempts"), "{message}");
    assert_eq!(outcome.retries().len(), 1);
}

#[tokio::test]
async fn cancel_during_a_slow_stream_returns_promptly() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::text(&["a", "b", "c"], Duration::from_secs(1)));
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
    assert!(outcome.commits.is_empty());
    assert!(outcome.events.contains(&Event::LlmCallEnd { call: 1 }));
}

#[tokio::test]
async fn cancel_during_a_retry_wait_returns_promptly() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::error(429, "slow down").with_header("Retry-After", "30"));
    let mut llm = engine(LlmSpec {
        retry_max_ms: 60_000,
        ..spec
    });
    let outcome = drive(&mut llm, user("hi"), |event| {
        matches!(event, Event::LlmRetry { .. })
    })
    .await;
    assert_eq!(outcome.result, Err(EngineError::Cancelled));
    assert_eq!(outcome.retries()[0].1, 30_000);
    let cancel_to_end = outcome.cancel_to_end.expect("cancelled");
    assert!(
        cancel_to_end < Duration::from_millis(300),
        "{cancel_to_end:?}"
    );
}

#[tokio::test]
async fn cancel_during_a_tool_answers_the_call() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::tool_call("call_s", "stall", &["{}"]));
    let mut llm = engine(spec);
    let outcome = drive(&mut llm, user("wait"), |event| {
        matches!(event, Event::ToolCallDone { .. })
    })
    .await;
    assert_eq!(outcome.result, Err(EngineError::Cancelled));
    assert!(outcome.cancel_to_end.expect("cancelled") < Duration::from_millis(300));
    assert_eq!(
        outcome.commits.last(),
        Some(&Item::ToolResult {
            id: "call_s".into(),
            output: "cancelled before the tool finished".into(),
            is_error: true
        })
    );
}
