//! # mirascope-ops
//!
//! OpenTelemetry for `mirascope-llm`: [`configure`] installs the layers that turn mirascope's
//! `tracing` spans into OpenTelemetry spans with the GenAI semantic conventions, and
//! [`instrument_llm`] / [`uninstrument_llm`] switch GenAI spans on and off at runtime.
//!
//! ```
//! use mirascope_ops as ops;
//! // Your exporter here (OTLP, console, or `ops::testing`'s in-memory one).
//! let provider = ops::sdk::trace::SdkTracerProvider::builder().build();
//! let _guard = ops::configure(provider).unwrap();
//! ops::instrument_llm().unwrap();
//! // ... model calls now produce `chat {model_id}` spans ...
//! ```
#![warn(missing_docs)]

mod configure;
mod error;
pub mod export;
mod hooks;
mod instrument;
mod keyed_span;
mod layer;
pub mod metrics;
#[cfg(feature = "axum")]
mod middleware;
mod otel_span;
mod propagation;
mod propagators;
mod session;
mod span;
#[cfg(feature = "testing")]
pub mod testing;
mod trace;
mod tracer;

pub use configure::{configure, Configuration, OpsGuard, DEFAULT_SHUTDOWN_TIMEOUT};
pub use error::OpsError;
pub use export::configure_from_env;
pub use instrument::{
    instrument_anthropic, instrument_anthropic_with, instrument_google_genai,
    instrument_google_genai_with, instrument_llm, instrument_openai, instrument_openai_with,
    is_anthropic_instrumented, is_google_genai_instrumented, is_llm_instrumented,
    is_openai_instrumented, uninstrument_anthropic, uninstrument_google_genai, uninstrument_llm,
    uninstrument_openai, ContentCapture,
};
#[cfg(feature = "_provider-http")]
mod provider_http;
#[allow(deprecated)]
pub use layer::stepped_aside_for_another_layer;
pub use layer::{
    another_layer_records_mirascope_spans, exclude_mirascope, layer, llm_filter, ExcludeMirascope,
    LayerBuilder, LlmFilter, OpsLayer, APP_TRACER_NAME, DEFAULT_TRACER_NAME, OPS_TRACER_NAME,
};
#[cfg(feature = "axum")]
pub use middleware::{Continued, PropagationLayer, PropagationService};
pub use mirascope_llm::genai::{
    capture_content, propagate_trace_context, set_capture_content, set_propagate_trace_context,
};
/// The OpenTelemetry SDK this crate is built on (one version family with `opentelemetry`).
pub use opentelemetry_sdk as sdk;
pub use propagation::{
    extract_context, extract_session_id, inject_context, inject_span_context, propagated_context,
    propagator_format, set_propagator, Carrier, ContextSource, PropagatedGuard, PropagatorFormat,
};
#[cfg(feature = "reqwest-middleware")]
pub use provider_http::ReqwestMiddleware;
#[cfg(feature = "async-openai")]
pub use provider_http::{openai_http_service, OpenAiLayer, OpenAiService};
pub use session::{
    current_session, enter_session, in_session, new_session, session, with_current_session,
    InSession, SessionContext, SessionGuard, WithSession, SESSION_HEADER_NAME,
};
#[allow(deprecated)]
pub use span::Value;
pub use span::{current_span, span, AttributeValue, Span, NO_ATTRIBUTES};
pub use trace::{traced, traced_async, Traced, WrappedCall};
#[allow(deprecated)]
pub use trace::{BlockingTracedStream, TracedCall, TracedStream};

/// Marks a parameter whose value a traced function never records: `#[ops::sensitive]`.
pub use mirascope_ops_macros::sensitive;
/// `#[ops::trace]`: one INTERNAL span per call of the function, with Mirascope's attributes.
pub use mirascope_ops_macros::trace;
/// `#[ops::version]`: a traced function whose span also carries `mirascope.version.*`.
pub use mirascope_ops_macros::version;

/// What the attribute macros' generated code uses. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::trace::{
        arg_types_json, arg_values_json, level_enabled, qualname, records_arguments, run_traced,
        start, traced_call, ArgViaDebug, ArgViaName, ArgViaSerialize, OutViaDebug, OutViaName,
        OutViaResponse, OutViaResult, OutViaResultDebug, OutViaResultResponse,
        OutViaResultResponseLlm, OutViaResultSerialize, OutViaSerialize, Output, TraceInfo,
        TraceSpan, VersionInfo, Wrap,
    };
    pub use futures_util::FutureExt;
    pub use mirascope_llm;
    pub use tracing::Instrument;
}
