//! Decoding an Anthropic messages stream: `message_start`, content blocks (`text`,
//! `tool_use`, `thinking`) with their deltas, `message_delta`, `message_stop`; `ping`s
//! in between; `error` when the provider fails mid-stream. Unknown event and block types
//! are ignored, as the API's versioning policy asks.

use serde::Deserialize;

use crate::engine::llm::error::AttemptError;
use crate::engine::llm::sse::SseEvent;
use crate::engine::llm::step::{Delta, Usage};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: u32,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: MessageDeltaBody,
        usage: Option<UsageBody>,
    },
    MessageStop,
    Ping,
    Error {
        error: ErrorBody,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct MessageStart {
    usage: Option<UsageBody>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDeltaBody {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct UsageBody {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

/// The state of one stream: which open blocks are thinking blocks.
#[derive(Default)]
pub(crate) struct Decoder {
    thinking_blocks: Vec<u32>,
}

impl Decoder {
    /// A decoder at the start of a stream.
    pub(crate) fn new() -> Decoder {
        Decoder::default()
    }

    /// The deltas of one SSE event.
    pub(crate) fn feed(&mut self, event: &SseEvent) -> Result<Vec<Delta>, AttemptError> {
        let parsed: StreamEvent =
            serde_json::from_str(&event.data).map_err(|source| AttemptError::Malformed {
                what: "messages stream",
                source,
            })?;
        let deltas = match parsed {
            StreamEvent::MessageStart { message } => message.usage.map(usage).into_iter().collect(),
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block),
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => vec![Delta::Text(text)],
                BlockDelta::InputJsonDelta { partial_json } => vec![Delta::ToolArgs {
                    index,
                    json: partial_json,
                }],
                BlockDelta::ThinkingDelta { thinking } => vec![Delta::Thinking(thinking)],
                BlockDelta::Other => Vec::new(),
            },
            StreamEvent::ContentBlockStop { index } => {
                let before = self.thinking_blocks.len();
                self.thinking_blocks.retain(|open| *open != index);
                if self.thinking_blocks.len() < before {
                    vec![Delta::ThinkingEnd]
                } else {
                    Vec::new()
                }
            }
            StreamEvent::MessageDelta {
                delta,
                usage: counts,
            } => {
                let mut deltas: Vec<Delta> =
                    delta.stop_reason.map(Delta::Stop).into_iter().collect();
                deltas.extend(counts.map(usage));
                deltas
            }
            StreamEvent::MessageStop => vec![Delta::End],
            StreamEvent::Ping | StreamEvent::Unknown => Vec::new(),
            StreamEvent::Error { error } => {
                return Err(AttemptError::InStream {
                    kind: error.kind,
                    message: error.message,
                });
            }
        };
        Ok(deltas)
    }

    fn block_start(&mut self, index: u32, block: Block) -> Vec<Delta> {
        match block {
            Block::Text { text } if text.is_empty() => Vec::new(),
            Block::Text { text } => vec![Delta::Text(text)],
            Block::ToolUse { id, name } => vec![Delta::ToolStart { index, id, name }],
            Block::Thinking { thinking } => {
                self.thinking_blocks.push(index);
                let mut deltas = vec![Delta::ThinkingStart];
                if !thinking.is_empty() {
                    deltas.push(Delta::Thinking(thinking));
                }
                deltas
            }
            Block::Other => Vec::new(),
        }
    }
}

fn usage(body: UsageBody) -> Delta {
    Delta::Usage(Usage {
        input: body.input_tokens,
        output: body.output_tokens,
        cache_read: body.cache_read_input_tokens,
    })
}

#[cfg(test)]
mod tests;
