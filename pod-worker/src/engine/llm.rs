//! The `llm` engine: a turn is a conversation with an LLM provider over HTTP, streamed,
//! with tool calls and retries.
//!
//! Two wire protocols ([`LlmScheme`]): OpenAI chat completions and Anthropic messages,
//! both with `stream: true` and parsed as server-sent events. The history is mapped to the
//! provider's messages as `history.rs` documents; each call's reply streams as events
//! and is committed once complete (`turn.rs`); failed attempts are retried with backoff
//! and reported as `LlmRetry` (`call.rs`).
//!
//! HTTP is reqwest over rustls with the ring provider, and the system's trust store.

use podsup_config::{LlmScheme, LlmSpec};

use super::{EngineError, Turn, TurnEnd};

mod anthropic;
mod call;
mod error;
mod history;
mod key;
mod openai;
mod protocol;
mod request;
mod retry;
mod sse;
mod step;
pub mod tools;
mod turn;

pub use tools::{Tool, ToolBox, ToolFuture, ToolOutcome};

/// The llm engine of one pod.
#[derive(Debug)]
pub struct Llm {
    spec: LlmSpec,
    client: reqwest::Client,
    endpoint: protocol::Endpoint,
    tools: ToolBox,
}

impl Llm {
    /// The engine `spec` describes, without tools. Reads the API key now: a variable that
    /// is not set or a file that cannot be read is an [`EngineError::Invalid`] naming it.
    pub fn new(spec: LlmSpec) -> Result<Llm, EngineError> {
        let key = key::read(&spec.api_key).map_err(|e| EngineError::Invalid(e.to_string()))?;
        let endpoint = protocol::Endpoint::new(&spec, key.as_deref()).map_err(|e| {
            EngineError::Invalid(format!("llm: the API key cannot be sent in a header: {e}"))
        })?;
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(concat!("podsup/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                EngineError::Internal(format!(
                    "cannot build the HTTP client: {}",
                    error::chain(&e)
                ))
            })?;
        Ok(Llm {
            spec,
            client,
            endpoint,
            tools: ToolBox::empty(),
        })
    }

    /// This engine offering `tools` to the model.
    pub fn with_tools(self, tools: ToolBox) -> Llm {
        Llm { tools, ..self }
    }

    /// The protocol this engine speaks.
    pub fn scheme(&self) -> LlmScheme {
        self.spec.scheme
    }

    /// Runs one turn: calls the model until it answers without tool calls
    /// ([`TurnEnd::Finished`]), or `max_tool_rounds` calls asked for tools or the output
    /// limit cut a reply ([`TurnEnd::LimitReached`]).
    pub async fn run(&mut self, turn: Turn) -> Result<TurnEnd, EngineError> {
        turn::TurnRun::new(self, turn)?.run().await
    }
}

/// Makes ring rustls's process-wide crypto provider, which reqwest's `rustls-no-provider`
/// build requires before a client is built.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none()
        && rustls::crypto::ring::default_provider()
            .install_default()
            .is_err()
    {
        tracing::debug!("a rustls crypto provider was installed concurrently; using it");
    }
}
