//! The llm engine against the mock speaking OpenAI chat completions.

#[path = "llm_support.rs"]
mod support;

use std::time::Duration;

use podsup_config::{ApiKey, LlmScheme, LlmSpec};
use podsup_pod_worker::engine::llm::Llm;
use podsup_pod_worker::engine::{EngineError, TurnEnd};
use podsup_tests::mock_llm::{MockLlm, openai};
use podsup_wire::{Event, Item};
use serde_json::json;
use support::{engine, run, spec, user};

const WAIT: Duration = Duration::from_secs(5);

fn mock_and_spec() -> (MockLlm, LlmSpec) {
    let mock = MockLlm::start();
    let spec = spec(LlmScheme::OpenaiChat, &mock);
    (mock, spec)
}

#[tokio::test]
async fn streamed_text_arrives_in_order_and_is_committed_once() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::text(&["Hel", "lo", " there"], Duration::ZERO));
    let mut llm = engine(LlmSpec {
        system: Some("Be brief.".to_owned()),
        temperature: Some(0.2),
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
            Event::TextDelta {
                text: " there".into()
            },
            Event::Usage {
                input_tokens: openai::PROMPT_TOKENS,
                output_tokens: 3,
                cache_read_input_tokens: 0
            },
            Event::TextDone {
                text: "Hello there".into()
            },
            Event::LlmCallEnd { call: 1 },
        ]
    );
    assert_eq!(
        outcome.commits,
        vec![Item::Assistant {
            text: "Hello there".into()
        }]
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = &request.body;
    assert_eq!(body["model"], "mock-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({ "include_usage": true }));
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(
        body["messages"],
        json!([
            { "role": "system", "content": "Be brief." },
            { "role": "user", "content": "hi" },
        ])
    );
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "lookup");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["required"],
        json!(["path"])
    );
}

#[tokio::test]
async fn a_tool_call_is_assembled_run_and_answered() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::tool_call("call_1", "lookup", &["{\"pa", "th\":1}"]));
    mock.push(openai::text(&["found it"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("find 1")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    let tool_events: Vec<&Event> = outcome
        .events
        .iter()
        .filter(|event| {
            matches!(
                event,
                Event::ToolCallStart { .. }
                    | Event::ToolCallArgsDelta { .. }
                    | Event::ToolCallDone { .. }
                    | Event::ToolResult { .. }
            )
        })
        .collect();
    assert_eq!(
        tool_events,
        vec![
            &Event::ToolCallStart {
                id: "call_1".into(),
                name: "lookup".into()
            },
            &Event::ToolCallArgsDelta {
                id: "call_1".into(),
                json: "{\"pa".into()
            },
            &Event::ToolCallArgsDelta {
                id: "call_1".into(),
                json: "th\":1}".into()
            },
            &Event::ToolCallDone {
                id: "call_1".into(),
                name: "lookup".into(),
                arguments: "{\"path\":1}".into()
            },
            &Event::ToolResult {
                id: "call_1".into(),
                summary: "lookup: looked up {\"path\":1}".into(),
                output: "looked up {\"path\":1}".into(),
                is_error: false
            },
        ]
    );
    assert_eq!(
        outcome.commits,
        vec![
            Item::ToolCall {
                id: "call_1".into(),
                name: "lookup".into(),
                arguments: "{\"path\":1}".into()
            },
            Item::ToolResult {
                id: "call_1".into(),
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
            { "role": "user", "content": "find 1" },
            {
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": { "name": "lookup", "arguments": "{\"path\":1}" }
                }]
            },
            { "role": "tool", "tool_call_id": "call_1", "content": "looked up {\"path\":1}" },
        ])
    );
}

#[tokio::test]
async fn an_unknown_tool_is_answered_with_an_error() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::tool_call("call_9", "nope", &["{}"]));
    mock.push(openai::text(&["sorry"], Duration::ZERO));
    let mut llm = engine(spec);
    let outcome = run(&mut llm, user("go")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::Finished));
    assert!(outcome.commits.contains(&Item::ToolResult {
        id: "call_9".into(),
        output: "unknown tool nope".into(),
        is_error: true
    }));
    assert!(mock.wait_requests(2, WAIT));
    assert_eq!(
        mock.requests()[1].body["messages"][2],
        json!({ "role": "tool", "tool_call_id": "call_9", "content": "error: unknown tool nope" })
    );
}

#[tokio::test]
async fn tool_rounds_are_limited() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::tool_call("call_1", "lookup", &["{\"path\":1}"]));
    let mut llm = engine(LlmSpec {
        max_tool_rounds: 1,
        ..spec
    });
    let outcome = run(&mut llm, user("go")).await;
    assert_eq!(outcome.result, Ok(TurnEnd::LimitReached));
    assert_eq!(outcome.commits.len(), 2, "{:?}", outcome.commits);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn the_key_goes_in_a_bearer_header_and_no_key_means_none() {
    let (mock, spec) = mock_and_spec();
    mock.push(openai::text(&["a"], Duration::ZERO));
    mock.push(openai::text(&["b"], Duration::ZERO));
    // cargo sets CARGO_PKG_NAME for the test process: a variable that is surely set,
    // without mutating the environment of a multi-threaded test.
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
        requests[0].header("authorization"),
        Some(concat!("Bearer ", env!("CARGO_PKG_NAME")))
    );
    assert_eq!(requests[1].header("authorization"), None);
}

#[test]
fn a_missing_key_source_is_named() {
    let spec = |api_key| LlmSpec {
        api_key,
        ..LlmSpec::new(LlmScheme::OpenaiChat, "http://127.0.0.1:9/v1", "m")
    };
    let missing_var = Llm::new(spec(ApiKey::Env {
        var: "PODSUP_TEST_NO_SUCH_VARIABLE".into(),
    }))
    .expect_err("unset variable");
    assert_eq!(
        missing_var,
        EngineError::Invalid(
            "llm.api_key_env: environment variable PODSUP_TEST_NO_SUCH_VARIABLE is not set".into()
        )
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let missing_file = Llm::new(spec(ApiKey::File {
        path: "no-such-key".into(),
        tree_dir: dir.path().to_owned(),
    }))
    .expect_err("missing file");
    let EngineError::Invalid(message) = missing_file else {
        panic!("{missing_file:?}")
    };
    assert!(
        message.starts_with(&format!(
            "llm.api_key_file: cannot read {}",
            dir.path().join("no-such-key").display()
        )),
        "{message}"
    );
}
