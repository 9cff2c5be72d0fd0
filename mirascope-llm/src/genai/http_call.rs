//! A model call seen as one HTTP exchange of an application's own client (`mirascope-ops`'
//! `ReqwestMiddleware` and `OpenAiLayer` feed it): the request, then the answer's status and its
//! body as the bytes arrive. [`ObservedCall::start`] gives the request to the instrumentation it
//! belongs to: [`super::openai_v2`] for OpenAI Chat Completions (`instrument_openai`),
//! [`super::anthropic_instrumentor`] for Anthropic Messages (`instrument_anthropic`),
//! [`super::google_genai_instrumentor`] for Gemini (`instrument_google_genai`). What they
//! share lives here: reading a body within bounds, and keeping the API key out of what they
//! record.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tracing::Span;

use super::anthropic_instrumentor::MessagesCall;
use super::google_genai_instrumentor::GenerateContentCall;
use super::openai_v2::ChatCall;
use crate::provider::sse::{SseDecoder, SseEvent};

/// The most bytes of a JSON answer kept to read it (a larger answer still reaches the caller
/// untouched; its span records no response attributes and says why in `error.type`), and the
/// most bytes of text and arguments a stream keeps for its span.
pub const MAX_JSON_BODY: usize = 64 << 20;
/// The most bytes one server-sent event may have.
const MAX_EVENT: usize = 16 << 20;
/// The most content blocks, choices or tool calls of one answer a span keeps track of (a
/// hostile index cannot make it allocate more).
pub(crate) const MAX_INDEX: u64 = 1024;

/// A request as the caller's HTTP stack sends it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// The full URL.
    pub url: &'a str,
    /// The URL's path.
    pub path: &'a str,
    /// The `Authorization` header's value, if any (kept out of everything recorded).
    pub authorization: Option<&'a str>,
    /// The `x-api-key` (Anthropic) or `x-goog-api-key` (Google) header's value, if any (kept out
    /// of everything recorded).
    pub api_key: Option<&'a str>,
    /// The body, when it is in memory.
    pub body: Option<&'a [u8]>,
}

impl HttpRequest<'_> {
    /// The API key the request carries (`Authorization: Bearer ...` or `x-api-key`).
    pub(crate) fn secret(&self) -> Option<String> {
        self.api_key
            .or_else(|| {
                self.authorization
                    .map(|a| a.trim_start_matches("Bearer ").trim())
            })
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
}

/// The runtime switch of one instrumentation (`instrument_openai()` and the others): on or off,
/// and whether it captures content (decided when switched on, as the instrumentors read their
/// variables once).
#[derive(Debug)]
pub struct Switch {
    on: AtomicBool,
    capture: AtomicBool,
}

impl Switch {
    /// Off, with `capture` as the capture setting until switched on.
    pub const fn new(capture: bool) -> Self {
        Switch {
            on: AtomicBool::new(false),
            capture: AtomicBool::new(capture),
        }
    }

    /// Turns it on or off, with content capture.
    pub fn set(&self, on: bool, capture_content: bool) {
        self.capture.store(capture_content, Ordering::SeqCst);
        self.on.store(on, Ordering::SeqCst);
    }

    /// Whether it is on.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Whether it captures content.
    pub fn captures(&self) -> bool {
        self.capture.load(Ordering::Relaxed)
    }
}

/// `text` with every occurrence of `secret` replaced by `[REDACTED]`.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if text.contains(secret) => text.replace(secret, crate::error::REDACTED),
        _ => text.to_string(),
    }
}

/// Whether `method` and `path` are a POST to a path ending in `suffix` (under any base URL).
pub(crate) fn is_post_to(method: &str, path: &str, suffix: &str) -> bool {
    method.eq_ignore_ascii_case("POST") && path.trim_end_matches('/').ends_with(suffix)
}

pub(crate) use crate::pyrepr::py_truthy as truthy;

/// An item's `index`, if below [`MAX_INDEX`].
pub(crate) fn bounded_index(item: &Value) -> Option<usize> {
    let i = item.get("index")?.as_u64().filter(|&i| i < MAX_INDEX)?;
    usize::try_from(i).ok()
}

/// Takes `n` bytes from what a stream may keep; false (and nothing taken) past the bound, so a
/// stream without end costs bounded memory.
pub(crate) fn take_budget(kept: &mut usize, n: usize) -> bool {
    match kept.checked_add(n).filter(|&k| k <= MAX_JSON_BODY) {
        Some(k) => {
            *kept = k;
            true
        }
        None => false,
    }
}

/// How an answer's body is read, with `S` the state a stream gathers.
#[derive(Debug)]
pub(crate) enum Body<S> {
    /// Kept whole: an error status's body for the message, a JSON answer for its fields.
    Buffered(Vec<u8>),
    /// Server-sent events, read as they arrive.
    Stream(Box<(SseDecoder, S)>),
    /// Past its bound, or no longer read.
    Ignored,
}

/// What feeding a stream's bytes came to.
pub(crate) enum Fed {
    /// Read on.
    Ok,
    /// The stream failed: with the SDK's message when an event said so, `None` when an event
    /// broke the decoder's bounds (the SDK's decoder fails there too).
    Failed(Option<String>),
}

impl<S> Body<S> {
    /// A stream from now on, with `state`.
    pub(crate) fn stream(state: S) -> Self {
        Body::Stream(Box::new((SseDecoder::new(MAX_EVENT), state)))
    }

    /// Feeds the bytes that arrived: kept (within [`MAX_JSON_BODY`]) or decoded into events,
    /// each handed to `event` with the stream's state until one fails.
    pub(crate) fn feed(
        &mut self,
        bytes: &[u8],
        mut event: impl FnMut(&mut S, &SseEvent) -> Result<(), String>,
    ) -> Fed {
        match self {
            Body::Buffered(buf) => {
                if buf.len().saturating_add(bytes.len()) > MAX_JSON_BODY {
                    *self = Body::Ignored;
                } else {
                    buf.extend_from_slice(bytes);
                }
                Fed::Ok
            }
            Body::Stream(state) => {
                let (decoder, stream) = &mut **state;
                let mut events = Vec::new();
                if decoder.feed(bytes, &mut events).is_err() {
                    return Fed::Failed(None);
                }
                match events.iter().find_map(|e| event(stream, e).err()) {
                    Some(message) => Fed::Failed(Some(message)),
                    None => Fed::Ok,
                }
            }
            Body::Ignored => Fed::Ok,
        }
    }

    /// Takes the body, leaving it ignored.
    pub(crate) fn take(&mut self) -> Body<S> {
        std::mem::replace(self, Body::Ignored)
    }
}

/// The call of one request, in whichever instrumentation it belongs to.
#[derive(Debug)]
pub enum ObservedCall {
    /// OpenAI Chat Completions (`instrument_openai`).
    OpenAi(ChatCall),
    /// Anthropic Messages (`instrument_anthropic`).
    Anthropic(MessagesCall),
    /// Gemini generate content (`instrument_google_genai`).
    Google(GenerateContentCall),
}

macro_rules! each {
    ($self:expr, $call:ident => $body:expr) => {
        match $self {
            ObservedCall::OpenAi($call) => $body,
            ObservedCall::Anthropic($call) => $body,
            ObservedCall::Google($call) => $body,
        }
    };
}

impl ObservedCall {
    /// Opens the span of a request an instrumentation that is on recognizes, or `None` (the
    /// request then goes through untouched).
    pub fn start(request: HttpRequest<'_>) -> Option<Self> {
        ChatCall::start(request)
            .map(ObservedCall::OpenAi)
            .or_else(|| MessagesCall::start(request).map(ObservedCall::Anthropic))
            .or_else(|| GenerateContentCall::start(request).map(ObservedCall::Google))
    }

    /// The span (the parent of anything the transport does for this call).
    pub fn span(&self) -> &Span {
        each!(self, c => c.span())
    }

    /// The answer's status arrived.
    pub fn response_started(&mut self, status: u16) {
        each!(self, c => c.response_started(status))
    }

    /// Bytes of the answer's body, as they arrive.
    pub fn body_bytes(&mut self, bytes: &[u8]) {
        each!(self, c => c.body_bytes(bytes))
    }

    /// The answer's body ended.
    pub fn body_ended(self) {
        each!(self, c => c.body_ended())
    }

    /// The exchange failed (the SDK's transport error `class`, with `message`).
    pub fn failed(self, class: &str, message: &str) {
        each!(self, c => c.failed(class, message))
    }

    /// The answer was an error status whose body the caller's stack already read.
    pub fn failed_with_status(self, status: u16, body: &[u8]) {
        each!(self, c => c.failed_with_status(status, body))
    }
}
