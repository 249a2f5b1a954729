//! What differs between the two wire protocols, behind one face: the endpoint and its
//! headers, the request body, and the stream decoder.

use podsup_config::{LlmScheme, LlmSpec};
use reqwest::header::{HeaderMap, InvalidHeaderValue};
use serde_json::Value;

use super::error::AttemptError;
use super::request::Request;
use super::sse::SseEvent;
use super::step::Delta;
use super::{anthropic, openai};

/// Where requests go and what headers they carry (the key among them).
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The protocol.
    pub(crate) scheme: LlmScheme,
    /// `{base_url}/chat/completions` or `{base_url}/messages`.
    pub(crate) url: String,
    /// Auth and version headers.
    pub(crate) headers: HeaderMap,
}

impl Endpoint {
    /// The endpoint of `spec`, authenticated with `key`.
    pub(crate) fn new(spec: &LlmSpec, key: Option<&str>) -> Result<Endpoint, InvalidHeaderValue> {
        let (path, headers) = match spec.scheme {
            LlmScheme::OpenaiChat => (openai::PATH, openai::headers(key)?),
            LlmScheme::Anthropic => (anthropic::PATH, anthropic::headers(key)?),
        };
        Ok(Endpoint {
            scheme: spec.scheme,
            url: format!("{}{path}", spec.base_url),
            headers,
        })
    }

    /// The data (OpenAI) or event type (Anthropic) that ends a complete stream.
    pub(crate) fn end_marker(&self) -> &'static str {
        match self.scheme {
            LlmScheme::OpenaiChat => openai::END_MARKER,
            LlmScheme::Anthropic => anthropic::END_MARKER,
        }
    }

    /// The JSON body of `request`.
    pub(crate) fn body(&self, request: &Request<'_>) -> Value {
        match self.scheme {
            LlmScheme::OpenaiChat => openai::body(request),
            LlmScheme::Anthropic => anthropic::body(request),
        }
    }
}

/// A stream decoder of either protocol.
pub(crate) enum Decoder {
    /// OpenAI chat completion chunks.
    Openai(openai::Decoder),
    /// Anthropic message events.
    Anthropic(anthropic::Decoder),
}

impl Decoder {
    /// A decoder for a new stream of `scheme`.
    pub(crate) fn new(scheme: LlmScheme) -> Decoder {
        match scheme {
            LlmScheme::OpenaiChat => Decoder::Openai(openai::Decoder::new()),
            LlmScheme::Anthropic => Decoder::Anthropic(anthropic::Decoder::new()),
        }
    }

    /// The deltas of one SSE event.
    pub(crate) fn feed(&mut self, event: &SseEvent) -> Result<Vec<Delta>, AttemptError> {
        match self {
            Decoder::Openai(decoder) => decoder.feed(event),
            Decoder::Anthropic(decoder) => decoder.feed(event),
        }
    }
}
