//! The tools an llm pod offers its model: a name, a description, a JSON schema for the
//! arguments, and an async call.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use tokio_util::sync::CancellationToken;

/// What a tool call produced, as given back to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutcome {
    /// The text the model reads.
    pub output: String,
    /// Whether the call failed; the model is told so.
    pub is_error: bool,
}

impl ToolOutcome {
    /// A successful result.
    pub fn ok(output: impl Into<String>) -> ToolOutcome {
        ToolOutcome {
            output: output.into(),
            is_error: false,
        }
    }

    /// A failed call, with `message` saying why.
    pub fn error(message: impl Into<String>) -> ToolOutcome {
        ToolOutcome {
            output: message.into(),
            is_error: true,
        }
    }
}

/// The future a [`Tool::call`] returns.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = ToolOutcome> + Send + 'a>>;

/// A tool the model may call. Object-safe, so a [`ToolBox`] holds any mix of them.
pub trait Tool: Send + Sync {
    /// The name the model calls it by: unique in its box, `[a-zA-Z0-9_-]{1,64}` for the
    /// providers to accept it.
    fn name(&self) -> &str;

    /// What it does, for the model.
    fn description(&self) -> &str;

    /// JSON schema of its arguments object, as JSON text.
    fn parameters(&self) -> String;

    /// Runs it with `arguments` (the JSON text the model produced, not validated).
    /// `cancel` fires when the turn is cancelled; the engine also stops awaiting the
    /// future then, so a tool only needs it to clean up what it started elsewhere.
    fn call(&self, arguments: String, cancel: CancellationToken) -> ToolFuture<'_>;
}

/// The tools of one llm engine, in the order they are offered.
#[derive(Default)]
pub struct ToolBox {
    tools: Vec<Box<dyn Tool>>,
}

impl ToolBox {
    /// No tools: the model can only answer with text.
    pub fn empty() -> ToolBox {
        ToolBox::default()
    }

    /// This box plus `tool`, which replaces a tool of the same name.
    pub fn with(mut self, tool: impl Tool + 'static) -> ToolBox {
        self.tools.retain(|existing| existing.name() != tool.name());
        self.tools.push(Box::new(tool));
        self
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&dyn Tool> {
        self.tools
            .iter()
            .find(|tool| tool.name() == name)
            .map(|tool| tool.as_ref())
    }

    /// Every tool, in offering order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Tool> {
        self.tools.iter().map(|tool| tool.as_ref())
    }

    /// Whether there is no tool.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

impl fmt::Debug for ToolBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.tools.iter().map(|tool| tool.name()))
            .finish()
    }
}

/// A tool as offered in a request: its schema parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolSpec {
    /// The tool's name.
    pub(crate) name: String,
    /// What it does.
    pub(crate) description: String,
    /// JSON schema of its arguments.
    pub(crate) parameters: serde_json::Value,
}

/// A tool whose [`Tool::parameters`] is not JSON.
#[derive(Debug, thiserror::Error)]
#[error("tool {name}: its parameters schema is not JSON: {source}")]
pub(crate) struct BadSchema {
    name: String,
    #[source]
    source: serde_json::Error,
}

impl ToolBox {
    /// Every tool as a request offers it.
    pub(crate) fn specs(&self) -> Result<Vec<ToolSpec>, BadSchema> {
        self.iter()
            .map(|tool| {
                let parameters =
                    serde_json::from_str(&tool.parameters()).map_err(|source| BadSchema {
                        name: tool.name().to_owned(),
                        source,
                    })?;
                Ok(ToolSpec {
                    name: tool.name().to_owned(),
                    description: tool.description().to_owned(),
                    parameters,
                })
            })
            .collect()
    }
}
