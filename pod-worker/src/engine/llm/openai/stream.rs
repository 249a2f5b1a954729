//! Decoding an OpenAI chat completions stream: `data:` chunks until `data: [DONE]`.
//!
//! Tool calls arrive as deltas keyed by `index`: the first names the call's `id` and
//! function `name`, the next ones carry pieces of `arguments`. Some compatible servers send
//! the name late or the whole call at once, so a call starts (and its buffered argument
//! pieces flow) once its name is known. `reasoning_content` (DeepSeek, vLLM) is streamed as
//! thinking.

use serde::Deserialize;

use super::END_MARKER;
use crate::engine::llm::error::AttemptError;
use crate::engine::llm::sse::SseEvent;
use crate::engine::llm::step::{Delta, Usage};

/// One `chat.completion.chunk`, the fields this engine reads.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<ChunkUsage>,
    error: Option<ChunkError>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<ChoiceDelta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct ChoiceDelta {
    content: Option<String>,
    reasoning_content: Option<String>,
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: u32,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct ChunkUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ChunkError {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A tool call whose name may not be known yet.
struct PendingCall {
    index: u32,
    id: Option<String>,
    name: Option<String>,
    started: bool,
    /// Argument pieces received before the start.
    buffered: String,
}

/// The state of one stream.
#[derive(Default)]
pub(crate) struct Decoder {
    calls: Vec<PendingCall>,
    thinking: bool,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub(crate) fn new() -> Decoder {
        Decoder::default()
    }

    /// The deltas of one SSE event.
    pub(crate) fn feed(&mut self, event: &SseEvent) -> Result<Vec<Delta>, AttemptError> {
        let mut deltas = Vec::new();
        if event.data.trim() == END_MARKER {
            self.end_thinking(&mut deltas);
            for call in &mut self.calls {
                start(call, &mut deltas, true);
            }
            deltas.push(Delta::End);
            return Ok(deltas);
        }
        let chunk: Chunk =
            serde_json::from_str(&event.data).map_err(|source| AttemptError::Malformed {
                what: "chat.completion.chunk",
                source,
            })?;
        if let Some(error) = chunk.error {
            return Err(AttemptError::InStream {
                kind: error.kind.unwrap_or_else(|| "error".to_owned()),
                message: error.message.unwrap_or_default(),
            });
        }
        for choice in chunk.choices {
            let delta = choice.delta.unwrap_or_default();
            self.choice_delta(delta, &mut deltas);
            if let Some(reason) = choice.finish_reason {
                self.end_thinking(&mut deltas);
                deltas.push(Delta::Stop(reason));
            }
        }
        if let Some(usage) = chunk.usage {
            deltas.push(Delta::Usage(Usage {
                input: usage.prompt_tokens,
                output: usage.completion_tokens,
                cache_read: usage.prompt_tokens_details.and_then(|d| d.cached_tokens),
            }));
        }
        Ok(deltas)
    }

    fn choice_delta(&mut self, delta: ChoiceDelta, deltas: &mut Vec<Delta>) {
        if let Some(text) = delta.reasoning_content.filter(|text| !text.is_empty()) {
            if !self.thinking {
                self.thinking = true;
                deltas.push(Delta::ThinkingStart);
            }
            deltas.push(Delta::Thinking(text));
        }
        if let Some(text) = delta.content.filter(|text| !text.is_empty()) {
            self.end_thinking(deltas);
            deltas.push(Delta::Text(text));
        }
        for call in delta.tool_calls.unwrap_or_default() {
            self.end_thinking(deltas);
            self.tool_call_delta(call, deltas);
        }
    }

    fn tool_call_delta(&mut self, delta: ToolCallDelta, deltas: &mut Vec<Delta>) {
        let at = match self.calls.iter().position(|call| call.index == delta.index) {
            Some(at) => at,
            None => {
                self.calls.push(PendingCall {
                    index: delta.index,
                    id: None,
                    name: None,
                    started: false,
                    buffered: String::new(),
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at];
        if call.id.is_none() {
            call.id = delta.id.filter(|id| !id.is_empty());
        }
        let (name, arguments) = match delta.function {
            Some(function) => (function.name, function.arguments),
            None => (None, None),
        };
        if call.name.is_none() {
            call.name = name.filter(|name| !name.is_empty());
        }
        if let Some(arguments) = arguments.filter(|arguments| !arguments.is_empty()) {
            call.buffered.push_str(&arguments);
        }
        start(call, deltas, false);
        if call.started && !call.buffered.is_empty() {
            deltas.push(Delta::ToolArgs {
                index: call.index,
                json: std::mem::take(&mut call.buffered),
            });
        }
    }

    fn end_thinking(&mut self, deltas: &mut Vec<Delta>) {
        if self.thinking {
            self.thinking = false;
            deltas.push(Delta::ThinkingEnd);
        }
    }
}

/// Starts `call` once its name is known (or at the end of the stream, `anyway`), with a
/// generated id if the server sent none; flushes what arguments arrived before.
fn start(call: &mut PendingCall, deltas: &mut Vec<Delta>, anyway: bool) {
    if call.started || (call.name.is_none() && !anyway) {
        return;
    }
    call.started = true;
    deltas.push(Delta::ToolStart {
        index: call.index,
        id: call
            .id
            .clone()
            .unwrap_or_else(|| format!("call_{}", call.index)),
        name: call.name.clone().unwrap_or_default(),
    });
    if anyway && !call.buffered.is_empty() {
        deltas.push(Delta::ToolArgs {
            index: call.index,
            json: std::mem::take(&mut call.buffered),
        });
    }
}

#[cfg(test)]
mod tests;
