//! One LLM call: a streamed request, tried again on transient failures.
//!
//! Each attempt streams its deltas to the sink as they arrive. When an attempt fails after
//! some text or tool-call deltas were streamed, those events stay sent: nothing of them was
//! committed, and the `LlmRetry` event that follows tells subscribers to drop the partial
//! reply of that call; the next attempt streams the reply again from its start.

use std::time::{Duration, SystemTime};

use podsup_config::LlmSpec;
use podsup_wire::Event;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::error::AttemptError;
use super::protocol::{Decoder, Endpoint};
use super::retry::{self, Backoff};
use super::sse::{SseEvent, SseParser};
use super::step::{Reply, Step};
use crate::engine::{EngineError, TurnSink};

/// The most of an error body kept for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The most of an unstructured error body shown in a message.
const ERROR_TEXT_CHARS: usize = 500;

/// What every call of a turn shares.
pub(crate) struct Caller<'a> {
    /// The HTTP client.
    pub(crate) client: &'a reqwest::Client,
    /// Where calls go.
    pub(crate) endpoint: &'a Endpoint,
    /// Timeouts and retry settings.
    pub(crate) spec: &'a LlmSpec,
    /// Where live events go.
    pub(crate) sink: &'a TurnSink,
    /// The turn's cancellation.
    pub(crate) cancel: &'a CancellationToken,
}

impl Caller<'_> {
    /// Call number `number` of the turn, with the JSON `body`: its complete reply, or why
    /// it failed after every attempt, or [`EngineError::Cancelled`] as soon as the turn is
    /// cancelled (the request is dropped).
    pub(crate) async fn call(&self, number: u32, body: Vec<u8>) -> Result<Reply, EngineError> {
        let max = self.spec.max_attempts.max(1);
        let backoff = Backoff {
            initial: self.spec.retry_initial(),
            max: self.spec.retry_max(),
        };
        let mut attempt = 1;
        loop {
            let mut step = Step::new(self.sink);
            let outcome = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(EngineError::Cancelled),
                outcome = self.attempt(&body, &mut step) => outcome,
            };
            let error = match outcome {
                Ok(()) => return Ok(step.finish()),
                Err(error) if error.retryable() && attempt < max => error,
                Err(error) => return Err(self.give_up(&error, attempt)),
            };
            let wait = backoff.delay(attempt, error.retry_after(), retry::jitter());
            let wait_ms = millis(wait);
            tracing::warn!(call = number, attempt, max, wait_ms, %error, "LLM call failed, retrying");
            self.sink.event(Event::LlmRetry {
                call: number,
                attempt,
                max,
                wait_ms,
                status: error.status(),
                error: error.to_string(),
            });
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(EngineError::Cancelled),
                () = tokio::time::sleep(wait) => {}
            }
            attempt += 1;
        }
    }

    /// The turn's error once `error` ended the last attempt.
    fn give_up(&self, error: &AttemptError, attempts: u32) -> EngineError {
        let endpoint = self.endpoint;
        let tries = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        EngineError::Provider(format!(
            "{} {}: {error}{tries}",
            endpoint.scheme, endpoint.url
        ))
    }

    /// One attempt, streaming into `step` until the end marker.
    async fn attempt(&self, body: &[u8], step: &mut Step<'_>) -> Result<(), AttemptError> {
        let request = self
            .client
            .post(&self.endpoint.url)
            .headers(self.endpoint.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body.to_vec());
        let request_timeout = self.spec.request_timeout();
        let mut response = match timeout(request_timeout, request.send()).await {
            Err(_) => {
                return Err(AttemptError::RequestTimeout {
                    timeout: request_timeout,
                });
            }
            Ok(Err(source)) => return Err(AttemptError::Send { source }),
            Ok(Ok(response)) => response,
        };
        if !response.status().is_success() {
            return Err(self.status_error(response).await);
        }
        let idle = self.spec.idle_timeout();
        let mut parser = SseParser::new();
        let mut decoder = Decoder::new(self.endpoint.scheme);
        loop {
            let chunk = match timeout(idle, response.chunk()).await {
                Err(_) => return Err(AttemptError::IdleTimeout { timeout: idle }),
                Ok(Err(source)) => return Err(AttemptError::Body { source }),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            for event in parser.push(&chunk) {
                if feed(&mut decoder, &event, step)? {
                    return Ok(());
                }
            }
        }
        if let Some(event) = parser.finish() {
            if feed(&mut decoder, &event, step)? {
                return Ok(());
            }
        }
        Err(AttemptError::CutOff {
            marker: self.endpoint.end_marker(),
        })
    }

    /// The error an unsuccessful status stands for, with the provider's message.
    async fn status_error(&self, mut response: reqwest::Response) -> AttemptError {
        let status = response.status();
        let retry_after = retry::retry_after(response.headers(), SystemTime::now());
        let mut body = Vec::new();
        let idle = self.spec.idle_timeout();
        while body.len() < ERROR_BODY_LIMIT {
            match timeout(idle, response.chunk()).await {
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => break,
            }
        }
        let reason = status.canonical_reason().unwrap_or("error");
        AttemptError::Status {
            status: status.as_u16(),
            message: provider_message(&body).unwrap_or_else(|| reason.to_owned()),
            retry_after,
        }
    }
}

/// Applies the deltas of `event` to `step`; true once the stream's end marker is in.
fn feed(
    decoder: &mut Decoder,
    event: &SseEvent,
    step: &mut Step<'_>,
) -> Result<bool, AttemptError> {
    for delta in decoder.feed(event)? {
        step.apply(delta);
    }
    Ok(step.ended())
}

/// What an error body says: its `error.message` (both providers), else `message`, else
/// its text, shortened.
fn provider_message(body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let message = json
            .pointer("/error/message")
            .or_else(|| json.get("message"))
            .or_else(|| json.get("error"))
            .and_then(serde_json::Value::as_str);
        if let Some(message) = message {
            return Some(message.to_owned());
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut short: String = text.chars().take(ERROR_TEXT_CHARS).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    Some(short)
}

/// `duration` in whole milliseconds, as events carry it.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
