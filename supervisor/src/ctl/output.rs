//! How `podsup ctl` prints what the root answers: tables and readable event streams for
//! people, one JSON object per line with `--json`.

use std::io::Write;

use podsup_wire::event::AlertLevel;
use podsup_wire::{CtlErrorKind, CtlResponse, Entry, Event, Item, PodStatus};
use serde_json::json;

use super::render;
use crate::cli::{EXIT_FAILURE, EXIT_USAGE};

/// Prints one conversation.
#[derive(Debug)]
pub struct Printer {
    json: bool,
    /// Printing history (`ctl logs`): every committed entry is shown, replies included.
    history: bool,
    /// The last text printed did not end a line.
    mid_line: bool,
}

impl Printer {
    /// A printer for people (`json = false`) or programs; `history` for `ctl logs`.
    pub fn new(json: bool, history: bool) -> Self {
        Self {
            json,
            history,
            mid_line: false,
        }
    }

    /// Ends a line of streamed text, if one is open.
    pub fn finish_line(&mut self) {
        if self.mid_line {
            println!();
            self.mid_line = false;
        }
    }

    /// Prints one answer; returns the exit code once the conversation is over.
    pub fn print(&mut self, response: CtlResponse) -> Option<u8> {
        if self.json {
            return self.print_json(response);
        }
        match response {
            CtlResponse::Status { tree, root } => {
                println!("{}", render::status_table(&tree, &root));
                Some(0)
            }
            CtlResponse::Ok { message } => {
                self.finish_line();
                if !message.is_empty() {
                    println!("{message}");
                }
                Some(0)
            }
            CtlResponse::Error(e) => {
                self.finish_line();
                eprintln!("podsup ctl: {}", e.message);
                Some(exit_code(e.kind))
            }
            CtlResponse::Notice { message } => {
                self.finish_line();
                eprintln!("podsup: {message}");
                None
            }
            CtlResponse::OutputLine { line } => {
                println!("{line}");
                None
            }
            CtlResponse::Document { json } => {
                let pretty = serde_json::from_str::<serde_json::Value>(&json)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or(json);
                println!("{pretty}");
                Some(0)
            }
            CtlResponse::Event { event, .. } => {
                self.event(event);
                None
            }
        }
    }

    fn print_json(&mut self, response: CtlResponse) -> Option<u8> {
        let (value, code) = match response {
            CtlResponse::Status { tree, root } => (render::status_json(&tree, &root), Some(0)),
            CtlResponse::Ok { message } => (json!({ "ok": message }), Some(0)),
            CtlResponse::Error(e) => {
                let kind = format!("{:?}", e.kind);
                (
                    json!({ "error": { "kind": kind, "message": e.message } }),
                    Some(exit_code(e.kind)),
                )
            }
            CtlResponse::Notice { message } => (json!({ "notice": message }), None),
            CtlResponse::OutputLine { line } => (json!({ "line": line }), None),
            CtlResponse::Document { json } => {
                println!("{json}");
                return Some(0);
            }
            CtlResponse::Event {
                pod,
                generation,
                event,
            } => (
                json!({ "pod": pod, "generation": generation, "event": event }),
                None,
            ),
        };
        println!("{value}");
        code
    }

    fn text(&mut self, text: &str) {
        print!("{text}");
        if let Err(e) = std::io::stdout().flush() {
            tracing::debug!(%e, "stdout flush failed");
        }
        if !text.is_empty() {
            self.mid_line = !text.ends_with('\n');
        }
    }

    fn line(&mut self, line: String) {
        self.finish_line();
        println!("{line}");
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::TextDelta { text } | Event::ThinkingDelta { text } => self.text(&text),
            Event::TextDone { .. } | Event::ThinkingDone { .. } => self.finish_line(),
            Event::Snapshot {
                entries,
                greeting,
                status,
            } => {
                self.line(format!("== {greeting}; status {status:?}").to_lowercase());
                for entry in &entries {
                    self.line(entry_line(entry));
                }
                self.line("== live".into());
            }
            Event::Committed(entry) => match entry.item {
                // Live, these were streamed already as deltas and tool events.
                Item::Assistant { .. } | Item::ToolCall { .. } | Item::ToolResult { .. }
                    if !self.history => {}
                _ => self.line(entry_line(&entry)),
            },
            Event::Status {
                status: PodStatus::Paused,
            } => self.line("[paused]".into()),
            Event::Status { .. } => {}
            Event::ToolCallDone {
                name, arguments, ..
            } => self.line(format!("[tool] {name}({arguments})")),
            Event::ToolResult {
                summary, is_error, ..
            } => {
                let tag = if is_error {
                    "tool error"
                } else {
                    "tool result"
                };
                self.line(format!("[{tag}] {summary}"));
            }
            Event::LlmRetry {
                attempt,
                max,
                wait_ms,
                status,
                error,
                ..
            } => {
                self.finish_line();
                let status = status.map(|s| format!(" {s}")).unwrap_or_default();
                eprintln!("[retry {attempt}/{max} in {wait_ms} ms:{status} {error}]");
            }
            Event::Error { code, message } => {
                self.finish_line();
                eprintln!("[error {code:?}] {message}");
            }
            Event::Alert { level, message } => {
                self.finish_line();
                let level = match level {
                    AlertLevel::Info => "info",
                    AlertLevel::Warning => "warning",
                    AlertLevel::Error => "error",
                };
                eprintln!("[{level}] {message}");
            }
            Event::RunEnd { result } => {
                self.line(format!("[run ended: {result:?}]").to_lowercase())
            }
            Event::Shutdown => self.line("[shutting down]".into()),
            Event::UserMessage { .. }
            | Event::SystemItem { .. }
            | Event::InvokeStart { .. }
            | Event::TurnStart { .. }
            | Event::TurnEnd { .. }
            | Event::LlmCallStart { .. }
            | Event::LlmCallEnd { .. }
            | Event::ThinkingStart
            | Event::ToolCallStart { .. }
            | Event::ToolCallArgsDelta { .. }
            | Event::Usage { .. }
            | Event::RewindTargets { .. }
            | Event::RewindApplied { .. }
            | Event::VisiblePods { .. }
            | Event::PodInspection { .. }
            | Event::PodAttachRestore { .. }
            | Event::CompactStart
            | Event::CompactDone { .. }
            | Event::CompactFailed { .. } => {}
        }
    }
}

fn exit_code(kind: CtlErrorKind) -> u8 {
    match kind {
        CtlErrorKind::BadRequest => EXIT_USAGE,
        CtlErrorKind::Refused
        | CtlErrorKind::NotFound
        | CtlErrorKind::InvalidState
        | CtlErrorKind::ShuttingDown
        | CtlErrorKind::Internal => EXIT_FAILURE,
    }
}

/// `#12 user: hello` — one committed entry on one line.
pub fn entry_line(entry: &Entry) -> String {
    let body = match &entry.item {
        Item::User { text } => format!("user: {text}"),
        Item::Notification { text } => format!("notification: {text}"),
        Item::Assistant { text } => format!("assistant: {text}"),
        Item::ToolCall {
            name, arguments, ..
        } => format!("tool call: {name}({arguments})"),
        Item::ToolResult {
            output, is_error, ..
        } => {
            format!(
                "tool {}: {output}",
                if *is_error { "error" } else { "result" }
            )
        }
        Item::System { text } => format!("system: {text}"),
        Item::PodEvent(event) => format!(
            "pod event: {}",
            podsup_pod_worker::engine::pod_event_text(event)
        ),
        Item::Registry { json } => format!("registry: {json}"),
    };
    format!("#{} {body}", entry.seq)
}
