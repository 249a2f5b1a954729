//! `llm` pods speaking Anthropic messages (`scheme = "anthropic"`) to a scripted provider
//! ([`MockLlm`], a real HTTP server on 127.0.0.1), driven through `podsup ctl` as an
//! operator would: a streamed reply and its request (the `x-api-key` and
//! `anthropic-version` headers), a 429 with `Retry-After`, repeated 500s, an
//! `overloaded_error` event and a cut mid-stream, and `tool_use` of an orchestration tool
//! and of an unknown one. What both protocols share (pause, `kill -9`) is in `pod_llm.rs`.

use std::time::Duration;

use podsup_tests::llm_pod::{
    POD, bodies, ctl_code, ctl_json, items, pair, position, run_ends, start, streamed_text,
};
use podsup_tests::mock_llm::{MockLlm, Reply, anthropic};
use podsup_tests::output_text;
use serde_json::{Value, json};

const SCHEME: &str = "anthropic";

/// The `LlmRetry` events of `lines`.
fn retries(lines: &[Value]) -> Vec<&Value> {
    bodies(lines, "LlmRetry")
}

#[test]
fn json_send_streams_the_scripted_deltas_in_order_then_run_end_finished() {
    let mock = MockLlm::start();
    let pieces = ["Hel", "lo ", "from ", "Claude's mock"];
    mock.push(anthropic::text(&pieces, Duration::from_millis(20)));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let deltas: Vec<&str> = bodies(&lines, "TextDelta")
        .iter()
        .map(|body| body["text"].as_str().expect("delta text"))
        .collect();
    assert_eq!(deltas, pieces, "{lines:#?}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert_eq!(
        bodies(&lines, "Usage"),
        [&json!({
            "input_tokens": anthropic::INPUT_TOKENS,
            "output_tokens": pieces.len(),
            "cache_read_input_tokens": 0
        })],
        "{lines:#?}"
    );
    let last = lines.last().expect("a final line");
    assert!(last.get("ok").is_some(), "final line {last}");
    assert_eq!(
        items(&root, POD),
        [
            pair("User", "hi"),
            pair("Assistant", "Hello from Claude's mock")
        ]
    );
}

#[test]
fn the_request_goes_to_messages_with_the_key_and_version_headers_and_the_user_message() {
    let mock = MockLlm::start();
    mock.push(anthropic::text(&["ok"], Duration::ZERO));
    // Cargo sets CARGO_PKG_NAME for the test process, and podsup's pods inherit it.
    let root = start(&mock, SCHEME, r#"api_key_env = "CARGO_PKG_NAME""#);
    ctl_code(&root, &["send", POD, "plan the launch"], 0);
    let requests = mock.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(env!("CARGO_PKG_NAME")));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("authorization"), None);
    let body = &request.body;
    assert_eq!(body["stream"], true, "{body:#}");
    assert_eq!(body["model"], "mock-model", "{body:#}");
    assert_eq!(
        body["messages"],
        json!([{ "role": "user", "content": [{ "type": "text", "text": "plan the launch" }] }]),
        "{body:#}"
    );
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .expect("tools offered")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tools.contains(&"list_visible_pods"), "{tools:?}");
}

#[test]
fn a_keyless_pod_sends_the_version_header_and_no_key() {
    let mock = MockLlm::start();
    mock.push(anthropic::text(&["ok"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    ctl_code(&root, &["send", POD, "hi"], 0);
    let request = &mock.requests()[0];
    assert_eq!(request.header("x-api-key"), None);
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
}

#[test]
fn a_429_with_retry_after_is_reported_as_a_retry_then_the_reply_streams() {
    let mock = MockLlm::start();
    mock.push(
        anthropic::error(429, "Number of requests has exceeded your rate limit")
            .with_header("Retry-After", "1"),
    );
    mock.push(anthropic::text(&["after ", "the wait"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let retries = retries(&lines);
    assert_eq!(retries.len(), 1, "{lines:#?}");
    let retry = retries[0];
    assert_eq!(retry["status"], 429, "{retry}");
    // Retry-After asked for 1 s; retry_max caps it at 200 ms.
    assert_eq!(retry["wait_ms"], 200, "{retry}");
    let error = retry["error"].as_str().expect("retry error");
    assert!(error.contains("exceeded your rate limit"), "{error}");
    let retried_at = position(&lines, "LlmRetry").expect("retry");
    let text_at = position(&lines, "TextDelta").expect("text");
    assert!(retried_at < text_at, "{lines:#?}");
    assert_eq!(streamed_text(&lines), "after the wait");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
}

#[test]
fn repeated_500s_fail_the_send_naming_the_status_and_message_and_the_pod_stays_up() {
    let mock = MockLlm::start();
    mock.push(anthropic::error(500, "Internal server error"));
    mock.push(anthropic::error(500, "Internal server error"));
    let root = start(&mock, SCHEME, "max_attempts = 2");
    let out = ctl_code(&root, &["send", POD, "hi"], 1);
    let text = output_text(&out);
    assert!(text.contains("HTTP 500"), "{text}");
    assert!(text.contains("Internal server error"), "{text}");
    assert!(text.contains("/v1/messages"), "{text}");
    assert_eq!(mock.requests().len(), 2);
    let node = root.node(POD);
    assert_eq!(
        (&node["state"], &node["generation"]),
        (&json!("running"), &json!(1)),
        "{node:#}"
    );
    mock.push(anthropic::text(&["back ", "to normal"], Duration::ZERO));
    let lines = ctl_json(&root, &["send", POD, "again"], 0);
    assert_eq!(streamed_text(&lines), "back to normal", "{lines:#?}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
}

#[test]
fn an_overloaded_error_event_mid_stream_is_retried() {
    let mock = MockLlm::start();
    let Reply::Sse {
        mut events,
        cut_after,
        framing,
    } = anthropic::text(&["Hel", "lo"], Duration::ZERO)
    else {
        panic!("an event stream")
    };
    // message_start, content_block_start, ping, the "Hel" delta, then the error.
    events.truncate(4);
    events.push(anthropic::error_event(529, "Overloaded"));
    mock.push(Reply::Sse {
        events,
        cut_after,
        framing,
    });
    mock.push(anthropic::text(&["Hello"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let retries = retries(&lines);
    assert_eq!(retries.len(), 1, "{lines:#?}");
    let error = retries[0]["error"].as_str().expect("retry error");
    assert!(error.contains("overloaded_error: Overloaded"), "{error}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert_eq!(
        items(&root, POD),
        [pair("User", "hi"), pair("Assistant", "Hello")]
    );
}

#[test]
fn a_stream_cut_mid_reply_is_retried_and_only_the_complete_reply_is_committed() {
    let mock = MockLlm::start();
    mock.push(anthropic::text(&["Hel", "lo"], Duration::ZERO).cut_after(4));
    mock.push(anthropic::text(&["Hel", "lo"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let retries = retries(&lines);
    assert_eq!(retries.len(), 1, "{lines:#?}");
    assert_eq!(retries[0]["status"], Value::Null, "{lines:#?}");
    let retried_at = position(&lines, "LlmRetry").expect("retry");
    assert_eq!(streamed_text(&lines[..retried_at]), "Hel", "{lines:#?}");
    assert_eq!(streamed_text(&lines[retried_at..]), "Hello", "{lines:#?}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert_eq!(
        items(&root, POD),
        [pair("User", "hi"), pair("Assistant", "Hello")]
    );
}

#[test]
fn a_tool_use_of_list_visible_pods_is_run_and_its_result_sent_back_to_the_model() {
    let mock = MockLlm::start();
    mock.push(anthropic::tool_use(
        "toolu_1",
        "list_visible_pods",
        &["{", "}"],
    ));
    mock.push(anthropic::text(&["just ", "me"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "who is there?"], 0);
    assert_eq!(
        bodies(&lines, "ToolCallDone"),
        [&json!({ "id": "toolu_1", "name": "list_visible_pods", "arguments": "{}" })],
        "{lines:#?}"
    );
    let results = bodies(&lines, "ToolResult");
    assert_eq!(results.len(), 1, "{lines:#?}");
    let result = results[0];
    assert_eq!(result["is_error"], false, "{result}");
    let output = result["output"].as_str().expect("tool output");
    assert!(
        output.contains(POD),
        "the pod does not see itself: {output}"
    );
    assert_eq!(streamed_text(&lines), "just me");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let messages = &requests[1].body["messages"];
    assert_eq!(
        messages[1]["content"][0],
        json!({ "type": "tool_use", "id": "toolu_1", "name": "list_visible_pods", "input": {} }),
        "{messages:#}"
    );
    assert_eq!(
        messages[2],
        json!({
            "role": "user",
            "content": [{
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": output,
                "is_error": false
            }]
        }),
        "{messages:#}"
    );
}

#[test]
fn a_tool_use_of_an_unknown_tool_gets_an_error_result_and_the_turn_still_finishes() {
    let mock = MockLlm::start();
    mock.push(anthropic::tool_use("toolu_9", "no_such_tool", &["{}"]));
    mock.push(anthropic::text(&["sorry"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "go"], 0);
    let results = bodies(&lines, "ToolResult");
    assert_eq!(results.len(), 1, "{lines:#?}");
    assert_eq!(results[0]["is_error"], true, "{lines:#?}");
    let output = results[0]["output"].as_str().expect("tool output");
    assert!(output.contains("no_such_tool"), "{output}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let result_block = &requests[1].body["messages"][2]["content"][0];
    assert_eq!(result_block["tool_use_id"], "toolu_9", "{result_block:#}");
    assert_eq!(result_block["is_error"], true, "{result_block:#}");
}
