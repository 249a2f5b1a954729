//! What every LLM request carries, whatever the protocol.

use podsup_config::LlmSpec;

use super::history::Message;
use super::tools::ToolSpec;

/// The parts of one request that the protocols lay out their own way.
pub(crate) struct Request<'a> {
    /// Model, limits and system prompt.
    pub(crate) spec: &'a LlmSpec,
    /// The conversation so far.
    pub(crate) messages: &'a [Message],
    /// The tools offered.
    pub(crate) tools: &'a [ToolSpec],
}
