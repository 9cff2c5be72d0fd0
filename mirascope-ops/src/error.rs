//! Errors of `mirascope-ops`.

/// What can go wrong configuring or switching the instrumentation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// `instrument_llm()` (or another operation that needs a tracer) ran before `configure()`.
    #[error("You must call `configure()` before calling `instrument_llm()`.")]
    NotConfigured,
    /// Another global `tracing` subscriber is already installed; compose `ops::layer(..)` into it.
    #[error("a global tracing subscriber is already installed; add `mirascope_ops::layer(&provider)` to your own subscriber instead of calling configure()")]
    SubscriberAlreadySet,
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Configuration(String),
    /// The OpenTelemetry SDK reported an error (flush, shutdown, exporter setup).
    #[error("OpenTelemetry SDK error: {0}")]
    Sdk(String),
}
