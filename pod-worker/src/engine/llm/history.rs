//! The pod's committed history as a provider-neutral conversation.
//!
//! Both protocols want alternating user/assistant messages in which every tool call is
//! answered by a result in the next message. The history is mapped as follows:
//!
//! - `User` and `Notification` → user text, as is;
//! - `Assistant` → assistant text; `ToolCall` → a tool call of the assistant message;
//! - `ToolResult` → a tool result of the next user message;
//! - `System` → user text `[podsup] TEXT`, and `PodEvent` → user text
//!   `[pod event] pod NAME: …`, so the model knows a turn was cancelled or a child ended;
//! - `Registry` → skipped: bookkeeping the model reaches through the orchestration tools.
//!
//! Consecutive items of one role are merged into one message. A tool call without a
//! result (the pod died or the turn was cancelled while the tool ran) gets a synthetic
//! error result, and a result without its call is dropped: either would make the provider
//! refuse every later request of the pod.

use std::collections::HashSet;

use podsup_wire::Item;

use crate::engine::pod_event_text;

/// Who said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The user, the pod system, other pods, and tool results.
    User,
    /// The model.
    Assistant,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text.
    Text(String),
    /// A tool call of the assistant.
    ToolCall {
        /// Provider's call id.
        id: String,
        /// Tool name.
        name: String,
        /// JSON arguments as the model wrote them.
        arguments: String,
    },
    /// A tool's answer.
    ToolResult {
        /// The call it answers.
        id: String,
        /// What the tool returned.
        output: String,
        /// Whether the tool failed.
        is_error: bool,
    },
}

/// One message of the conversation: never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// Who said it.
    pub(crate) role: Role,
    /// What was said, in history order.
    pub(crate) parts: Vec<Part>,
}

/// What a tool call that never got a result is answered with.
const INTERRUPTED: &str = "the tool call was interrupted before it produced a result";

/// The conversation `history` makes.
pub(crate) fn messages(history: &[Item]) -> Vec<Message> {
    let called: HashSet<&str> = history
        .iter()
        .filter_map(|item| match item {
            Item::ToolCall { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let answered: HashSet<&str> = history
        .iter()
        .filter_map(|item| match item {
            Item::ToolResult { id, .. } if called.contains(id.as_str()) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut conversation = Conversation::default();
    for item in history {
        let (role, part) = match item {
            Item::User { text } | Item::Notification { text } => (Role::User, text_part(text)),
            Item::Assistant { text } => (Role::Assistant, text_part(text)),
            Item::ToolCall {
                id,
                name,
                arguments,
            } => {
                if !answered.contains(id.as_str()) {
                    conversation.unanswered.push(id.clone());
                }
                let part = Part::ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                    arguments: arguments.clone(),
                };
                (Role::Assistant, Some(part))
            }
            Item::ToolResult {
                id,
                output,
                is_error,
            } => {
                let part = called.contains(id.as_str()).then(|| Part::ToolResult {
                    id: id.clone(),
                    output: output.clone(),
                    is_error: *is_error,
                });
                (Role::User, part)
            }
            Item::System { text } => (Role::User, text_part(&format!("[podsup] {text}"))),
            Item::PodEvent(event) => (
                Role::User,
                text_part(&format!("[pod event] {}", pod_event_text(event))),
            ),
            Item::Registry { .. } => continue,
        };
        if let Some(part) = part {
            conversation.push(role, part);
        }
    }
    conversation.answer_unanswered();
    conversation.messages
}

/// `text` as a part, unless it is empty (which providers refuse).
fn text_part(text: &str) -> Option<Part> {
    (!text.is_empty()).then(|| Part::Text(text.to_owned()))
}

/// Messages being built, and the tool calls of the last assistant message still owed a
/// result.
#[derive(Default)]
struct Conversation {
    messages: Vec<Message>,
    unanswered: Vec<String>,
}

impl Conversation {
    fn push(&mut self, role: Role, part: Part) {
        if role == Role::User || !matches!(part, Part::ToolCall { .. }) {
            self.answer_unanswered();
        }
        match self.messages.last_mut() {
            Some(last) if last.role == role => last.parts.push(part),
            _ => self.messages.push(Message {
                role,
                parts: vec![part],
            }),
        }
    }

    /// Adds error results for the calls that will never get one, right after them.
    fn answer_unanswered(&mut self) {
        let owed = std::mem::take(&mut self.unanswered);
        for id in owed {
            let part = Part::ToolResult {
                id,
                output: INTERRUPTED.to_owned(),
                is_error: true,
            };
            match self.messages.last_mut() {
                Some(last) if last.role == Role::User => last.parts.push(part),
                _ => self.messages.push(Message {
                    role: Role::User,
                    parts: vec![part],
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests;
