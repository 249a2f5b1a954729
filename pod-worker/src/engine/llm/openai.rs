//! OpenAI chat completions: `POST {base_url}/chat/completions` with `stream: true`.
//!
//! Spoken by OpenAI and by most OpenAI-compatible servers. The limit is sent as
//! `max_tokens`, which those servers understand (OpenAI's newer `max_completion_tokens`
//! is not). A tool result carries no error flag in this protocol: a failed tool's output
//! is sent prefixed with `error: `.

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::history::{Message, Part, Role};
use super::request::Request;

mod stream;

pub(crate) use stream::Decoder;

/// The endpoint, after `base_url`.
pub(crate) const PATH: &str = "/chat/completions";

/// The end marker of a stream.
pub(crate) const END_MARKER: &str = "[DONE]";

/// `Authorization: Bearer KEY`, when there is a key.
pub(crate) fn headers(key: Option<&str>) -> Result<HeaderMap, reqwest::header::InvalidHeaderValue> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        let mut value = HeaderValue::from_str(&format!("Bearer {key}"))?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// The JSON body of `request`.
pub(crate) fn body(request: &Request<'_>) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.spec.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for message in request.messages {
        push_message(&mut messages, message);
    }
    let mut body = json!({
        "model": request.spec.model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
        "max_tokens": request.spec.max_tokens,
    });
    if let Some(temperature) = request.spec.temperature {
        body["temperature"] = json!(temperature);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    }
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

/// Lays out `message`: an assistant message with its tool calls, or the tool messages
/// answering the previous one followed by the user's text.
fn push_message(out: &mut Vec<Value>, message: &Message) {
    let text = texts(&message.parts);
    match message.role {
        Role::Assistant => {
            let calls: Vec<Value> = message
                .parts
                .iter()
                .filter_map(|part| match part {
                    Part::ToolCall {
                        id,
                        name,
                        arguments,
                    } => Some(json!({
                        "id": id,
                        "type": "function",
                        "function": { "name": name, "arguments": arguments },
                    })),
                    Part::Text(_) | Part::ToolResult { .. } => None,
                })
                .collect();
            let mut value = json!({ "role": "assistant", "content": text });
            if !calls.is_empty() {
                value["tool_calls"] = Value::Array(calls);
            }
            out.push(value);
        }
        Role::User => {
            for part in &message.parts {
                if let Part::ToolResult {
                    id,
                    output,
                    is_error,
                } = part
                {
                    let content = if *is_error {
                        format!("error: {output}")
                    } else {
                        output.clone()
                    };
                    out.push(json!({ "role": "tool", "tool_call_id": id, "content": content }));
                }
            }
            if let Some(text) = text {
                out.push(json!({ "role": "user", "content": text }));
            }
        }
    }
}

/// The text parts of a message joined by blank lines, or `None` without any.
fn texts(parts: &[Part]) -> Option<String> {
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|part| match part {
            Part::Text(text) => Some(text.as_str()),
            Part::ToolCall { .. } | Part::ToolResult { .. } => None,
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n\n"))
}
