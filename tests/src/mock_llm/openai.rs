//! Replies as OpenAI's chat completions API sends them with `stream: true` and
//! `stream_options: {include_usage: true}`: a role chunk, content or tool-call chunks, a
//! chunk with `finish_reason`, a usage chunk with empty `choices`, then `data: [DONE]`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Framing, Reply, SseEvent};

/// Prompt tokens every mock reply reports.
pub const PROMPT_TOKENS: u64 = 11;

/// A streamed text reply in `pieces`, each sent `delay` after the previous one.
pub fn text(pieces: &[&str], delay: Duration) -> Reply {
    let mut events = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
    events.extend(
        pieces
            .iter()
            .map(|piece| chunk(json!({ "content": piece }), None).after(delay)),
    );
    finish(events, ("stop", pieces.len()))
}

/// A streamed reply calling tool `name` (call `id`) with its arguments in `pieces`.
pub fn tool_call(id: &str, name: &str, pieces: &[&str]) -> Reply {
    let first = json!({
        "role": "assistant",
        "content": null,
        "tool_calls": [{
            "index": 0,
            "id": id,
            "type": "function",
            "function": { "name": name, "arguments": "" }
        }]
    });
    let mut events = vec![chunk(first, None)];
    events.extend(pieces.iter().map(|piece| {
        let delta = json!({ "tool_calls": [{ "index": 0, "function": { "arguments": piece } }] });
        chunk(delta, None)
    }));
    finish(events, ("tool_calls", pieces.len()))
}

/// An error status with OpenAI's error body:
/// `{"error": {"message", "type", "param", "code"}}`.
pub fn error(code: u16, message: &str) -> Reply {
    let kind = match code {
        400 | 404 | 413 => "invalid_request_error",
        401 => "authentication_error",
        429 => "rate_limit_exceeded",
        _ => "server_error",
    };
    let body = json!({
        "error": { "message": message, "type": kind, "param": null, "code": null }
    });
    Reply::status(code, body.to_string())
}

/// One `chat.completion.chunk` event with `delta` and `finish_reason`.
fn chunk(delta: Value, finish_reason: Option<&str>) -> SseEvent {
    let data = json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "mock-model",
        "system_fingerprint": null,
        "choices": [{
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": null,
    });
    SseEvent::new(None, data.to_string())
}

/// `events` followed by the finish chunk, the usage chunk and `[DONE]`.
fn finish(mut events: Vec<SseEvent>, (reason, completion_tokens): (&str, usize)) -> Reply {
    events.push(chunk(json!({}), Some(reason)));
    let usage = json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "mock-model",
        "choices": [],
        "usage": {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": completion_tokens,
            "total_tokens": PROMPT_TOKENS + completion_tokens as u64,
            "prompt_tokens_details": { "cached_tokens": 0 },
        },
    });
    events.push(SseEvent::new(None, usage.to_string()));
    events.push(SseEvent::new(None, "[DONE]"));
    Reply::Sse {
        events,
        cut_after: None,
        framing: Framing::Chunked,
    }
}
