//! Problems particular to a pod's `llm` table.

/// The sentence every refusal of a secret in tree.toml ends with.
pub(crate) const NO_SECRETS: &str =
    "API keys never go in tree.toml; use api_key_env or api_key_file";

/// One problem in a pod's `llm` table. Each message names the key and ends with what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmProblem {
    /// `base_url` is not an `http://` or `https://` URL.
    #[error(
        "invalid llm.base_url {value:?}: {reason} (expected an http:// or https:// URL like \"https://api.openai.com/v1\")"
    )]
    BadUrl {
        /// The URL as written.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `base_url` has a `user:password@` part.
    #[error(
        "llm.base_url contains credentials: {NO_SECRETS} (expected a URL without user:password@)"
    )]
    UrlCredentials,
    /// Both `api_key_env` and `api_key_file`.
    #[error(
        "llm.api_key_env and llm.api_key_file are both set (expected at most one source for the API key)"
    )]
    TwoKeySources,
    /// `api_key_env` holds what looks like the key itself rather than a variable name.
    #[error(
        "llm.api_key_env looks like an API key, not a variable name: {NO_SECRETS} (expected the name of a variable holding the key, like \"OPENAI_API_KEY\")"
    )]
    KeyInEnvName,
    /// A string that must not be empty is.
    #[error("{key} is empty (expected {expected})")]
    Empty {
        /// The key.
        key: &'static str,
        /// What the key takes.
        expected: &'static str,
    },
    /// A `temperature` outside 0.0..=2.0, or not finite.
    #[error("llm.temperature {value} is invalid (expected a number from 0.0 to 2.0)")]
    BadTemperature {
        /// The number as written.
        value: String,
    },
    /// `retry_max` shorter than `retry_initial`.
    #[error(
        "llm.retry_max {max} is shorter than llm.retry_initial {initial} (expected retry_max >= retry_initial)"
    )]
    RetryMaxBelowInitial {
        /// `retry_max`, formatted.
        max: String,
        /// `retry_initial`, formatted.
        initial: String,
    },
}

/// Whether a key named `key` would hold a secret: one of its `_`/`-`/`.`-separated words
/// is `key`, `apikey`, `token`, `secret`, `password`, … (`max_tokens` is not: "tokens" is
/// a count).
pub(crate) fn names_a_secret(key: &str) -> bool {
    const SECRET_WORDS: &[&str] = &[
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "bearer",
        "authorization",
        "auth",
        "credential",
        "credentials",
    ];
    key.to_ascii_lowercase()
        .split(['_', '-', '.'])
        .any(|word| SECRET_WORDS.contains(&word))
}

/// Whether `value`, given as an environment variable name, looks like a key instead:
/// the prefixes OpenAI (`sk-`, `sk-proj-`) and Anthropic (`sk-ant-`) keys start with, or
/// a long run of characters no variable name uses.
pub(crate) fn looks_like_a_key(value: &str) -> bool {
    value.starts_with("sk-")
        || (value.len() >= 32
            && value
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || c == '_')))
}
