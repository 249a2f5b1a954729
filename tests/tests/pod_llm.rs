//! `llm` pods speaking OpenAI chat completions to a scripted provider ([`MockLlm`], a real
//! HTTP server on 127.0.0.1), driven through `podsup ctl` as an operator would: a streamed
//! reply and its request, a 429 with `Retry-After`, repeated 500s, a stream cut mid-reply
//! or gone silent, tool calls (an orchestration tool and an unknown one), pause mid-stream
//! then resume, and `kill -9` of the pod mid-stream. `pod_llm_anthropic.rs` does the same
//! for Anthropic messages.

use std::time::Duration;

use podsup_tests::llm_pod::{
    POD, bodies, ctl_code, ctl_json, items, pair, position, run_ends, start, streamed_text,
};
use podsup_tests::mock_llm::{Framing, MockLlm, openai};
use podsup_tests::{WAIT, event_of, output_text, signal};
use serde_json::{Value, json};

const SCHEME: &str = "openai_chat";

/// A reply of `n` words, one every 100 ms (well inside the 500 ms idle timeout): long
/// enough to act on the pod while it streams.
fn slow_reply(n: usize) -> podsup_tests::mock_llm::Reply {
    let words: Vec<String> = (0..n).map(|i| format!("w{i} ")).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    openai::text(&words, Duration::from_millis(100))
}

/// The `LlmRetry` events of `lines`.
fn retries(lines: &[Value]) -> Vec<&Value> {
    bodies(lines, "LlmRetry")
}

#[test]
fn json_send_streams_the_scripted_deltas_in_order_then_run_end_finished() {
    let mock = MockLlm::start();
    let pieces = ["Hel", "lo ", "from ", "the mock"];
    mock.push(openai::text(&pieces, Duration::from_millis(20)));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let deltas: Vec<&str> = bodies(&lines, "TextDelta")
        .iter()
        .map(|body| body["text"].as_str().expect("delta text"))
        .collect();
    assert_eq!(deltas, pieces, "{lines:#?}");
    assert_eq!(streamed_text(&lines), "Hello from the mock");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert_eq!(
        bodies(&lines, "Usage"),
        [&json!({
            "input_tokens": openai::PROMPT_TOKENS,
            "output_tokens": pieces.len(),
            "cache_read_input_tokens": 0
        })],
        "{lines:#?}"
    );
    let last = lines.last().expect("a final line");
    assert!(last.get("ok").is_some(), "final line {last}");
    for line in &lines[..lines.len() - 1] {
        assert_eq!(
            (&line["pod"], &line["generation"]),
            (&json!(POD), &json!(1))
        );
    }
}

#[test]
fn logs_hold_the_user_entry_and_the_assistant_reply() {
    let mock = MockLlm::start();
    mock.push(openai::text(&["Hel", "lo"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    ctl_code(&root, &["send", POD, "hi"], 0);
    let out = ctl_code(&root, &["logs", POD], 0);
    let logs = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        logs.lines().collect::<Vec<_>>(),
        ["#0 user: hi", "#1 assistant: Hello"],
        "ctl logs {POD}"
    );
}

#[test]
fn the_request_streams_names_the_model_carries_the_user_message_and_offers_the_tools() {
    let mock = MockLlm::start();
    mock.push(openai::text(&["ok"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    ctl_code(&root, &["send", POD, "plan the launch"], 0);
    let requests = mock.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), None, "keyless pod");
    let body = &request.body;
    assert_eq!(body["stream"], true, "{body:#}");
    assert_eq!(body["model"], "mock-model", "{body:#}");
    assert_eq!(
        body["messages"],
        json!([{ "role": "user", "content": "plan the launch" }]),
        "{body:#}"
    );
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .expect("tools offered")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(tools.contains(&"list_visible_pods"), "{tools:?}");
}

#[test]
fn api_key_env_sends_the_variable_as_a_bearer_token() {
    let mock = MockLlm::start();
    mock.push(openai::text(&["ok"], Duration::ZERO));
    // Cargo sets CARGO_PKG_NAME for the test process, and podsup's pods inherit it.
    let root = start(&mock, SCHEME, r#"api_key_env = "CARGO_PKG_NAME""#);
    ctl_code(&root, &["send", POD, "hi"], 0);
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some(concat!("Bearer ", env!("CARGO_PKG_NAME")))
    );
}

#[test]
fn a_429_with_retry_after_is_reported_as_a_retry_then_the_reply_streams() {
    let mock = MockLlm::start();
    mock.push(
        openai::error(429, "Rate limit reached for requests").with_header("Retry-After", "1"),
    );
    mock.push(openai::text(&["after ", "the wait"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let retries = retries(&lines);
    assert_eq!(retries.len(), 1, "{lines:#?}");
    let retry = retries[0];
    assert_eq!(retry["status"], 429, "{retry}");
    assert_eq!(retry["attempt"], 1, "{retry}");
    // Retry-After asked for 1 s; retry_max caps it at 200 ms.
    assert_eq!(retry["wait_ms"], 200, "{retry}");
    let error = retry["error"].as_str().expect("retry error");
    assert!(error.contains("Rate limit reached for requests"), "{error}");
    let retried_at = position(&lines, "LlmRetry").expect("retry");
    let text_at = position(&lines, "TextDelta").expect("text");
    assert!(retried_at < text_at, "{lines:#?}");
    assert_eq!(streamed_text(&lines), "after the wait");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn repeated_500s_fail_the_send_naming_the_status_and_message_and_the_pod_stays_up() {
    let mock = MockLlm::start();
    mock.push(openai::error(500, "The server had an error"));
    mock.push(openai::error(500, "The server had an error"));
    let root = start(&mock, SCHEME, "max_attempts = 2");
    let out = ctl_code(&root, &["send", POD, "hi"], 1);
    let text = output_text(&out);
    assert!(text.contains("HTTP 500"), "{text}");
    assert!(text.contains("The server had an error"), "{text}");
    assert!(text.contains("after 2 attempts"), "{text}");
    assert_eq!(mock.requests().len(), 2);
    let node = root.node(POD);
    assert_eq!(
        (&node["state"], &node["generation"]),
        (&json!("running"), &json!(1)),
        "{node:#}"
    );
    mock.push(openai::text(&["back ", "to normal"], Duration::ZERO));
    let lines = ctl_json(&root, &["send", POD, "again"], 0);
    assert_eq!(streamed_text(&lines), "back to normal", "{lines:#?}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert_eq!(root.generation(POD), 1);
}

#[test]
fn json_send_of_a_failing_provider_reports_a_provider_error_event_and_ends_in_error() {
    let mock = MockLlm::start();
    mock.push(openai::error(500, "The server had an error"));
    mock.push(openai::error(503, "The engine is currently overloaded"));
    let root = start(&mock, SCHEME, "max_attempts = 2");
    let lines = ctl_json(&root, &["send", POD, "hi"], 1);
    let statuses: Vec<&Value> = retries(&lines).iter().map(|r| &r["status"]).collect();
    assert_eq!(statuses, [&json!(500)], "{lines:#?}");
    let errors = bodies(&lines, "Error");
    assert_eq!(errors.len(), 1, "{lines:#?}");
    assert_eq!(errors[0]["code"], "ProviderError", "{lines:#?}");
    let message = errors[0]["message"].as_str().expect("error message");
    assert!(message.contains("HTTP 503"), "{message}");
    assert!(
        message.contains("The engine is currently overloaded"),
        "{message}"
    );
    // The run's end is said once, as the final answer.
    let last = lines.last().expect("a final line");
    let said = last["error"]["message"].as_str().unwrap_or_default();
    assert!(said.contains("rolledback"), "final line {last}");
    assert!(
        !items(&root, POD)
            .iter()
            .any(|(kind, _)| kind == "Assistant"),
        "a failed turn committed a reply"
    );
}

#[test]
fn a_stream_cut_mid_reply_is_retried_and_only_the_complete_reply_is_committed() {
    let mock = MockLlm::start();
    mock.push(openai::text(&["Hel", "lo"], Duration::ZERO).cut_after(2));
    mock.push(openai::text(&["Hel", "lo"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let retries = retries(&lines);
    assert_eq!(retries.len(), 1, "{lines:#?}");
    assert_eq!(retries[0]["status"], Value::Null, "{lines:#?}");
    let error = retries[0]["error"].as_str().expect("retry error");
    assert!(error.contains("stream broke"), "{error}");
    // The cut attempt's delta was streamed; the retry streams the reply from its start.
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
fn a_stream_that_ends_before_done_is_retried() {
    let mock = MockLlm::start();
    mock.push(
        openai::text(&["Hel", "lo"], Duration::ZERO)
            .framed(Framing::Close)
            .cut_after(3),
    );
    mock.push(openai::text(&["Hello"], Duration::ZERO).framed(Framing::Close));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let retries = retries(&lines);
    assert_eq!(retries.len(), 1, "{lines:#?}");
    let error = retries[0]["error"].as_str().expect("retry error");
    assert!(error.contains("[DONE]"), "{error}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert_eq!(
        items(&root, POD),
        [pair("User", "hi"), pair("Assistant", "Hello")]
    );
}

#[test]
fn a_stream_silent_past_the_idle_timeout_is_retried() {
    let mock = MockLlm::start();
    // Two seconds of silence after the role chunk; idle_timeout is 500 ms.
    mock.push(openai::text(&["too ", "late"], Duration::from_secs(2)));
    mock.push(openai::text(&["on ", "time"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "hi"], 0);
    let retries = retries(&lines);
    assert_eq!(retries.len(), 1, "{lines:#?}");
    let error = retries[0]["error"].as_str().expect("retry error");
    assert!(error.contains("stalled"), "{error}");
    assert!(error.contains("500 ms"), "{error}");
    assert_eq!(streamed_text(&lines), "on time", "{lines:#?}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
}

#[test]
fn a_call_to_list_visible_pods_is_run_and_its_result_sent_back_to_the_model() {
    let mock = MockLlm::start();
    mock.push(openai::tool_call(
        "call_1",
        "list_visible_pods",
        &["{", "}"],
    ));
    mock.push(openai::text(&["just ", "me"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "who is there?"], 0);
    assert_eq!(
        bodies(&lines, "ToolCallDone"),
        [&json!({ "id": "call_1", "name": "list_visible_pods", "arguments": "{}" })],
        "{lines:#?}"
    );
    let results = bodies(&lines, "ToolResult");
    assert_eq!(results.len(), 1, "{lines:#?}");
    let result = results[0];
    assert_eq!(result["id"], "call_1", "{result}");
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
        messages[1]["tool_calls"][0]["function"]["name"], "list_visible_pods",
        "{messages:#}"
    );
    assert_eq!(
        messages[2],
        json!({ "role": "tool", "tool_call_id": "call_1", "content": output }),
        "{messages:#}"
    );
    let kinds: Vec<String> = items(&root, POD).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, ["User", "ToolCall", "ToolResult", "Assistant"]);
}

#[test]
fn a_call_to_an_unknown_tool_gets_an_error_result_and_the_turn_still_finishes() {
    let mock = MockLlm::start();
    mock.push(openai::tool_call("call_9", "no_such_tool", &["{}"]));
    mock.push(openai::text(&["sorry"], Duration::ZERO));
    let root = start(&mock, SCHEME, "");
    let lines = ctl_json(&root, &["send", POD, "go"], 0);
    let results = bodies(&lines, "ToolResult");
    assert_eq!(results.len(), 1, "{lines:#?}");
    assert_eq!(results[0]["is_error"], true, "{lines:#?}");
    let output = results[0]["output"].as_str().expect("tool output");
    assert!(output.contains("no_such_tool"), "{output}");
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    assert!(mock.wait_requests(2, WAIT));
    let tool_message = &mock.requests()[1].body["messages"][2];
    assert_eq!(tool_message["tool_call_id"], "call_9", "{tool_message:#}");
    assert!(
        tool_message["content"]
            .as_str()
            .is_some_and(|c| c.contains("no_such_tool")),
        "{tool_message:#}"
    );
}

#[test]
fn pause_mid_stream_ends_the_run_paused_and_resume_asks_the_model_again() {
    let mock = MockLlm::start();
    mock.push(slow_reply(100));
    let root = start(&mock, SCHEME, "");
    let attach = root.ctl_stream(&["--json", "attach", POD]);
    attach.wait_json("the snapshot", |l| position(l, "Snapshot").is_some());
    let mut send = root.ctl_stream(&["--json", "send", POD, "plan the launch"]);
    send.wait_json("the reply streaming", |l| {
        position(l, "TextDelta").is_some()
    });
    ctl_code(&root, &["pause", POD], 0);
    attach.wait_json("RunEnd Paused", |l| run_ends(l).contains(&"Paused"));
    let status = send.wait_exit(WAIT).expect("the paused send ends");
    assert!(status.success(), "{status:?}: {}", send.text());
    // Nothing of the interrupted reply is committed.
    assert_eq!(items(&root, POD), [pair("User", "plan the launch")]);
    assert_eq!(mock.requests().len(), 1);

    mock.push(openai::text(&["resumed ", "reply"], Duration::ZERO));
    let before = attach.json_lines().len();
    ctl_code(&root, &["resume", POD], 0);
    assert!(
        mock.wait_requests(2, WAIT),
        "resume sent no request; log:\n{}",
        root.log()
    );
    attach.wait_json("the resumed turn finishing", |l| {
        run_ends(&l[before..]).contains(&"Finished")
    });
    let resumed = &attach.json_lines()[before..];
    assert_eq!(streamed_text(resumed), "resumed reply", "{resumed:#?}");
    assert_eq!(
        mock.requests()[1].body["messages"],
        json!([{ "role": "user", "content": "plan the launch" }])
    );
    assert_eq!(
        items(&root, POD),
        [
            pair("User", "plan the launch"),
            pair("Assistant", "resumed reply")
        ]
    );
}

#[test]
fn kill_9_mid_stream_restarts_the_pod_holding_the_user_entry() {
    let mock = MockLlm::start();
    mock.push(slow_reply(100));
    let root = start(&mock, SCHEME, "");
    let mut send = root.ctl_stream(&["--json", "send", POD, "plan the launch"]);
    send.wait_json("the reply streaming", |l| {
        position(l, "TextDelta").is_some()
    });
    signal(root.pid_of(POD), libc::SIGKILL);
    root.wait_running(POD, 2);
    let status = send.wait_exit(WAIT).expect("the send ends with its pod");
    assert!(!status.success(), "{status:?}: {}", send.text());
    assert!(send.text().contains("SIGKILL"), "{}", send.text());
    let got = items(&root, POD);
    assert_eq!(
        got.first(),
        Some(&pair("User", "plan the launch")),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(kind, _)| kind == "Assistant"),
        "the interrupted reply was committed: {got:?}"
    );
    let logs = ctl_code(&root, &["logs", POD], 0);
    let logs = String::from_utf8_lossy(&logs.stdout);
    assert!(
        logs.lines().next() == Some("#0 user: plan the launch"),
        "{logs}"
    );
    // The new generation answers from the history it restored.
    mock.push(openai::text(&["back"], Duration::ZERO));
    let lines = ctl_json(&root, &["send", POD, "are you back?"], 0);
    assert_eq!(run_ends(&lines), ["Finished"], "{lines:#?}");
    for line in lines.iter().filter(|l| event_of(l).is_some()) {
        assert_eq!(line["generation"], 2, "{line}");
    }
    let last = mock.requests().last().cloned().expect("a request");
    let sent = last.body["messages"].to_string();
    assert!(sent.contains("plan the launch"), "{sent}");
    assert!(sent.contains("are you back?"), "{sent}");
}
