//! Why one attempt at an LLM call failed, and whether another attempt may do better.

use std::error::Error as _;
use std::time::Duration;

/// A failed attempt.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AttemptError {
    /// Sending the request or receiving the headers failed.
    #[error("{}", chain(source))]
    Send {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// No response headers within `request_timeout`.
    #[error("no response within {}", ms(*timeout))]
    RequestTimeout {
        /// The limit.
        timeout: Duration,
    },
    /// The provider answered with an error status.
    #[error("HTTP {status}: {message}")]
    Status {
        /// The status code.
        status: u16,
        /// The provider's `error.message`, else its body, else the reason phrase.
        message: String,
        /// What its `Retry-After` (or `retry-after-ms`) header asked for.
        retry_after: Option<Duration>,
    },
    /// Nothing arrived for `idle_timeout` inside the stream.
    #[error("the stream stalled: nothing received for {}", ms(*timeout))]
    IdleTimeout {
        /// The limit.
        timeout: Duration,
    },
    /// Reading the stream failed (connection reset, truncated chunked body, …).
    #[error("the stream broke: {}", chain(source))]
    Body {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// The stream ended cleanly but before its end marker.
    #[error("the stream ended before its end marker ({marker})")]
    CutOff {
        /// `[DONE]` or `message_stop`.
        marker: &'static str,
    },
    /// The stream said the provider failed (`event: error`, or an `error` object).
    #[error("{kind}: {message}")]
    InStream {
        /// The provider's error type, like `overloaded_error`.
        kind: String,
        /// The provider's message.
        message: String,
    },
    /// An event that is not what the protocol says.
    #[error("malformed {what} event: {source}")]
    Malformed {
        /// Which event.
        what: &'static str,
        /// Why it does not parse.
        #[source]
        source: serde_json::Error,
    },
}

/// Provider error types, inside a stream, that are worth another attempt.
const RETRYABLE_KINDS: &[&str] = &[
    "overloaded_error",
    "api_error",
    "rate_limit_error",
    "server_error",
    "timeout_error",
];

impl AttemptError {
    /// Whether another attempt may succeed: transport failures, timeouts, 408, 429, 5xx,
    /// cut streams and the provider's own transient errors. Other 4xx and malformed
    /// streams will fail the same way again.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            AttemptError::Send { source } => !source.is_builder(),
            AttemptError::RequestTimeout { .. }
            | AttemptError::IdleTimeout { .. }
            | AttemptError::Body { .. }
            | AttemptError::CutOff { .. } => true,
            AttemptError::Status { status, .. } => {
                matches!(status, 408 | 429) || (500..=599).contains(status)
            }
            AttemptError::InStream { kind, .. } => RETRYABLE_KINDS.contains(&kind.as_str()),
            AttemptError::Malformed { .. } => false,
        }
    }

    /// The HTTP status, for an error status.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            AttemptError::Status { status, .. } => Some(*status),
            AttemptError::Send { .. }
            | AttemptError::RequestTimeout { .. }
            | AttemptError::IdleTimeout { .. }
            | AttemptError::Body { .. }
            | AttemptError::CutOff { .. }
            | AttemptError::InStream { .. }
            | AttemptError::Malformed { .. } => None,
        }
    }

    /// How long the provider asked to wait before the next attempt.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            AttemptError::Status { retry_after, .. } => *retry_after,
            AttemptError::Send { .. }
            | AttemptError::RequestTimeout { .. }
            | AttemptError::IdleTimeout { .. }
            | AttemptError::Body { .. }
            | AttemptError::CutOff { .. }
            | AttemptError::InStream { .. }
            | AttemptError::Malformed { .. } => None,
        }
    }
}

/// `error` and its sources, `: `-separated, skipping a source whose text its parent
/// already shows (reqwest and hyper nest the same message).
pub(crate) fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn ms(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}
