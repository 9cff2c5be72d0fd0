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
    /// A standard (`OTEL_*`) or mirascope environment variable has a value this crate does not
    /// accept.
    #[error("invalid {name}={value:?}: expected {expected}")]
    InvalidEnvVar {
        /// The variable.
        name: &'static str,
        /// Its value (or the offending item of a list).
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The configuration asks for something this build leaves out (a Cargo feature of
    /// `mirascope-ops` is off).
    #[error("{what} needs the `{feature}` feature of mirascope-ops (or of mirascope)")]
    FeatureDisabled {
        /// What was asked for.
        what: &'static str,
        /// The Cargo feature that provides it.
        feature: &'static str,
    },
    /// Telemetry was lost by the time of shutdown: spans that ended were not delivered, or
    /// metrics exports failed.
    #[error(
        "{spans} span(s) were not delivered and {} metrics export(s) failed ({stats:?})",
        stats.metric_exports_failed
    )]
    Undelivered {
        /// How many spans.
        spans: u64,
        /// The pipeline's counts.
        stats: crate::export::ExportStats,
    },
    /// Shutdown returned before the final export finished (a collector that hangs or is
    /// unreachable); the export goes on in the background until the exporter's own timeout.
    #[error(
        "shutdown did not finish within {waited:?}; the final export continues in the background"
    )]
    ShutdownTimedOut {
        /// How long shutdown waited.
        waited: std::time::Duration,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Configuration(String),
    /// The OpenTelemetry SDK reported an error (flush, shutdown, exporter setup).
    #[error("OpenTelemetry SDK error: {0}")]
    Sdk(String),
}
