//! The `llm` engine's settings: which provider protocol, where, which model, where the
//! API key comes from, and the limits of one turn.
//!
//! The loader checks them and hands them to the pod as JSON inside
//! [`podsup_wire::EngineSpec::Llm`]; the pod reads them back with
//! [`LlmSpec::from_json`]. The key itself is never part of the spec: only where to read it.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::defaults;
use crate::policy::UnknownVariant;

/// The wire protocol of an LLM provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmScheme {
    /// OpenAI's chat completions (`POST {base_url}/chat/completions`), also spoken by most
    /// OpenAI-compatible servers (vLLM, llama.cpp, Ollama, …).
    OpenaiChat,
    /// Anthropic's messages API (`POST {base_url}/messages`).
    Anthropic,
}

impl LlmScheme {
    /// Every scheme as tree.toml names it, in documentation order.
    pub const ALL: &'static [&'static str] = &["openai_chat", "anthropic"];

    /// The name tree.toml uses.
    pub fn as_str(self) -> &'static str {
        match self {
            LlmScheme::OpenaiChat => "openai_chat",
            LlmScheme::Anthropic => "anthropic",
        }
    }
}

impl FromStr for LlmScheme {
    type Err = UnknownVariant;

    /// The scheme named `text` in tree.toml.
    fn from_str(text: &str) -> Result<LlmScheme, UnknownVariant> {
        match text {
            "openai_chat" => Ok(LlmScheme::OpenaiChat),
            "anthropic" => Ok(LlmScheme::Anthropic),
            _ => Err(UnknownVariant {
                what: "llm.scheme",
                value: text.to_owned(),
                expected: LlmScheme::ALL,
            }),
        }
    }
}

impl fmt::Display for LlmScheme {
    /// The name tree.toml uses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the API key is read from when the engine starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKey {
    /// No key: requests carry no auth header (a keyless local endpoint).
    None,
    /// The value of this environment variable of the pod process (`api_key_env`).
    Env {
        /// The variable's name; non-empty, without `=` or NUL.
        var: String,
    },
    /// The content of this file, surrounding whitespace trimmed (`api_key_file`).
    File {
        /// The path as written in tree.toml; never empty.
        path: PathBuf,
        /// The tree file's directory: where a relative `path` starts when
        /// `$CREDENTIALS_DIRECTORY` is not set.
        tree_dir: PathBuf,
    },
}

impl ApiKey {
    /// The file to read for [`ApiKey::File`]: an absolute path as is; a relative one under
    /// `credentials_directory` (systemd's `$CREDENTIALS_DIRECTORY`, set by
    /// `LoadCredential=`) when given, else under the tree file's directory.
    pub fn file_path(&self, credentials_directory: Option<&OsStr>) -> Option<PathBuf> {
        match self {
            ApiKey::None | ApiKey::Env { .. } => None,
            ApiKey::File { path, .. } if path.is_absolute() => Some(path.clone()),
            ApiKey::File { path, tree_dir } => {
                let dir = credentials_directory
                    .filter(|dir| !dir.is_empty())
                    .map_or(tree_dir.as_path(), Path::new);
                Some(dir.join(path))
            }
        }
    }
}

/// A pod's `llm` table, validated. Durations are whole milliseconds so the JSON form is
/// plain numbers.
///
/// Invariants when built by the loader: `base_url` is an `http://` or `https://` URL
/// without a trailing `/`, credentials, query or fragment; `model` is not empty;
/// `max_tokens`, `max_attempts` and `max_tool_rounds` are at least 1; every duration is
/// above zero and `retry_max_ms >= retry_initial_ms`; `temperature` is finite and
/// between 0 and 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmSpec {
    /// The provider's protocol.
    pub scheme: LlmScheme,
    /// API root, like `https://api.openai.com/v1`; the endpoint path is appended.
    pub base_url: String,
    /// Model name sent with every request.
    pub model: String,
    /// Where the API key comes from.
    pub api_key: ApiKey,
    /// System prompt, if any.
    pub system: Option<String>,
    /// Upper bound of tokens generated per LLM call.
    pub max_tokens: u32,
    /// Sampling temperature; `None` leaves the provider's default.
    pub temperature: Option<f64>,
    /// Time allowed from sending a request until the response headers arrive.
    pub request_timeout_ms: u64,
    /// Longest silence allowed between two chunks of a streamed reply.
    pub idle_timeout_ms: u64,
    /// Attempts per LLM call, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled per further retry, with jitter.
    pub retry_initial_ms: u64,
    /// Largest delay between retries, also the cap of a provider's `Retry-After`.
    pub retry_max_ms: u64,
    /// LLM calls that may answer with tool calls in one turn before it stops with
    /// "limit reached".
    pub max_tool_rounds: u32,
}

impl LlmSpec {
    /// A spec for `model` at `base_url` without a key, every other setting at its default
    /// (see [`crate::defaults`]).
    pub fn new(scheme: LlmScheme, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmSpec {
            scheme,
            base_url: base_url.into(),
            model: model.into(),
            api_key: ApiKey::None,
            system: None,
            max_tokens: defaults::LLM_MAX_TOKENS,
            temperature: None,
            request_timeout_ms: millis(defaults::LLM_REQUEST_TIMEOUT),
            idle_timeout_ms: millis(defaults::LLM_IDLE_TIMEOUT),
            max_attempts: defaults::LLM_MAX_ATTEMPTS,
            retry_initial_ms: millis(defaults::LLM_RETRY_INITIAL),
            retry_max_ms: millis(defaults::LLM_RETRY_MAX),
            max_tool_rounds: defaults::LLM_MAX_TOOL_ROUNDS,
        }
    }

    /// The spec carried as `config_json` in [`podsup_wire::EngineSpec::Llm`].
    pub fn from_json(json: &str) -> Result<LlmSpec, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The spec as JSON, for [`podsup_wire::EngineSpec::Llm`].
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and enums has no map with non-string keys, which is
        // serde_json's only failure for in-memory values.
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("LlmSpec to JSON: {e}"))
    }

    /// `request_timeout_ms` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `idle_timeout_ms` as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    /// `retry_initial_ms` as a duration.
    pub fn retry_initial(&self) -> Duration {
        Duration::from_millis(self.retry_initial_ms)
    }

    /// `retry_max_ms` as a duration.
    pub fn retry_max(&self) -> Duration {
        Duration::from_millis(self.retry_max_ms)
    }
}

/// `duration` in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
