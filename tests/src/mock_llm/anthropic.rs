//! Replies as Anthropic's messages API sends them with `stream: true`: `message_start`
//! (with input usage), per content block `content_block_start`, its deltas and
//! `content_block_stop`, a `ping`, `message_delta` (stop reason, output usage) and
//! `message_stop`. Every event is named with `event:`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Framing, Reply, SseEvent};

/// Input tokens every mock reply reports.
pub const INPUT_TOKENS: u64 = 13;

/// A streamed text reply in `pieces`, each sent `delay` after the previous one.
pub fn text(pieces: &[&str], delay: Duration) -> Reply {
    let mut events = vec![
        message_start(),
        event(json!({
            "type": "content_block_start",
            "index": 0,
            "content_block": { "type": "text", "text": "" }
        })),
        event(json!({ "type": "ping" })),
    ];
    events.extend(pieces.iter().map(|piece| {
        event(json!({
            "type": "content_block_delta",
            "index": 0,
            "delta": { "type": "text_delta", "text": piece }
        }))
        .after(delay)
    }));
    events.push(event(json!({ "type": "content_block_stop", "index": 0 })));
    finish(events, ("end_turn", pieces.len()))
}

/// A streamed reply using tool `name` (block `id`) with its input JSON in `pieces`.
pub fn tool_use(id: &str, name: &str, pieces: &[&str]) -> Reply {
    let mut events = vec![
        message_start(),
        event(json!({
            "type": "content_block_start",
            "index": 0,
            "content_block": { "type": "tool_use", "id": id, "name": name, "input": {} }
        })),
    ];
    events.extend(pieces.iter().map(|piece| {
        event(json!({
            "type": "content_block_delta",
            "index": 0,
            "delta": { "type": "input_json_delta", "partial_json": piece }
        }))
    }));
    events.push(event(json!({ "type": "content_block_stop", "index": 0 })));
    finish(events, ("tool_use", pieces.len()))
}

/// An error status with Anthropic's error body:
/// `{"type": "error", "error": {"type", "message"}}`.
pub fn error(code: u16, message: &str) -> Reply {
    Reply::status(code, error_body(code, message).to_string())
}

/// An `event: error` sent mid-stream, as Anthropic does when it fails after the headers
/// (`overloaded_error` for 529).
pub fn error_event(code: u16, message: &str) -> SseEvent {
    event(error_body(code, message))
}

fn error_body(code: u16, message: &str) -> Value {
    let kind = match code {
        400 | 413 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    json!({ "type": "error", "error": { "type": kind, "message": message } })
}

/// An event named after the `type` of its data.
fn event(data: Value) -> SseEvent {
    let name = data["type"].as_str().unwrap_or("unknown").to_owned();
    SseEvent::new(Some(&name), data.to_string())
}

fn message_start() -> SseEvent {
    event(json!({
        "type": "message_start",
        "message": {
            "id": "msg_mock",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "mock-model",
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {
                "input_tokens": INPUT_TOKENS,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 1
            }
        }
    }))
}

/// `events` followed by `message_delta` and `message_stop`.
fn finish(mut events: Vec<SseEvent>, (stop_reason, output_tokens): (&str, usize)) -> Reply {
    events.push(event(json!({
        "type": "message_delta",
        "delta": { "stop_reason": stop_reason, "stop_sequence": null },
        "usage": { "output_tokens": output_tokens }
    })));
    events.push(event(json!({ "type": "message_stop" })));
    Reply::Sse {
        events,
        cut_after: None,
        framing: Framing::Chunked,
    }
}
