//! Anthropic messages: `POST {base_url}/messages` with `stream: true`.
//!
//! Tool results are `tool_result` blocks at the start of the next user message, as the
//! API requires; tool calls are `tool_use` blocks after the assistant's text. A call's
//! `input` must be an object: arguments that are not a JSON object (a model's broken
//! JSON, already answered with a tool error) are replayed as `{}`.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::history::{Message, Part, Role};
use super::request::Request;

mod stream;

pub(crate) use stream::Decoder;

/// The endpoint, after `base_url`.
pub(crate) const PATH: &str = "/messages";

/// The end marker of a stream.
pub(crate) const END_MARKER: &str = "message_stop";

/// The API version this engine speaks.
pub(crate) const VERSION: &str = "2023-06-01";

/// `x-api-key: KEY` when there is a key, and `anthropic-version`.
pub(crate) fn headers(key: Option<&str>) -> Result<HeaderMap, reqwest::header::InvalidHeaderValue> {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(VERSION),
    );
    if let Some(key) = key {
        let mut value = HeaderValue::from_str(key)?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-api-key"), value);
    }
    Ok(headers)
}

/// The JSON body of `request`.
pub(crate) fn body(request: &Request<'_>) -> Value {
    let messages: Vec<Value> = request.messages.iter().map(message).collect();
    let mut body = json!({
        "model": request.spec.model,
        "max_tokens": request.spec.max_tokens,
        "messages": messages,
        "stream": true,
    });
    if let Some(system) = &request.spec.system {
        body["system"] = json!(system);
    }
    if let Some(temperature) = request.spec.temperature {
        body["temperature"] = json!(temperature);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": tool.parameters,
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

/// One message with its content blocks: tool results first, then text, then tool calls.
fn message(message: &Message) -> Value {
    let rank = |part: &&Part| match part {
        Part::ToolResult { .. } => 0,
        Part::Text(_) => 1,
        Part::ToolCall { .. } => 2,
    };
    let mut parts: Vec<&Part> = message.parts.iter().collect();
    parts.sort_by_key(rank);
    let content: Vec<Value> = parts.into_iter().map(block).collect();
    let role = match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    json!({ "role": role, "content": content })
}

fn block(part: &Part) -> Value {
    match part {
        Part::Text(text) => json!({ "type": "text", "text": text }),
        Part::ToolCall {
            id,
            name,
            arguments,
        } => {
            let input = serde_json::from_str::<Value>(arguments)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            json!({ "type": "tool_use", "id": id, "name": name, "input": input })
        }
        Part::ToolResult {
            id,
            output,
            is_error,
        } => json!({
            "type": "tool_result",
            "tool_use_id": id,
            "content": output,
            "is_error": is_error,
        }),
    }
}
