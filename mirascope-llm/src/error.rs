//! The one error type of `mirascope-llm`.
//!
//! Every failure a call can meet is a variant of [`Error`], carrying what a user needs to act on it:
//! the provider, the HTTP status, the provider's own error type and message, a short excerpt of a
//! body that could not be read. Secrets (API keys, auth headers) are never part of an error.
//!
//! Layer: data (the crate docs list the layers: data, wire, call, observation).

use std::time::Duration;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many characters of an unreadable body an error keeps.
pub(crate) const EXCERPT_CHARS: usize = 500;

/// Everything that can go wrong when building, sending or reading a model call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model id is not of the form `provider/model-name`.
    #[error("invalid model id {model_id:?}: {reason}")]
    InvalidModelId {
        /// The id as given.
        model_id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No registered or built-in provider serves this model id.
    #[error("no provider serves model id {model_id:?}: known prefixes are {known}; register one with llm::Provider::new(..).register()")]
    UnknownProvider {
        /// The id as given.
        model_id: String,
        /// The prefixes that would have matched.
        known: String,
    },
    /// The provider needs an API key and none was found.
    #[error("missing API key for provider '{provider}': set the {env_var} environment variable or set one with llm::Provider::new(..).api_key(..)")]
    MissingApiKey {
        /// The provider id.
        provider: String,
        /// The environment variable that was read.
        env_var: String,
    },
    /// A call parameter has a value of the wrong type or out of its domain.
    #[error("invalid value for param '{name}': {reason}")]
    InvalidParam {
        /// The param name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request asks for something the provider's API cannot express.
    #[error("provider '{provider}' does not support {feature}")]
    FeatureNotSupported {
        /// The provider id.
        provider: String,
        /// What is unsupported.
        feature: String,
    },
    /// A base URL that cannot be one: no `http`/`https` scheme, no host, or whitespace in it.
    /// Found when the provider is registered (`Provider::base_url`) or, for a base URL from the
    /// environment, before the call's first request.
    #[error("invalid base URL {url:?} ({source_name}): {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// Where it came from: `Provider::base_url` or the environment variable's name.
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request itself is malformed (e.g. no messages, tool-call arguments that are not JSON).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The provider answered with an HTTP error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The provider did not answer in time.
    #[error("provider '{provider}': request timed out after {after:?}")]
    Timeout {
        /// The provider id.
        provider: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The connection to the provider failed (refused, reset, DNS, TLS).
    #[error("provider '{provider}': connection failed: {message}")]
    Connection {
        /// The provider id.
        provider: String,
        /// What the transport reported.
        message: String,
    },
    /// The provider's answer could not be read as its API defines it.
    #[error("provider '{provider}': malformed response: {reason} (body starts: {excerpt:?})")]
    MalformedResponse {
        /// The provider id.
        provider: String,
        /// What was wrong.
        reason: String,
        /// The first characters of the body.
        excerpt: String,
    },
    /// The answer passed the size limit (`Model::with_max_response_bytes`, default 64 MiB); it
    /// was not read further.
    #[error("provider '{provider}': the answer is larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The provider id.
        provider: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// One event of a streamed answer (or one line of it) passed the event size limit (16 MiB,
    /// or the answer limit if smaller): a server that sends bytes but never ends an event. The
    /// stream was not read further.
    #[error("provider '{provider}': a streamed event is larger than the limit of {limit} bytes")]
    EventTooLarge {
        /// The provider id.
        provider: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A stream ended with the provider saying the response failed, with no error event before
    /// (OpenAI Responses' `response.failed`; Python's `APIError`).
    #[error("{message}")]
    ResponseFailed {
        /// The provider id.
        provider: String,
        /// `OpenAI response failed: <code>: <message>`, as Python Mirascope words it.
        message: String,
    },
    /// The provider reported an error inside a stream (an SSE `error` event).
    #[error("{message}")]
    Stream {
        /// The provider id.
        provider: String,
        /// The provider's error type, e.g. `server_error`, `overloaded_error`.
        error_type: Option<String>,
        /// The provider's message.
        message: String,
    },
    /// The stream closed before the provider said it was complete.
    #[error("provider '{provider}': stream ended before completion")]
    StreamEndedEarly {
        /// The provider id.
        provider: String,
    },
    /// A tool could not be run or its output could not be encoded (Python's
    /// `ToolExecutionError`). [`crate::Response::execute_tools`] turns it into the tool's
    /// output, as Python Mirascope does, so that the model can correct itself.
    #[error("tool '{tool}': {message}")]
    Tool {
        /// The tool name.
        tool: String,
        /// What went wrong.
        message: String,
    },
    /// The model called a tool that was not offered (Python's `ToolNotFoundError`);
    /// [`crate::Response::execute_tools`] turns it into the tool's output.
    #[error("Tool '{tool}' not found in registered tools")]
    ToolNotFound {
        /// The name the model called.
        tool: String,
    },
    /// The library's background HTTP runtime could not be started or stopped mid-call.
    #[error("mirascope runtime failure: {0}")]
    Runtime(String),
}

/// Mirascope's exception classes, used for `error.type` on spans so dashboards built on Python
/// Mirascope keep working (`BadRequestError`, `RateLimitError`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// 400, and 409/422 on OpenAI.
    BadRequest,
    /// 401.
    Authentication,
    /// 403.
    Permission,
    /// 404.
    NotFound,
    /// 429.
    RateLimit,
    /// 5xx the provider's SDK calls an internal server error.
    Server,
    /// Any other provider error (Anthropic 529 `overloaded_error`, stream error events, ...).
    Provider,
    /// Transport-level failure.
    Connection,
    /// Timed out.
    Timeout,
    /// The answer could not be read.
    ResponseValidation,
    /// The request is not expressible for this provider.
    FeatureNotSupported,
    /// Bad model id, missing key, bad params: user-side errors raised before any I/O.
    Configuration,
    /// A tool's arguments could not be read or the tool failed.
    ToolExecution,
    /// An API error with no more precise class (a response that failed mid-stream).
    Api,
    /// The model called a tool that was not offered.
    ToolNotFound,
}

impl ErrorClass {
    /// The Python Mirascope class name (`mirascope.llm.exceptions.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::BadRequest => "BadRequestError",
            ErrorClass::Authentication => "AuthenticationError",
            ErrorClass::Permission => "PermissionError",
            ErrorClass::NotFound => "NotFoundError",
            ErrorClass::RateLimit => "RateLimitError",
            ErrorClass::Server => "ServerError",
            ErrorClass::Provider => "ProviderError",
            ErrorClass::Connection => "ConnectionError",
            ErrorClass::Timeout => "TimeoutError",
            ErrorClass::ResponseValidation => "ResponseValidationError",
            ErrorClass::FeatureNotSupported => "FeatureNotSupportedError",
            ErrorClass::Configuration => "ValueError",
            ErrorClass::ToolExecution => "ToolExecutionError",
            ErrorClass::Api => "APIError",
            ErrorClass::ToolNotFound => "ToolNotFoundError",
        }
    }
}

/// An HTTP error status from a provider, with the provider's own description parsed from the body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The provider id (`openai`, `anthropic`, `google`, ...).
    pub provider: String,
    /// The HTTP status code.
    pub status: u16,
    /// The provider's error type (`invalid_request_error`, `overloaded_error`, `INVALID_ARGUMENT`).
    pub error_type: Option<String>,
    /// The provider's error code, where it has one (`decimal_above_max_value`).
    pub code: Option<String>,
    /// The provider's message.
    pub message: Option<String>,
    /// The first characters of the body as received.
    pub body_excerpt: String,
    /// The parsed body, when it was JSON.
    pub body: Option<serde_json::Value>,
    /// How long the provider asked us to wait (`Retry-After`, `retry-after-ms`).
    pub retry_after: Option<Duration>,
    /// The provider's request id, when it sent one.
    pub request_id: Option<String>,
    /// Mirascope's class for this error.
    pub class: ErrorClass,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "provider '{}' answered HTTP {}",
            self.provider, self.status
        )?;
        if let Some(t) = &self.error_type {
            write!(f, " ({t})")?;
        }
        match &self.message {
            Some(m) => write!(f, ": {m}"),
            None if !self.body_excerpt.is_empty() => write!(f, ": {}", self.body_excerpt),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ApiError {}

/// What stands in for a secret in provider text.
pub(crate) const REDACTED: &str = "[REDACTED]";

fn redact_str(s: &mut String, secret: &str) {
    if s.contains(secret) {
        *s = s.replace(secret, REDACTED);
    }
}

fn redact_json(v: &mut serde_json::Value, secret: &str) {
    match v {
        serde_json::Value::String(s) => redact_str(s, secret),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| redact_json(i, secret)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|i| redact_json(i, secret)),
        _ => {}
    }
}

impl Error {
    /// This error with every occurrence of `secret` (the API key the request was sent with) in
    /// provider text replaced by `[REDACTED]`: messages, codes, body excerpts and bodies. Some
    /// providers echo the key they were given in their error bodies; it must never reach a
    /// `Display`, a `Debug`, a span or a log.
    pub(crate) fn redacted(mut self, secret: Option<&crate::secret::ApiKey>) -> Self {
        let Some(secret) = secret.map(|k| k.expose()).filter(|s| !s.is_empty()) else {
            return self;
        };
        match &mut self {
            Error::Api(e) => {
                for s in [
                    &mut e.error_type,
                    &mut e.code,
                    &mut e.message,
                    &mut e.request_id,
                ]
                .into_iter()
                .flatten()
                {
                    redact_str(s, secret);
                }
                redact_str(&mut e.body_excerpt, secret);
                if let Some(body) = &mut e.body {
                    redact_json(body, secret);
                }
            }
            Error::Connection { message, .. }
            | Error::Tool { message, .. }
            | Error::ResponseFailed { message, .. }
            | Error::Runtime(message) => redact_str(message, secret),
            Error::Stream {
                error_type,
                message,
                ..
            } => {
                redact_str(message, secret);
                if let Some(t) = error_type {
                    redact_str(t, secret);
                }
            }
            Error::MalformedResponse {
                reason, excerpt, ..
            } => {
                redact_str(reason, secret);
                redact_str(excerpt, secret);
            }
            _ => {}
        }
        self
    }

    /// A description that carries no provider or user text: what failed and how, without the
    /// provider's message, body excerpt or tool arguments (which can quote the prompt). Spans use
    /// it when content capture is off.
    pub fn content_free_message(&self) -> String {
        match self {
            Error::Api(e) => {
                let mut s = format!("provider '{}' answered HTTP {}", e.provider, e.status);
                if let Some(t) = &e.error_type {
                    s.push_str(&format!(" ({t})"));
                }
                s
            }
            Error::MalformedResponse { provider, .. } => {
                format!("provider '{provider}': malformed response")
            }
            Error::Stream {
                provider,
                error_type,
                ..
            } => match error_type {
                Some(t) => format!("provider '{provider}': stream error ({t})"),
                None => format!("provider '{provider}': stream error"),
            },
            Error::Tool { tool, .. } => format!("tool '{tool}' failed"),
            Error::ToolNotFound { tool } => format!("tool '{tool}' not found"),
            Error::ResponseFailed { provider, .. } => {
                format!("provider '{provider}': the response failed")
            }
            Error::InvalidParam { name, .. } => format!("invalid value for param '{name}'"),
            Error::InvalidRequest(_) => "invalid request".to_string(),
            Error::Connection { provider, .. } => {
                format!("provider '{provider}': connection failed")
            }
            other => other.to_string(),
        }
    }

    /// Mirascope's class for this error, as recorded in `error.type`.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Api(e) => e.class,
            Error::Timeout { .. } => ErrorClass::Timeout,
            Error::Connection { .. } => ErrorClass::Connection,
            Error::MalformedResponse { .. }
            | Error::StreamEndedEarly { .. }
            | Error::ResponseTooLarge { .. }
            | Error::EventTooLarge { .. } => ErrorClass::ResponseValidation,
            Error::Tool { .. } => ErrorClass::ToolExecution,
            Error::ResponseFailed { .. } => ErrorClass::Api,
            Error::ToolNotFound { .. } => ErrorClass::ToolNotFound,
            Error::Stream { .. } | Error::Runtime(_) => ErrorClass::Provider,
            Error::FeatureNotSupported { .. } => ErrorClass::FeatureNotSupported,
            Error::InvalidModelId { .. }
            | Error::UnknownProvider { .. }
            | Error::MissingApiKey { .. }
            | Error::InvalidParam { .. }
            | Error::InvalidBaseUrl { .. }
            | Error::InvalidRequest(_) => ErrorClass::Configuration,
        }
    }

    /// The HTTP status, for [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether a retry may succeed: 408, 409, 429, 5xx, timeouts and connection failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => matches!(e.status, 408 | 409 | 429) || e.status >= 500,
            Error::Timeout { .. } | Error::Connection { .. } => true,
            _ => false,
        }
    }

    /// How long the provider asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after,
            _ => None,
        }
    }

    pub(crate) fn malformed(provider: &str, reason: impl Into<String>, body: &[u8]) -> Self {
        Error::MalformedResponse {
            provider: provider.to_string(),
            reason: reason.into(),
            excerpt: excerpt(body),
        }
    }

    pub(crate) fn unsupported(provider: &str, feature: impl Into<String>) -> Self {
        Error::FeatureNotSupported {
            provider: provider.to_string(),
            feature: feature.into(),
        }
    }
}

/// The first [`EXCERPT_CHARS`] characters of a body, lossily decoded.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_char_boundary() {
        let long = "é".repeat(EXCERPT_CHARS + 10);
        let e = excerpt(long.as_bytes());
        assert!(e.ends_with("..."));
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 3);
        assert_eq!(excerpt(b"short"), "short");
    }

    #[test]
    fn retryable_statuses() {
        let api = |status| {
            Error::Api(Box::new(ApiError {
                provider: "openai".into(),
                status,
                error_type: None,
                code: None,
                message: None,
                body_excerpt: String::new(),
                body: None,
                retry_after: None,
                request_id: None,
                class: ErrorClass::Provider,
            }))
        };
        for s in [408, 409, 429, 500, 503, 529] {
            assert!(api(s).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!api(s).is_retryable(), "{s}");
        }
        assert_eq!(api(400).to_string(), "provider 'openai' answered HTTP 400");
    }
}
