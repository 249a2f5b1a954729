//! One LLM call's reply as it streams: provider-neutral deltas in, live events out, and
//! the complete reply at the end.

use podsup_wire::Event;

use crate::engine::TurnSink;

/// A piece of a streamed reply, as the protocol decoders report it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Delta {
    /// Reply text.
    Text(String),
    /// A thinking block started.
    ThinkingStart,
    /// Thinking text.
    Thinking(String),
    /// The thinking block ended.
    ThinkingEnd,
    /// Tool call number `index` of this reply started.
    ToolStart {
        /// Position of the call in the reply.
        index: u32,
        /// Provider's call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// A fragment of the JSON arguments of call `index`.
    ToolArgs {
        /// Position of the call in the reply.
        index: u32,
        /// The fragment.
        json: String,
    },
    /// Token counts; a field left `None` keeps what an earlier delta said.
    Usage(Usage),
    /// Why the model stopped, in the provider's words.
    Stop(String),
    /// The stream's end marker: the reply is complete.
    End,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Prompt tokens.
    pub(crate) input: Option<u64>,
    /// Generated tokens.
    pub(crate) output: Option<u64>,
    /// Prompt tokens read from the provider's cache.
    pub(crate) cache_read: Option<u64>,
}

/// How a complete reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopKind {
    /// The model ended its turn, or asked for tools.
    Done,
    /// The output token limit cut it.
    Truncated,
}

/// A tool call of a complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolCall {
    /// Provider's call id.
    pub(crate) id: String,
    /// Tool name.
    pub(crate) name: String,
    /// JSON arguments; `{}` when the model sent none.
    pub(crate) arguments: String,
}

/// A complete reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    /// The text, possibly empty.
    pub(crate) text: String,
    /// Tool calls, in the order the model made them.
    pub(crate) tool_calls: Vec<ToolCall>,
    /// Token counts, when the provider reported any.
    pub(crate) usage: Option<Usage>,
    /// How it ended.
    pub(crate) stop: StopKind,
}

/// The stop reasons that mean the output limit cut the reply.
const TRUNCATED: &[&str] = &["length", "max_tokens", "model_context_window_exceeded"];

/// The reply being received in one attempt. Streams live events to the sink as deltas
/// arrive; commits nothing.
pub(crate) struct Step<'s> {
    sink: &'s TurnSink,
    text: String,
    thinking: String,
    calls: Vec<(u32, ToolCall)>,
    usage: Option<Usage>,
    stop: Option<String>,
    ended: bool,
}

impl<'s> Step<'s> {
    /// An empty reply streaming to `sink`.
    pub(crate) fn new(sink: &'s TurnSink) -> Step<'s> {
        Step {
            sink,
            text: String::new(),
            thinking: String::new(),
            calls: Vec::new(),
            usage: None,
            stop: None,
            ended: false,
        }
    }

    /// Applies one delta.
    pub(crate) fn apply(&mut self, delta: Delta) {
        match delta {
            Delta::Text(text) => {
                self.text.push_str(&text);
                self.sink.event(Event::TextDelta { text });
            }
            Delta::ThinkingStart => {
                self.thinking.clear();
                self.sink.event(Event::ThinkingStart);
            }
            Delta::Thinking(text) => {
                self.thinking.push_str(&text);
                self.sink.event(Event::ThinkingDelta { text });
            }
            Delta::ThinkingEnd => {
                let text = std::mem::take(&mut self.thinking);
                self.sink.event(Event::ThinkingDone { text });
            }
            Delta::ToolStart { index, id, name } => {
                self.sink.event(Event::ToolCallStart {
                    id: id.clone(),
                    name: name.clone(),
                });
                let call = ToolCall {
                    id,
                    name,
                    arguments: String::new(),
                };
                self.calls.push((index, call));
            }
            Delta::ToolArgs { index, json } => {
                if let Some((_, call)) = self.calls.iter_mut().find(|(at, _)| *at == index) {
                    call.arguments.push_str(&json);
                    self.sink.event(Event::ToolCallArgsDelta {
                        id: call.id.clone(),
                        json,
                    });
                }
            }
            Delta::Usage(usage) => {
                let known = self.usage.get_or_insert_default();
                known.input = usage.input.or(known.input);
                known.output = usage.output.or(known.output);
                known.cache_read = usage.cache_read.or(known.cache_read);
            }
            Delta::Stop(reason) => self.stop = Some(reason),
            Delta::End => self.ended = true,
        }
    }

    /// Whether the end marker arrived.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// The complete reply, once [`Step::ended`].
    pub(crate) fn finish(self) -> Reply {
        let stop = match self.stop.as_deref() {
            Some(reason) if TRUNCATED.contains(&reason) => StopKind::Truncated,
            Some(_) | None => StopKind::Done,
        };
        let mut calls = self.calls;
        calls.sort_by_key(|(index, _)| *index);
        let tool_calls = calls
            .into_iter()
            .map(|(_, mut call)| {
                if call.arguments.trim().is_empty() {
                    call.arguments = "{}".to_owned();
                }
                call
            })
            .collect();
        Reply {
            text: self.text,
            tool_calls,
            usage: self.usage,
            stop,
        }
    }
}
