//! One turn of the llm engine: call the model, run the tools it asks for, call it again
//! with their results, until it answers without tool calls or a limit is reached.
//!
//! Per call, in order: `LlmCallStart`; the streamed deltas (again after each `LlmRetry`);
//! then, once the reply is complete, `Usage`, `TextDone` and the `Assistant` commit (when
//! there is text), `ToolCallDone` and the `ToolCall` commit of each call; `LlmCallEnd`
//! (also after a failed or cancelled call). Then each tool runs in order, followed by its
//! `ToolResult` event and commit.

use podsup_wire::{Event, Item};
use tokio_util::sync::CancellationToken;

use super::Llm;
use super::call::Caller;
use super::history;
use super::request::Request;
use super::step::{Reply, StopKind, ToolCall};
use super::tools::{ToolOutcome, ToolSpec};
use crate::engine::{EngineError, Turn, TurnEnd, TurnSink};

/// The most characters of a tool's output shown in its one-line summary.
const SUMMARY_CHARS: usize = 80;

/// A turn in progress.
pub(crate) struct TurnRun<'e> {
    llm: &'e Llm,
    tools: Vec<ToolSpec>,
    history: Vec<Item>,
    sink: TurnSink,
    cancel: CancellationToken,
}

impl<'e> TurnRun<'e> {
    /// A turn of `llm` on `turn`.
    pub(crate) fn new(llm: &'e Llm, turn: Turn) -> Result<TurnRun<'e>, EngineError> {
        let tools = llm
            .tools
            .specs()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok(TurnRun {
            llm,
            tools,
            history: turn.history,
            sink: turn.sink,
            cancel: turn.cancel,
        })
    }

    /// Runs the turn to its end.
    pub(crate) async fn run(mut self) -> Result<TurnEnd, EngineError> {
        let mut rounds = 0;
        for number in 1..=u32::MAX {
            let reply = self.call(number).await?;
            if reply.stop == StopKind::Truncated {
                return Ok(TurnEnd::LimitReached);
            }
            if reply.tool_calls.is_empty() {
                return Ok(TurnEnd::Finished);
            }
            self.run_tools(&reply.tool_calls).await?;
            rounds += 1;
            if rounds >= self.llm.spec.max_tool_rounds {
                return Ok(TurnEnd::LimitReached);
            }
        }
        Err(EngineError::Internal(
            "too many LLM calls in one turn".into(),
        ))
    }

    /// LLM call `number` on the history so far; its reply is published and committed.
    async fn call(&mut self, number: u32) -> Result<Reply, EngineError> {
        let messages = history::messages(&self.history);
        if messages.is_empty() {
            return Err(EngineError::Invalid(
                "nothing to answer: the history holds no message for the model".into(),
            ));
        }
        let request = Request {
            spec: &self.llm.spec,
            messages: &messages,
            tools: &self.tools,
        };
        let body = self.llm.endpoint.body(&request).to_string().into_bytes();
        let caller = Caller {
            client: &self.llm.client,
            endpoint: &self.llm.endpoint,
            spec: &self.llm.spec,
            sink: &self.sink,
            cancel: &self.cancel,
        };
        self.sink.event(Event::LlmCallStart { call: number });
        let outcome = caller.call(number, body).await;
        if let Ok(reply) = &outcome {
            self.publish(reply);
        }
        self.sink.event(Event::LlmCallEnd { call: number });
        outcome
    }

    /// Reports a complete reply and commits its text and tool calls. A truncated reply's
    /// tool calls are incomplete: they are neither committed nor run.
    fn publish(&mut self, reply: &Reply) {
        if let Some(usage) = reply.usage {
            self.sink.event(Event::Usage {
                input_tokens: usage.input.unwrap_or(0),
                output_tokens: usage.output.unwrap_or(0),
                cache_read_input_tokens: usage.cache_read.unwrap_or(0),
            });
        }
        if !reply.text.is_empty() {
            self.sink.event(Event::TextDone {
                text: reply.text.clone(),
            });
            self.commit(Item::Assistant {
                text: reply.text.clone(),
            });
        }
        if reply.stop == StopKind::Truncated {
            return;
        }
        for call in &reply.tool_calls {
            self.sink.event(Event::ToolCallDone {
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            });
            self.commit(Item::ToolCall {
                id: call.id.clone(),
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            });
        }
    }

    /// Runs `calls` in order. On cancellation, the calls left get an error result
    /// committed, so the history never holds a call without its answer.
    async fn run_tools(&mut self, calls: &[ToolCall]) -> Result<(), EngineError> {
        let llm = self.llm;
        for (at, call) in calls.iter().enumerate() {
            let outcome = match llm.tools.get(&call.name) {
                None => ToolOutcome::error(format!("unknown tool {}", call.name)),
                Some(tool) => {
                    let running = tool.call(call.arguments.clone(), self.cancel.clone());
                    tokio::select! {
                        biased;
                        () = self.cancel.cancelled() => {
                            for left in &calls[at..] {
                                self.answer(left, ToolOutcome::error("cancelled before the tool finished"));
                            }
                            return Err(EngineError::Cancelled);
                        }
                        outcome = running => outcome,
                    }
                }
            };
            self.answer(call, outcome);
        }
        Ok(())
    }

    /// Reports and commits `outcome` as the result of `call`.
    fn answer(&mut self, call: &ToolCall, outcome: ToolOutcome) {
        self.sink.event(Event::ToolResult {
            id: call.id.clone(),
            summary: summary(&call.name, &outcome),
            output: outcome.output.clone(),
            is_error: outcome.is_error,
        });
        self.commit(Item::ToolResult {
            id: call.id.clone(),
            output: outcome.output,
            is_error: outcome.is_error,
        });
    }

    fn commit(&mut self, item: Item) {
        self.sink.commit(item.clone());
        self.history.push(item);
    }
}

/// `NAME: first line of the output`, or `NAME failed: …`, shortened to one line.
fn summary(name: &str, outcome: &ToolOutcome) -> String {
    let first = outcome.output.lines().next().unwrap_or_default();
    let mut line: String = first.chars().take(SUMMARY_CHARS).collect();
    if line.len() < outcome.output.trim_end().len() {
        line.push('…');
    }
    let verb = if outcome.is_error { " failed" } else { "" };
    format!("{name}{verb}: {line}")
}
